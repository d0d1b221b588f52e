"""What every route shares: reading the request, answering JSON/CSV/XML, and turning the
errors services raise (chalicelib.errors) into 4xx JSON bodies, so that no route catches
them one by one and the service never answers a traceback."""
from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError
from chalice import Response
from chalice.app import Request
from pynamodb.exceptions import PynamoDBException

from .. import config, errors, log, metrics, store, text, tokens
from ..rotas import directory

FORM = "application/x-www-form-urlencoded"
JSON_TYPES = ["application/json", "text/plain", FORM, "application/octet-stream"]
MAX_QUERY_NUMBER = 10**9


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": code, "message": message})


def xml(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"})


def empty(status: int = 204) -> Response:
    return Response(body="", status_code=status)


def csv(body: str, filename: str) -> Response:
    return Response(body=body, status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{filename}"'})


# The request's language, for its error messages: Accept-Language (remember_language), else
# the language of the person its token acts for (caller()).
_asked_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("asked_language", default=None)
_caller_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("caller_language", default=None)


def language() -> str | None:
    """The language to answer this request in, or None when nothing says."""
    return _asked_language.get() or _caller_language.get()


def asked_language(header: str | None) -> str | None:
    """The first of fr or en an Accept-Language header names ("fr-FR,fr;q=0.9,en;q=0.8": fr)."""
    for tag in (header or "").lower().split(","):
        code = tag.split(";")[0].strip()[:2]
        if code in ("fr", "en"):
            return code
    return None


def remember_language(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice middleware: each request starts knowing only its Accept-Language."""
    headers: Mapping[str, str] = event.headers or {}
    _asked_language.set(asked_language(headers.get("accept-language")))
    _caller_language.set(None)
    return get_response(event)


def guarded(fn: Callable[..., Response]) -> Callable[..., Response]:
    """Answer every known failure as JSON, from the one table in chalicelib.errors, in the
    caller's language when it is known."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)
        except errors.ServiceError as exc:
            status, body, headers = errors.http_answer(exc, language())
            return json_response(status, body, headers)
        except (PynamoDBException, BotoCoreError) as exc:
            if store.too_large(exc):
                return error(413, "event_too_large", TOO_LARGE)
            if store.key_too_long(exc):
                return error(400, "identifier_too_long", "an identifier in the request is too long to be "
                                                         "anything stored here / identifiant trop long")
            if not store.unavailable(exc):
                _unexpected(fn.__name__, exc)
                raise  # a refusal we did not expect is a bug: a 500, and its traceback in the logs
            log.error("store_unavailable", route=fn.__name__, error=f"{type(exc).__name__}: {exc}"[:300])
            status, answer, headers = errors.http_answer(STORE_DOWN, language())
            return json_response(status, answer, headers)
        except Exception as exc:
            _unexpected(fn.__name__, exc)
            raise
    return wrapper


def _unexpected(route: str, exc: BaseException) -> None:
    """A 500 is on its way: logged and counted (HandlerErrors raises an alarm), as Chalice's own
    answer leaves Lambda's error count at 0."""
    log.error("unexpected_error", route=route, error=f"{type(exc).__name__}: {exc}"[:300])
    metrics.count("HandlerErrors")


TOO_LARGE = ("the event is too large to store (one DynamoDB item holds 400 KB): send smaller details / "
             "détails trop volumineux")
STORE_DOWN = errors.Unavailable(
    "the store did not answer in time: nothing was stored, send it again / le stockage n'a pas répondu à "
    "temps : rien n'a été enregistré, renvoyez la requête", code="store_unavailable", retry_after=5)


def request_url(request: Request, path: str) -> str:
    """The URL this request came to, as its caller signed it (Twilio signs the URL it called):
    behind API Gateway, its domain and path (the stage or a custom domain's base path
    included); locally, the public URL and the path."""
    context = request.context or {}
    domain, full_path = context.get("domainName"), context.get("path")
    if domain and full_path:
        return f"https://{domain}{full_path}"
    return f"{config.settings().public_url}{path}"


def learn_public_url(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice middleware: the first request tells a container its own URL
    (https://<api id>.execute-api.<region>.amazonaws.com/<stage>), for the links and
    callbacks it then sends, until the stage's secret or ASTREINTE_PUBLIC_URL names one."""
    context = event.context or {}
    domain, stage = context.get("domainName") or "", context.get("stage")
    if domain.endswith(".amazonaws.com") and stage:
        config.learn_public_url(f"https://{domain}/{stage}")
    return get_response(event)


def body(request: Request) -> bytes:
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    limit = config.settings().max_body_bytes
    if len(raw) > limit:
        raise errors.TooLarge(f"the body is {len(raw)} bytes; the limit is {limit} / corps trop volumineux")
    return raw


def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is {})."""
    try:
        doc = text.parse_json(body(request) or b"{}")
    except text.BadJson as exc:
        raise errors.BadRequest(f"the body is not JSON / le corps n'est pas du JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise errors.BadRequest("the body must be a JSON object")
    return doc


def caller(request: Request) -> str:
    """The person an API token acts for."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    person = tokens.person_for(token) if token else None
    if person is None:
        raise errors.Unauthorised("send 'Authorization: Bearer <token>' with a valid API token / "
                                  "envoyez 'Authorization: Bearer <jeton>' avec un jeton d'API valide")
    _caller_language.set(directory.language_of(person))
    return person


def query(request: Request, name: str) -> str | None:
    params: Mapping[str, str] = request.query_params or {}
    value = params.get(name)
    return None if value is None else text.clean(str(value))


def int_query(request: Request, name: str, default: int, low: int = 1,
              high: int = MAX_QUERY_NUMBER) -> int:
    value = query(request, name)
    if value is None:
        return default
    number = text.whole_number(value, low, high)
    if number is None:
        raise errors.BadRequest(f"'{name}' must be a whole number from {low} to {high}, not {value[:20]!r} / "
                                f"'{name}' doit être un nombre entier de {low} à {high}")
    return number


def wants_csv(request: Request) -> bool:
    fmt = query(request, "format") or "json"
    if fmt not in ("json", "csv"):
        raise errors.BadRequest(f"'format' is json or csv, not {fmt[:20]!r}")
    return fmt == "csv"


def incident_number(value: str) -> int:
    """An incident number from a path, or 404 (a number people type: ASCII digits, bounded)."""
    number = text.whole_number(value, 1, 10**12)
    if number is None:
        raise errors.NotFound(f"there is no incident #{value[:20]} / aucun incident #{value[:20]}",
                              code="no_incident")
    return number


def no_route(method: str, path: str, routes: Mapping[str, Mapping[str, Any]],
             lang: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Our answer to a request no route takes (status, JSON body, headers): 405 naming the
    methods when the path is a route's, 404 naming the path otherwise.  The local server
    answers with it; behind API Gateway its gateway responses say the same
    (scripts/finish_template.py)."""
    path = text.clean(path.split("?", 1)[0])[:200]
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    allowed = sorted({m for pattern, methods in routes.items() if _matches(pattern, parts) for m in methods})
    method, takes = method[:10], ", ".join(allowed)
    if allowed:
        error = errors.ServiceError(f"{path} takes {takes}, not {method} (see /openapi.json) / "
                                    f"{path} accepte {takes}, pas {method} (voir /openapi.json)",
                                    code="method_not_allowed")
        _, body, _ = errors.http_answer(error, lang)
        return 405, body, {"Allow": takes}
    error = errors.ServiceError(f"there is no route {method} {path}: the API's routes are in /openapi.json / "
                                f"aucune route {method} {path} : les routes de l'API sont dans /openapi.json",
                                code="no_route")
    _, body, _ = errors.http_answer(error, lang)
    return 404, body, {}


def _matches(pattern: str, parts: list[str]) -> bool:
    want = pattern.rstrip("/").split("/") if pattern != "/" else [""]
    return len(want) == len(parts) and all(w == p or (w.startswith("{") and w.endswith("}") and p != "")
                                           for w, p in zip(want, parts, strict=True))
