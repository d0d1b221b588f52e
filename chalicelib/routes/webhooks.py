"""Providers calling us back: Twilio (SMS replies, voice TwiML and keys, delivery status) and
Slack (buttons, and the modals they open).  Each request is verified as its provider signs it
before anything else."""
from __future__ import annotations

from chalice import Blueprint, Response

from .. import replies, store
from ..notify import sms, voice
from ..notify.templates import text
from .http import FORM, body, empty, guarded, json_response, request_url, xml

bp = Blueprint(__name__)


def _twilio_params(path: str) -> dict[str, str]:
    request = bp.current_request
    return replies.verify_twilio(request_url(request, path), body(request),
                                 request.headers.get("x-twilio-signature"))


@bp.route("/webhooks/twilio/sms", methods=["POST"], content_types=[FORM])
@guarded
def twilio_sms() -> Response:
    params = _twilio_params("/webhooks/twilio/sms")
    try:
        return xml(replies.sms_received(params))
    except Exception as exc:
        if not store.unavailable(exc):
            raise
        # Twilio does not retry a failed SMS webhook: tell the person to send it again.
        return xml(sms.reply(text("fr", "try_again")))


@bp.route("/webhooks/twilio/voice/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_voice(ref: str) -> Response:
    _twilio_params(f"/webhooks/twilio/voice/{ref}")
    return xml(replies.voice_answered(ref))


@bp.route("/webhooks/twilio/gather/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_gather(ref: str) -> Response:
    params = _twilio_params(f"/webhooks/twilio/gather/{ref}")
    try:
        return xml(replies.voice_key(ref, params))
    except Exception as exc:
        if not store.unavailable(exc):
            raise
        return xml(voice.say(text("fr", "try_again"), "fr"))  # the key was not recorded: press it again


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
    if payload.get("type") == "view_submission":  # a modal of ours submitted (the Note button's)
        said = replies.slack_submitted(payload)
        return empty(200) if said is None else json_response(200, said)
    try:
        replies.slack_clicked(payload)
    except Exception as exc:
        if not store.unavailable(exc):
            raise
        replies.slack_try_again(payload)
    return empty(200)
