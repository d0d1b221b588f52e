"""The on-call hotline's Twilio webhooks (chalicelib.hotline): the support number's voice URL
and status callback, the call's menu, whisper, Dial and Record callbacks, and an agent's
callback to a customer.  Each request is verified as Twilio signs it before anything else,
as in routes/webhooks.py."""
from __future__ import annotations

from chalice import Blueprint, Response

from .. import replies
from ..hotline import calls
from .http import FORM, body, empty, guarded, request_url, xml

bp = Blueprint(__name__)
BASE = "/webhooks/twilio/hotline"


def _twilio_params(path: str) -> dict[str, str]:
    request = bp.current_request
    return replies.verify_twilio(request_url(request, path), body(request),
                                 request.headers.get("x-twilio-signature"))


@bp.route(BASE, methods=["POST"], content_types=[FORM])
@guarded
def hotline_incoming() -> Response:
    return xml(calls.incoming(_twilio_params(BASE)))


@bp.route(f"{BASE}/forwarded", methods=["POST"], content_types=[FORM])
@guarded
def hotline_forwarded() -> Response:
    return xml(calls.forwarded(_twilio_params(f"{BASE}/forwarded")))


@bp.route(f"{BASE}/status", methods=["POST"], content_types=[FORM])
@guarded
def hotline_status() -> Response:
    calls.ended(_twilio_params(f"{BASE}/status"))
    return empty()


@bp.route(BASE + "/menu/{lang}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_menu(lang: str) -> Response:
    return xml(calls.menu(lang, _twilio_params(f"{BASE}/menu/{lang}")))


@bp.route(BASE + "/whisper/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_whisper(ref: str) -> Response:
    return xml(calls.whisper(ref, _twilio_params(f"{BASE}/whisper/{ref}")))


@bp.route(BASE + "/accept/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_accept(ref: str) -> Response:
    return xml(calls.accept(ref, _twilio_params(f"{BASE}/accept/{ref}")))


@bp.route(BASE + "/dial/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_dial(ref: str) -> Response:
    return xml(calls.dialed(ref, _twilio_params(f"{BASE}/dial/{ref}")))


@bp.route(BASE + "/voicemail/{number}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_voicemail(number: str) -> Response:
    return xml(calls.voicemail(number, _twilio_params(f"{BASE}/voicemail/{number}")))


@bp.route(BASE + "/transcription/{number}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_transcription(number: str) -> Response:
    calls.transcription(number, _twilio_params(f"{BASE}/transcription/{number}"))
    return empty()


@bp.route(BASE + "/callback/{attempt}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_callback(attempt: str) -> Response:
    return xml(calls.callback(attempt, _twilio_params(f"{BASE}/callback/{attempt}")))


@bp.route(BASE + "/callback/dial/{number}", methods=["POST"], content_types=[FORM])
@guarded
def hotline_callback_dial(number: str) -> Response:
    return xml(calls.callback_dialed(number, _twilio_params(f"{BASE}/callback/dial/{number}")))
