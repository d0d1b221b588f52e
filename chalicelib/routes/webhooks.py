"""Providers calling us back: Twilio (SMS replies, voice TwiML and keys, delivery status) and
Slack (buttons).  Each request is verified as its provider signs it before anything else."""
from __future__ import annotations

from chalice import Blueprint, Response

from .. import config, replies
from .http import FORM, body, empty, guarded, xml

bp = Blueprint(__name__)


def _twilio_params(path: str) -> dict[str, str]:
    request = bp.current_request
    url = f"{config.settings().public_url}{path}"
    return replies.verify_twilio(url, body(request), request.headers.get("x-twilio-signature"))


@bp.route("/webhooks/twilio/sms", methods=["POST"], content_types=[FORM])
@guarded
def twilio_sms() -> Response:
    return xml(replies.sms_received(_twilio_params("/webhooks/twilio/sms")))


@bp.route("/webhooks/twilio/voice/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_voice(ref: str) -> Response:
    _twilio_params(f"/webhooks/twilio/voice/{ref}")
    return xml(replies.voice_answered(ref))


@bp.route("/webhooks/twilio/gather/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_gather(ref: str) -> Response:
    return xml(replies.voice_key(ref, _twilio_params(f"/webhooks/twilio/gather/{ref}")))


@bp.route("/webhooks/twilio/status/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_status(ref: str) -> Response:
    replies.status_callback(ref, _twilio_params(f"/webhooks/twilio/status/{ref}"))
    return empty()


@bp.route("/webhooks/slack/interactivity", methods=["POST"], content_types=[FORM])
@guarded
def slack_interactivity() -> Response:
    request = bp.current_request
    payload = replies.verify_slack(body(request), request.headers.get("x-slack-request-timestamp"),
                                   request.headers.get("x-slack-signature"))
    replies.slack_clicked(payload)
    return empty(200)
