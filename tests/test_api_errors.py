"""Errors as people and scripts read them: a route or a method that does not exist is our
JSON naming it (locally and behind API Gateway), and messages come in the caller's language."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import requests
from chalice.local import RouteMatcher
from conftest import ROOT, Api

from chalicelib import errors, tokens
from chalicelib.routes import http

sys.path.insert(0, str(Path(ROOT) / "scripts"))
import finish_template  # noqa: E402  (scripts/finish_template.py)


def test_a_path_no_route_takes_is_a_404_naming_it(api: Api) -> None:
    r = requests.get(f"{api.base}/v1/incident/12", timeout=10)  # (a typo: incidents)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["error"] == "no_route"
    assert "GET /v1/incident/12" in body["messages"]["en"] and "/openapi.json" in body["messages"]["en"]
    assert body["messages"]["fr"].startswith("aucune route GET /v1/incident/12")
    french = requests.get(f"{api.base}/nowhere", headers={"Accept-Language": "fr-FR,fr;q=0.9"}, timeout=10)
    assert french.status_code == 404 and french.json()["message"].startswith("aucune route GET /nowhere")


def test_a_method_a_route_does_not_take_is_a_405_naming_the_ones_it_does(api: Api) -> None:
    r = requests.delete(f"{api.base}/v1/incidents", timeout=10, headers={"Accept-Language": "en"})
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    assert r.json() == {"error": "method_not_allowed", "message": "/v1/incidents takes GET, not DELETE "
                        "(see /openapi.json)", "messages": r.json()["messages"]}
    enqueue = requests.get(f"{api.base}/v2/enqueue", timeout=10)
    assert enqueue.status_code == 405 and enqueue.headers["Allow"] == "POST"
    assert "accepte POST, pas GET" in enqueue.json()["messages"]["fr"]


def test_people_read_the_api_s_messages_in_their_language(api: Api) -> None:
    def bad_state(token: str, **headers: str) -> dict:
        r = api.http.get(f"{api.base}/v1/incidents", params={"state": "ouvert"}, timeout=10,
                         headers={"Authorization": f"Bearer {token}", **headers})
        assert r.status_code == 400
        return r.json()

    carol = bad_state(api.token)  # Carol reads French (tests/rotas/team.yaml)
    assert carol["message"].startswith("'state' accepte open") and carol["message"] == \
        carol["messages"]["fr"]
    bob = bad_state(tokens.create("bob", "tests"))  # Bob reads English
    assert bob["message"].startswith("'state' takes open")
    assert bad_state(api.token, **{"Accept-Language": "en-GB"})["message"] == bob["message"]  # asked for
    nobody = requests.get(f"{api.base}/v1/incidents", timeout=10)  # no token: both
    assert nobody.status_code == 401 and "Bearer <token>" in nobody.json()["message"] \
        and "jeton" in nobody.json()["message"]


def _auth(api: Api, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token}", **headers}


def _gateway_responses() -> dict:
    sam = {"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {}}}}}
    return finish_template.finish(sam, "prod")["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"]


def _filled(template: str, context: dict[str, str]) -> str:
    """A gateway response as API Gateway sends it: its variables substituted, nothing escaped."""
    return re.sub(r"\$context\.[A-Za-z.]+", lambda m: context[m.group(0)], template)


@pytest.mark.parametrize("path", ["/prod/v1/incident/12", '/prod/a"b', "/prod/a\\b", "/prod/a / b"])
def test_api_gateway_answers_our_json_for_routes_that_do_not_exist(path: str) -> None:
    """Gateway responses do no escaping: the path a caller chose stays out of them (a double
    quote or a backslash in it would break the JSON); the method is named."""
    responses = _gateway_responses()
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == 404
    # An unknown path called with `Authorization: Bearer …` (not SigV4) is this one on AWS.
    assert responses["INCOMPLETE_SIGNATURE"] == missing
    context = {"$context.httpMethod": "GET", "$context.path": path,
               "$context.error.messageString": json.dumps('Request too large "x"')}
    for kind, response in responses.items():  # valid JSON once API Gateway fills its variables in
        body = json.loads(_filled(response["responseTemplates"]["application/json"], context))
        assert set(body) == {"error", "message"}, kind
    body = json.loads(_filled(missing["responseTemplates"]["application/json"], context))
    assert body["error"] == "no_route" and "no route GET for this path" in body["message"]
    assert "aucune route GET pour ce chemin" in body["message"]


# ---------------------------------------------------------------- messages, in a language

def test_a_value_holding_the_separator_does_not_cut_the_message_in_the_wrong_place(api: Api) -> None:
    """`worded` cuts at the first " / " outside quotes: a value the caller sent that holds one
    (a query parameter, an incident number behind API Gateway, which decodes %2F) stays in
    its half.  Carol reads French."""
    r = api.http.get(f"{api.base}/v1/incidents", params={"limit": "1 / 2"}, headers=_auth(api), timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["message"].startswith("'limit' doit être"), body
    assert body["messages"]["en"].startswith("'limit' must be a whole number") and \
        "doit" not in body["messages"]["en"], body


def test_an_english_only_message_holding_the_separator_stays_whole(api: Api) -> None:
    r = api.http.get(f"{api.base}/v1/incidents", params={"format": "a / b"}, headers=_auth(api), timeout=10)
    assert r.status_code == 400
    assert "'format'" in r.json()["message"], r.json()


def test_worded_alone_keeps_a_value_s_separator_in_its_language() -> None:
    value = "a / b"
    body = errors.http_answer(errors.BadRequest(f"no such thing {value!r} / rien de tel {value!r}"), "en")[1]
    assert body["message"] == "no such thing 'a / b'", body
    assert body["messages"]["fr"] == "rien de tel 'a / b'"
    quoted = errors.worded('no "x / y" here / pas de "x / y" ici', "fr")  # double quotes too
    assert quoted["message"] == 'pas de "x / y" ici', quoted
    # An apostrophe inside a word quotes nothing: the separator after it still cuts.
    assert errors.worded("the API's routes / les routes de l'API", "fr")["message"] == "les routes de l'API"


def test_the_json_parser_s_reason_reaches_english_readers_too(api: Api) -> None:
    r = api.http.post(f"{api.base}/v1/incidents/1/note", data=b'{"text": ', timeout=10,
                      headers=_auth(api, **{"Accept-Language": "en", "Content-Type": "application/json"}))
    assert r.status_code == 400, r.text
    en = r.json()["message"]
    fr = r.json()["messages"]["fr"]
    reason = fr.split("JSON", 1)[1].strip(" :")
    assert reason and reason in en, (en, fr)


def test_accept_language_weights_decide_not_the_order() -> None:
    """RFC 9110: q-values rank the languages; q=0 means "not this one"."""
    assert http.asked_language("en;q=0.1, fr;q=0.9") == "fr"
    assert http.asked_language("fr;q=0, en") == "en"
    assert http.asked_language("fr-FR,fr;q=0.9,en;q=0.8") == "fr"
    assert http.asked_language("de, en;q=0.5") == "en"
    assert http.asked_language("de, *") is None


# ---------------------------------------------------------------- routes and methods

def test_an_unknown_route_called_with_a_token_is_our_404_too(api: Api) -> None:
    """Every API call carries `Authorization: Bearer …`: chalice.local would answer its other
    403 ("Authorization header requires 'Credential' parameter … Authorization=<the token>");
    the local server decides from the routes instead.  (On AWS that case is the gateway
    response INCOMPLETE_SIGNATURE: the gateway test above.)  The 404 is in the token's
    person's language when Accept-Language says nothing: Carol reads French."""
    r = requests.get(f"{api.base}/v1/incident/12", headers=_auth(api), timeout=10)
    assert r.status_code == 404, (r.status_code, r.text)
    assert r.json()["error"] == "no_route"
    assert api.token not in r.text
    assert r.json()["message"].startswith("aucune route GET /v1/incident/12"), r.json()
    english = requests.get(f"{api.base}/v1/incident/12", headers=_auth(api, **{"Accept-Language": "en"}),
                           timeout=10)
    assert english.json()["message"].startswith("there is no route GET /v1/incident/12")


def test_two_trailing_slashes_on_a_get_route_are_not_a_405_saying_it_takes_get(api: Api) -> None:
    """chalice.local and API Gateway strip one trailing slash: /health// is no route's path."""
    r = requests.get(f"{api.base}/health//", timeout=10, headers={"Accept-Language": "en"})
    assert not (r.status_code == 405 and "GET" in r.headers.get("Allow", "").split(", ")), \
        (r.status_code, r.headers.get("Allow"), r.text)
    assert r.status_code == 404 and r.json()["error"] == "no_route"
    assert requests.get(f"{api.base}/health/", timeout=10).status_code not in (404, 405)  # one is dropped


def test_no_route_never_says_a_route_does_not_take_a_method_it_takes() -> None:
    routes = {"/health": {"GET": None}}
    assert http.routed("GET", "/health/", routes) and not http.routed("GET", "/health//", routes)
    status, body, headers = http.no_route("GET", "/health", routes, "en")
    assert status == 404 and body["error"] == "no_route" and not headers


def test_allow_names_the_methods_of_the_route_that_took_the_path(api: Api) -> None:
    """/v1/feeds/rotate (POST) takes the path before /v1/feeds/{token} (DELETE), locally and
    behind API Gateway: Allow names POST only, and a DELETE there is refused too."""
    r = requests.get(f"{api.base}/v1/feeds/rotate", timeout=10)
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST", r.headers["Allow"]
    delete = requests.delete(f"{api.base}/v1/feeds/rotate", timeout=10)
    assert delete.status_code in (404, 405) and "DELETE" not in delete.headers.get("Allow", "")


def test_our_route_matching_is_chalice_s() -> None:
    """http.route_for picks the route chalice.local's RouteMatcher picks (sorted, first match,
    one trailing slash dropped), for every route's path and a few that are no route's."""
    import app

    routes = app.app.routes
    paths = [p.replace("{", "x").replace("}", "") for p in routes] + [
        "/v1/feeds/rotate", "/v1/feeds/rotate/", "/health//", "/", "/nowhere", "/v1/incidents/12/note?x=1"]
    matcher = RouteMatcher(list(routes))
    for path in paths:
        try:
            theirs: str | None = matcher.match_route(path).route
        except ValueError:
            theirs = None
        assert http.route_for(path, routes) == theirs, path


def test_a_head_refused_leaves_the_connection_usable(api: Api) -> None:
    """A HEAD's answer has no body: one written would start the next answer on a kept-alive
    connection (BadStatusLine)."""
    session = requests.Session()
    refused = session.head(f"{api.base}/v1/incidents", timeout=10)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET"
    assert session.head(f"{api.base}/nowhere", timeout=10).status_code == 404
    assert session.get(f"{api.base}/openapi.json", timeout=10).status_code == 200  # (/health wants a token)


def test_an_unsupported_content_type_is_our_json(api: Api) -> None:
    """Chalice's own 415 ({"Code": "UnsupportedMediaType", "Message": …}) for a body type a
    route does not list is rewritten by our middleware, so on Lambda too."""
    r = requests.post(f"{api.base}/v1/incidents/1/note", data=b"<x/>", timeout=10,
                      headers=_auth(api, **{"Content-Type": "application/xml"}))
    assert r.status_code == 415
    assert {"error", "message"} <= set(r.json()), r.text
    body = r.json()
    assert body["error"] == "unsupported_media_type" and "'application/xml'" in body["messages"]["en"]
    assert "'application/xml'" in body["messages"]["fr"]
