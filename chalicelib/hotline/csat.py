"""The caller's satisfaction (CSAT): after an answered call, one SMS in the call's language
asks for a score from 1 to 5; the caller's reply is stored once per call, on the incident's
timeline (kind `csat`).

The caller is no person of the rotas: their number finds their last answered call through
a record keyed by the number's hash (`hotline-caller:<sha256>`), kept CSAT_WINDOW_SECONDS.
A retried webhook (the same MessageSid) gets the same answer and changes nothing twice; a
second reply about the same call changes nothing and is told so.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from .. import clock, log
from ..hashing import sha256_hex
from ..incidents.records import AlreadyDone, Change, Gone, entry, idempotency, mutate, seen
from ..notify import sms
from ..notify.templates import text
from ..store import Incident

CSAT_WINDOW_SECONDS = 24 * 3600
SOURCE = "hotline"
_SCORE = re.compile(r"^(?:NOTE|SCORE|RATING|RATE)?\s*[:=]?\s*([1-5])(?:\s*/\s*5)?(?![\d.,])")


def parse_score(body: str) -> int | None:
    """'5', '5 merci', 'note 4', 'Note : 3/5' -> the score; anything else None."""
    plain = unicodedata.normalize("NFKD", body).encode("ascii", "ignore").decode().upper().strip()
    m = _SCORE.match(plain)
    return int(m.group(1)) if m else None


def _caller_key(phone: str) -> str:
    return f"hotline-caller:{sha256_hex(phone.strip())}"


def ask(inc: Incident, service_name: str, caller: str) -> None:
    """The answered call is over: ask its caller (their whole number, which the incident does
    not show) for a score.  Never fails the call's webhook: a number that cannot receive SMS
    (a landline, a hidden number) is only logged."""
    details = inc.details or {}
    lang = str(details.get("language") or "fr")
    if not caller.startswith("+") or sms.twilio_missing():
        return
    now = clock.now()
    pending = idempotency(_caller_key(caller), {"number": inc.number, "lang": lang, "at": now})
    pending.expires = int(now + CSAT_WINDOW_SECONDS + 86400)
    pending.save()  # the caller's last answered call: a newer one replaces it
    try:
        sid = sms.send(caller, text(lang, "hotline_csat_ask", service=service_name))
    except Exception as exc:  # noqa: BLE001 - Twilio refusing a number must not fail the call
        log.warning("hotline_csat_not_sent", incident=inc.number, error=str(exc)[:200])
        return
    entry(inc.number, "csat_requested", now, actor="astreinte", channel="sms",
          detail={"language": lang, "sid": sid}).save()


def answer(params: dict[str, str]) -> str | None:
    """An inbound SMS from a caller asked to score their call: the sentence to answer, or
    None when this number has no call to score (the message is not for us)."""
    pending = seen(_caller_key(params.get("From", "")))
    if not pending or clock.now() - float(pending.get("at", 0)) > CSAT_WINDOW_SECONDS:
        return None
    number, lang = int(pending["number"]), str(pending.get("lang") or "fr")
    score = parse_score(params.get("Body", ""))
    if score is None:
        return text(lang, "hotline_csat_help")
    sid = params.get("MessageSid", "")

    def change(inc: Incident) -> Change:
        return Change(entries=[entry(number, "csat", clock.now(), actor="caller", channel="sms",
                                     detail={"score": score})],
                      once=(f"hotline-csat:{number}", {"sid": sid, "score": score}), save_incident=False)

    try:
        mutate(number, change)
    except AlreadyDone as exc:
        done: dict[str, Any] = exc.answer
        if done.get("sid") == sid:  # the same message delivered again: the same answer
            return text(lang, "hotline_csat_thanks", score=done.get("score", score))
        return text(lang, "hotline_csat_already")
    except Gone:
        return None
    log.info("hotline_csat", incident=number, score=score)
    return text(lang, "hotline_csat_thanks", score=score)
