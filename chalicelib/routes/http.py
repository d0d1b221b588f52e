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


def json_response(status: int, body: dict[str, Any],
                  headers: Mapping[str, str | list[str]] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


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
    """fr or en, whichever an Accept-Language header weighs more (RFC 9110: q from 0 to 1,
    1 when not given; q=0 is "not this one"; the first named wins a tie), or None:
    "fr-FR,fr;q=0.9,en;q=0.8" is fr, "en;q=0.1, fr;q=0.9" fr, "fr;q=0, en" en."""
    best, best_weight = None, 0.0
    for item in (header or "").lower().split(","):
        tag, *params = (part.strip() for part in item.split(";"))
        code = tag.split("-")[0]
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0  # a weight we cannot read: not an answer to trust
        if code in ("fr", "en") and 0 < weight <= 1 and weight > best_weight:
            best, best_weight = code, weight
    return best


def remember_language(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice middleware: each request starts knowing only its Accept-Language; and what
    Chalice refuses itself before any route runs is our JSON, in that language (on Lambda
    too: this runs around Chalice's routing)."""
    headers: Mapping[str, str] = event.headers or {}
    _asked_language.set(asked_language(headers.get("accept-language")))
    _caller_language.set(None)
    return in_our_words(get_response(event), headers)


def in_our_words(response: Response, headers: Mapping[str, str]) -> Response:
    """Chalice's own 415 (`{"Code": "UnsupportedMediaType", "Message": …}`, a Content-Type
    the route does not list) as our `{"error", "message"}`; any other answer as it is."""
    chalice_code = response.body.get("Code") if isinstance(response.body, dict) else None
    if response.status_code != 415 or chalice_code != "UnsupportedMediaType":
        return response
    sent = text.clean(headers.get("content-type", "application/json"))[:100]
    refused = errors.ServiceError(
        f"this route does not read a body of type {sent!r}: send JSON (see /openapi.json) / "
        f"cette route ne lit pas un corps de type {sent!r} : envoyez du JSON (voir /openapi.json)",
        code="unsupported_media_type")
    _, answer, _ = errors.http_answer(refused, language())
    kept = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}  # CORS
    return json_response(415, answer, kept)


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
            refusal: errors.ServiceError
            if store.too_large(exc):
                refusal = EVENT_TOO_LARGE
            elif store.key_too_long(exc):
                refusal = IDENTIFIER_TOO_LONG
            elif store.unavailable(exc):
                log.error("store_unavailable", route=fn.__name__, error=f"{type(exc).__name__}: {exc}"[:300])
                refusal = STORE_DOWN
            else:
                _unexpected(fn.__name__, exc)
                raise  # a refusal we did not expect is a bug: a 500, and its traceback in the logs
            status, answer, headers = errors.http_answer(refusal, language())
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


EVENT_TOO_LARGE = errors.TooLarge(
    "the event is too large to store (one DynamoDB item holds 400 KB): send smaller details / "
    "l'événement est trop volumineux pour être enregistré (un élément DynamoDB contient 400 Ko) : "
    "envoyez des détails plus courts", code="event_too_large")
IDENTIFIER_TOO_LONG = errors.BadRequest(
    "an identifier in the request is too long to be anything stored here / un identifiant de la "
    "requête est trop long pour désigner quoi que ce soit d'enregistré ici", code="identifier_too_long")
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
        raise errors.BadRequest(f"the body is not JSON: {exc} / le corps n'est pas du JSON : {exc}") from exc
    if not isinstance(doc, dict):
        raise errors.BadRequest("the body must be a JSON object / le corps doit être un objet JSON")
    return doc


def caller(request: Request) -> str:
    """The person an API token acts for."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    person = tokens.person_for(token) if token else None
    if person is None and auth.lower().startswith("token "):  # PagerDuty's REST API style
        raise errors.Unauthorised("'Authorization: Token token=…' is PagerDuty's way: send 'Authorization: "
                                  "Bearer <token>' with an Astreinte API token / 'Authorization: Token "
                                  "token=…' est la façon de PagerDuty : envoyez 'Authorization: Bearer "
                                  "<jeton>' avec un jeton d'API Astreinte")
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


def request_language(headers: Mapping[str, str]) -> str | None:
    """The language of a request no route takes: Accept-Language, else the language of the
    person a valid Bearer token acts for (as a route's answer would be), else None."""
    asked = asked_language(headers.get("accept-language"))
    auth = headers.get("authorization") or ""
    if asked or not auth.lower().startswith("bearer "):
        return asked
    try:
        person = tokens.person_for(auth[7:].strip())
    except (errors.ServiceError, PynamoDBException, BotoCoreError):  # expired, or no store: no matter
        return None
    return directory.language_of(person) if person else None


def route_for(path: str, routes: Mapping[str, Any]) -> str | None:
    """The route pattern that takes `path`, as Chalice's router (chalice.local.RouteMatcher)
    and API Gateway pick it: one trailing slash dropped, the patterns in sorted order (so
    /v1/feeds/rotate before /v1/feeds/{token}), the first that matches (a {capture} takes a
    segment that is not empty: /v1/incidents//note is no route's); None for none."""
    path = path.split("?", 1)[0]
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    parts = path.split("/")
    return next((pattern for pattern in sorted(routes) if _matches(pattern.split("/"), parts)), None)


def _matches(pattern: list[str], parts: list[str]) -> bool:
    """A route's segments against a path's: equal, or a {capture} taking a segment not empty."""
    return len(pattern) == len(parts) and all(
        p == w or (w.startswith("{") and w.endswith("}") and p != "")
        for w, p in zip(pattern, parts, strict=True))


def routed(method: str, path: str, routes: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether a route takes this method on this path (OPTIONS on any route's path: Chalice
    answers it, as API Gateway answers CORS preflights)."""
    route = route_for(path, routes)
    return route is not None and (method in routes[route] or method == "OPTIONS")


def no_route(method: str, path: str, routes: Mapping[str, Mapping[str, Any]],
             lang: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Our answer to a request no route takes (status, JSON body, headers): 405 naming the
    methods of the route that takes the path (route_for), 404 naming the method and the path
    when none does (or, never to say "takes GET, not GET", when its route takes the method).
    The local server answers with it; behind API Gateway its gateway responses say the same
    (scripts/finish_template.py)."""
    route = route_for(path, routes)
    allowed = sorted(routes[route]) if route is not None else []
    # As a URL shows it: quotes %-escaped, so that the message's halves are cut where they meet.
    shown = text.clean(path.split("?", 1)[0])[:200].replace("'", "%27").replace('"', "%22")
    method = method[:10]
    if allowed and method not in allowed:
        takes = ", ".join(allowed)
        refused = errors.ServiceError(f"{shown} takes {takes}, not {method} (see /openapi.json) / "
                                      f"{shown} accepte {takes}, pas {method} (voir /openapi.json)",
                                      code="method_not_allowed")
        return 405, errors.http_answer(refused, lang)[1], {"Allow": takes}
    missing = errors.ServiceError(
        f"there is no route {method} {shown}: the API's routes are in /openapi.json / "
        f"aucune route {method} {shown} : les routes de l'API sont dans /openapi.json", code="no_route")
    return 404, errors.http_answer(missing, lang)[1], {}
