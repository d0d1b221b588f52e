"""The kinds of failure a caller can be told about, and their one mapping to HTTP.

Services raise these in the caller's words (service, rota, shift, incident); the routes
never catch them one by one: chalicelib.routes.http turns each into a 4xx/5xx JSON body
`{"error": code, "message": ...}` from the table below.  `code` says what went wrong in a
word a script can test; the message names the field or the thing, in French and English
where a person reads it.
"""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A failure the caller can act on; `code` defaults to the kind's own."""

    code = "error"

    def __init__(self, message: str, code: str | None = None, **extra: Any):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.extra = extra  # more fields for the JSON answer


class BadRequest(ServiceError, ValueError):
    """The request cannot be answered as asked (a field, a query, a body)."""

    code = "bad_request"


class Unauthorised(ServiceError):
    """No valid credential (an API token)."""

    code = "unauthorised"


class Forbidden(ServiceError, PermissionError):
    """A valid caller who may not do this, or a credential that does not hold."""

    code = "forbidden"


class BadSignature(Forbidden):
    """A webhook not signed by who it claims to come from (Twilio, Slack, SNS)."""

    code = "bad_signature"


class NotFound(ServiceError, LookupError):
    """No such incident, rota, person, service, feed, key."""

    code = "not_found"


class Conflict(ServiceError):
    """The thing is no longer in a state that allows this."""

    code = "conflict"


class Unprocessable(ServiceError):
    """Well-formed, but it contradicts what was sent before (an Idempotency-Key reused)."""

    code = "unprocessable"


class TooLarge(ServiceError):
    """A body or an event over a limit."""

    code = "body_too_large"


class RateLimited(ServiceError):
    """Over a key's allowance; retry after `retry_after` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamFailed(ServiceError):
    """A service we depend on answered badly (an SNS subscription to confirm, say)."""

    code = "upstream_failed"


class Unavailable(ServiceError):
    """We cannot serve now (nothing configured yet, a store that does not answer)."""

    code = "unavailable"

    def __init__(self, message: str, code: str | None = None, retry_after: int | None = None, **extra: Any):
        super().__init__(message, code, **extra)
        self.retry_after = retry_after


HTTP_STATUS: dict[type[ServiceError], int] = {
    BadRequest: 400,
    Unauthorised: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Unprocessable: 422,
    RateLimited: 429,
    UpstreamFailed: 502,
    Unavailable: 503,
}


def http_answer(exc: ServiceError, lang: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, JSON body, extra headers) for a failure: the one mapping to HTTP.  `lang`:
    the caller's language when known (their token's person, Accept-Language)."""
    status = next((s for kind, s in HTTP_STATUS.items() if isinstance(exc, kind)), 500)
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return status, {"error": exc.code, **worded(str(exc), lang), **exc.extra}, headers


def worded(message: str, lang: str | None) -> dict[str, Any]:
    """A message written "in English / en français": `message` in the caller's language
    (both when it is not known: a monitoring tool reads no French), and `messages` with each.
    The halves are cut at the first " / " outside quotes, as values the caller sent are
    quoted ('…' or "…", as !r writes them) and may hold one.  A message with no such
    separator (in one language only) is that message for everyone."""
    cut = _separator(message)
    if cut is None:
        return {"message": message}
    english, french = message[:cut], message[cut + len(SEPARATOR):]
    return {"message": {"en": english, "fr": french}.get(lang or "", message),
            "messages": {"en": english, "fr": french}}


SEPARATOR = " / "


def _separator(message: str) -> int | None:
    """Where the first " / " outside quotes starts, or None.  A quote opens on ' or " that
    does not follow a letter or digit (an apostrophe inside a word, "API's", "n'est", opens
    nothing) and closes on the same character; a backslash escapes the next one, as in repr.
    A quote left open to the end counts for nothing: the first " / " then."""
    quote: str | None = None
    i = 0
    while i < len(message):
        char = message[i]
        if quote is not None:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"" and not (i and message[i - 1].isalnum()):
            quote = char
        elif message.startswith(SEPARATOR, i) and i and i + len(SEPARATOR) < len(message):
            return i
        i += 1
    if quote is not None:  # a quote never closed (a value cut after quoting): quotes say nothing
        first = message.find(SEPARATOR, 1)
        return first if 0 < first < len(message) - len(SEPARATOR) else None
    return None
