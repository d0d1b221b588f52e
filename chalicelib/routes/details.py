"""An incident's details page: the short signed link of an SMS or a call (`/d/<token>`).

A small mobile page in the person's language: the summary, service, state, the event's links
(clickable, http(s) only), fields and images, the last entries of its timeline, and
Acknowledge / Resolve buttons that POST to the one-click links (chalicelib.links.make).
Opening it changes nothing (link previews open every link); JSON for `Accept: application/json`.
"""
from __future__ import annotations

from html import escape
from typing import Any

from chalice import Blueprint, Response

from .. import clock, errors, incidents, links
from ..incidents.details import highlights
from ..notify.templates import text
from ..rotas import directory
from .http import guarded, json_response

bp = Blueprint(__name__)

TIMELINE_SHOWN = 8
_STYLE = ("body{font:1.05em system-ui;margin:1em;max-width:40em;overflow-wrap:anywhere}"
          "h1{font-size:1.2em}h2{font-size:1em;margin-top:1.4em}.sum{font-size:1.1em;unicode-bidi:isolate}"
          ".meta,li small{color:#555}form{display:inline-block;margin:.3em .5em .3em 0}"
          "button{font-size:1.1em;padding:.6em 1.1em}li{margin:.3em 0}dt{font-weight:bold}"
          "dd{margin:0 0 .4em 0}")
_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "frame-ancestors 'none'"}


def _details(token: str) -> tuple[dict[str, Any], str]:
    """What the page shows (the JSON answer too) and the person's language."""
    number, pid = links.verify_details(token)
    person = directory.person(pid)
    if person is None:
        raise links.BadLink("this link's person is no longer in the rotas / cette personne n'est plus "
                            "dans les astreintes")
    lang = person["language"]
    inc = incidents.get(number)
    if inc is None:
        raise errors.NotFound(f"there is no incident #{number} / aucun incident #{number}",
                              code="no_incident")
    svc = directory.bundle()["services"].get(inc.service)
    entries = incidents.timeline(number)[-TIMELINE_SHOWN:]
    actions = {}
    if inc.state == "triggered":
        actions["ack"] = links.make(number, pid, "ack")
    if inc.state in ("triggered", "acknowledged"):
        actions["resolve"] = links.make(number, pid, "resolve")
    return {
        "number": number, "summary": inc.summary, "service": svc["name"] if svc else inc.service,
        "severity": inc.severity, "state": inc.state, "source": inc.source or "-",
        "created_at": clock.iso(inc.created_at), "highlights": highlights(inc.details),
        "timeline": [{"at": clock.iso(e.at), "kind": e.kind, "channel": e.channel,
                      "actor": directory.name_of(e.actor) if e.actor else None} for e in reversed(entries)],
        "actions": actions,
    }, lang


def _html(d: dict[str, Any], lang: str) -> str:
    h = d["highlights"]
    state = text(lang, f"details_state_{d['state']}") if d["state"] in ("triggered", "acknowledged",
                                                                          "resolved") else d["state"]
    meta = text(lang, "details_meta", sev=d["severity"], state=state, source=d["source"],
                at=d["created_at"][:16].replace("T", " "))
    parts = [f"<h1>{escape(text(lang, 'details_title', number=d['number'], service=d['service']))}</h1>",
             f"<p class=sum>{escape(d['summary'])}</p><p class=meta>{escape(meta)}</p>"]
    for action, label in (("ack", "btn_ack"), ("resolve", "btn_resolve")):
        if action in d["actions"]:
            parts.append(f'<form method=post action="{escape(d["actions"][action], quote=True)}">'
                         f"<button type=submit>{escape(text(lang, label))}</button></form>")
    for key, items in (("details_links", h["links"]), ("details_images", h["images"])):
        if items:
            parts.append(f"<h2>{escape(text(lang, key))}</h2><ul>" + "".join(
                f'<li><a href="{escape(i["url"], quote=True)}" rel="noopener noreferrer" target=_blank>'
                f'{escape(i["label"])}</a></li>' for i in items) + "</ul>")
    if h["fields"]:
        parts.append(f"<h2>{escape(text(lang, 'details_fields'))}</h2><dl>" + "".join(
            f"<dt>{escape(f['label'])}</dt><dd>{escape(f['value'])}</dd>" for f in h["fields"]) + "</dl>")
    if d["timeline"]:
        parts.append(f"<h2>{escape(text(lang, 'details_timeline'))}</h2><ul>" + "".join(
            f"<li><small>{escape(e['at'][11:19])} UTC</small> {escape(e['kind'])}"
            + (f" — {escape(e['actor'])}" if e["actor"] else "")
            + (f" ({escape(e['channel'])})" if e["channel"] else "") + "</li>"
            for e in d["timeline"]) + "</ul>")
    return (f"<!doctype html><html lang={escape(lang)}><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<meta name=robots content=noindex>"
            f"<title>Astreinte #{d['number']}</title><style>{_STYLE}</style>" + "".join(parts))


@bp.route("/d/{token}", methods=["GET"])
@guarded
def open_details(token: str) -> Response:
    """The details page of a details link; a GET never acts (its buttons POST to /l/…)."""
    shown, lang = _details(token)
    if "application/json" in bp.current_request.headers.get("accept", ""):
        return json_response(200, shown, {"Cache-Control": "no-store"})
    return Response(body=_html(shown, lang), status_code=200, headers=dict(_HEADERS))
