"""An incident's details page: the short signed link of an SMS or a call (`/d/<token>`).

A small mobile page in the person's language: the summary, service, state, the event's links
(clickable, http(s) only), fields and images, the last entries of its timeline, and
Acknowledge / Resolve buttons that POST to the one-click links (chalicelib.links.make).
The link shows the incident for links.DETAILS_TTL_SECONDS, its buttons act only for
links.TTL_SECONDS after it was made, as the SMS's own one-click link: after that the page says
how to act (the SMS's reply codes, the person's /me page).
Opening it changes nothing (link previews open every link); JSON for `Accept: application/json`.
A refused link (forged, expired, its person gone) is a 403: a small page in French and English
for a browser (`Accept: text/html`), JSON otherwise.
"""
from __future__ import annotations

from html import escape
from typing import Any

from chalice import Blueprint, Response

from .. import clock, config, errors, incidents, links
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
    acts_until = links.details_issued(token) + links.TTL_SECONDS
    return {
        "number": number, "summary": inc.summary, "service": svc["name"] if svc else inc.service,
        "severity": inc.severity, "state": inc.state, "source": inc.source or "-",
        "created_at": clock.iso(inc.created_at), "highlights": highlights(inc.details),
        "timeline": [{"at": clock.iso(e.at), "kind": e.kind, "channel": e.channel,
                      "actor": directory.name_of(e.actor) if e.actor else None} for e in reversed(entries)],
        "actions": _actions(number, pid, inc.state, acts_until), "actions_until": clock.iso(acts_until),
    }, lang


def _actions(number: int, pid: str, state: str, until: float) -> dict[str, str]:
    """The one-click links of the page's buttons, acting until `until` (when the one-click link
    sent with the details link dies); none after it, or once the incident is resolved."""
    left = until - clock.now()
    if left <= 0:
        return {}
    wanted = {"triggered": ("ack", "resolve"), "acknowledged": ("resolve",)}.get(state, ())
    return {action: links.make(number, pid, action, ttl=left) for action in wanted}


def _me_link(lang: str) -> str:
    url = f"{config.settings().public_url}/me"
    return f'<a href="{escape(url, quote=True)}">{escape(text(lang, "details_me"))}</a>'


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
    if not d["actions"] and d["state"] in ("triggered", "acknowledged"):  # its buttons' time is over
        how = text(lang, "details_act_elsewhere", number=d["number"], hours=links.TTL_SECONDS // 3600)
        parts.append(f"<p class=act>{escape(how)} {_me_link(lang)}</p>")
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


def _refused_html() -> str:
    """A refused link's page, for a person's browser: French and English (whose link it was is
    not known), and where their incidents are."""
    said = "".join(f"<section lang={lang}><h1>{escape(text(lang, 'details_link_bad'))}</h1>"
                   f"<p>{escape(text(lang, 'details_link_bad_hint'))} {_me_link(lang)}</p></section>"
                   for lang in ("fr", "en"))
    return ("<!doctype html><html lang=fr><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<meta name=robots content=noindex><title>Astreinte</title><style>{_STYLE}</style>{said}")


@bp.route("/d/{token}", methods=["GET"])
@guarded
def open_details(token: str) -> Response:
    """The details page of a details link; a GET never acts (its buttons POST to /l/…)."""
    accept = bp.current_request.headers.get("accept", "")
    wants_json = "application/json" in accept
    try:
        shown, lang = _details(token)
    except links.BadLink:
        if wants_json or "text/html" not in accept:
            raise  # a script: our JSON 403 (guarded)
        return Response(body=_refused_html(), status_code=403, headers=dict(_HEADERS))
    if wants_json:
        return json_response(200, shown, {"Cache-Control": "no-store"})
    return Response(body=_html(shown, lang), status_code=200, headers=dict(_HEADERS))
