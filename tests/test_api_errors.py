"""Errors as people and scripts read them: a route or a method that does not exist is our
JSON naming it (locally and behind API Gateway), and messages come in the caller's language."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import requests
from conftest import ROOT, Api

from chalicelib import tokens

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
    assert carol["message"].startswith("'state' n'est pas l'un de open") and carol["message"] == \
        carol["messages"]["fr"]
    bob = bad_state(tokens.create("bob", "tests"))  # Bob reads English
    assert bob["message"].startswith("'state' is not one of open")
    assert bad_state(api.token, **{"Accept-Language": "en-GB"})["message"] == bob["message"]  # asked for
    nobody = requests.get(f"{api.base}/v1/incidents", timeout=10)  # no token: both
    assert nobody.status_code == 401 and "Bearer <token>" in nobody.json()["message"] \
        and "jeton" in nobody.json()["message"]


def test_api_gateway_answers_our_json_for_routes_that_do_not_exist() -> None:
    sam = {"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {}}}}}
    finished = finish_template.finish(sam, "prod")
    responses = finished["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == 404
    context = {"$context.httpMethod": "GET", "$context.path": "/prod/v1/incident/12",
               "$context.error.messageString": json.dumps('Request too large "x"')}
    for kind, response in responses.items():  # valid JSON once API Gateway fills its variables in
        filled = re.sub(r"\$context\.[A-Za-z.]+", lambda m: context[m.group(0)],
                        response["responseTemplates"]["application/json"])
        body = json.loads(filled)
        assert set(body) == {"error", "message"}, kind
    assert "no route GET /prod/v1/incident/12" in json.loads(re.sub(
        r"\$context\.[A-Za-z.]+", lambda m: context[m.group(0)],
        missing["responseTemplates"]["application/json"]))["message"]
