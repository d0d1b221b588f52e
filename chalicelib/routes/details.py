"""An incident's details page: the short signed link of an SMS or a call (`/d/<token>`).

A small mobile page in the person's language: the summary, service, state, the event's links
(clickable, http(s) only), fields and images, what changed on the service in the hour before
(chalicelib.changes), the notes (newest first), the last entries of its timeline said as a
person would say them (delivery receipts left out; times in the person's time zone), and
Acknowledge / Resolve buttons that POST to the one-click links (chalicelib.links.make).
The link shows the incident for links.DETAILS_TTL_SECONDS, its buttons act only for
links.TTL_SECONDS after it was made, as the SMS's own one-click link: after that the page says
how to act (the SMS's reply codes, the person's /me page).
Opening it changes nothing (link previews open every link); JSON for `Accept: application/json`.
A refused link (forged, expired, its person gone) is a 403: a small page in French and English
for a browser (`Accept: text/html`), JSON otherwise.
"""
from __future__ import annotations

from datetime import tzinfo
from html import escape
from typing import Any

from chalice import Blueprint, Response

from .. import changes, clock, config, errors, incidents, links
from ..incidents.details import highlights
from ..notify.templates import dated, text
from ..rotas import directory
from .http import guarded, json_response

bp = Blueprint(__name__)

TIMELINE_SHOWN = 8
NOTES_SHOWN = 30  # the newest; each is at most 2000 characters (chalicelib.incidents.actions)
CHANGES_SHOWN = 10  # the newest of the hour before
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
    bundle = directory.bundle()
    svc = bundle["services"].get(inc.service)
    zone = _zone(person["timezone"])
    entries = incidents.timeline(number)
    said = [(e, line) for e in entries if (line := _said(e, lang, zone, bundle)) is not None]
    notes = [e for e in entries if e.kind == "note"][::-1][:NOTES_SHOWN]
    acts_until = links.details_issued(token) + links.TTL_SECONDS
    return {
        "number": number, "summary": inc.summary, "service": svc["name"] if svc else inc.service,
        "severity": inc.severity, "state": inc.state, "source": inc.source or "-",
        "created_at": clock.iso(inc.created_at), "timezone": person["timezone"],
        "created_local": _when(inc.created_at, lang, zone, full=True),
        "highlights": highlights(inc.details),
        "changes": [{**c, "at_local": _when(clock.parse_iso(c["at"]), lang, zone),
                     "links": [link for link in c["links"] if _web(link.get("href"))]}
                    for c in changes.before(inc.service, inc.created_at)[:CHANGES_SHOWN]],
        "notes": [{"at": clock.iso(e.at), "at_local": _when(e.at, lang, zone), "by": e.actor,
                   "by_name": _who(e.actor, lang), "text": str((e.detail or {}).get("text") or "")}
                  for e in notes],
        "timeline": [{"at": clock.iso(e.at), "at_local": _when(e.at, lang, zone), "kind": e.kind,
                      "channel": e.channel, "actor": directory.name_of(e.actor) if e.actor else None,
                      "text": line} for e, line in reversed(said[-TIMELINE_SHOWN:])],
        "actions": _actions(number, pid, inc.state, acts_until), "actions_until": clock.iso(acts_until),
    }, lang


def _zone(name: str) -> tzinfo:
    return clock.zone(name)  # checked by the rotas' loader; never a reason to fail the page


def _when(ts: float, lang: str, zone: tzinfo, full: bool = False) -> str:
    return dated(lang, ts, zone, full)


def _web(url: Any) -> bool:
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def _who(actor: str | None, lang: str) -> str:
    if actor in ("source", "astreinte"):
        return text(lang, f"tl_{actor}")
    return directory.name_of(actor) if actor else "?"


def _channel(name: str | None, lang: str) -> str:
    known = ("sms", "voice", "slack", "email", "whatsapp")
    return text(lang, f"ch_{name}") if name in known else str(name or "?")


def _said(e: Any, lang: str, zone: tzinfo, bundle: Any) -> str | None:
    """A timeline entry as a person says it, in their language; None for what a person
    paged need not read (delivery receipts, notices, repeats)."""
    d = e.detail or {}
    by = _who(e.actor, lang)
    if e.kind in ("triggered", "unanswered", "unsnoozed"):
        return text(lang, f"tl_{e.kind}")
    if e.kind in ("acknowledged", "resolved", "escalate_requested"):
        return text(lang, f"tl_{e.kind}", by=by)
    if e.kind == "paged":
        key = "tl_paged" if d.get("ok", True) else "tl_paged_failed"
        return text(lang, key, name=_who(d.get("to"), lang),
                    channel=_channel(d.get("channel") or e.channel, lang))
    if e.kind == "undelivered":
        return text(lang, "tl_undelivered", name=_who(d.get("to") or e.actor, lang),
                    channel=_channel(e.channel or d.get("channel"), lang))
    if e.kind == "note":
        said = str(d.get("text") or "")
        return text(lang, "tl_note", by=by, text=said if len(said) <= 80 else said[:79] + "…")
    if e.kind == "reassigned":
        policy = bundle["policies"].get(str(d.get("policy"))) if d.get("policy") else None
        to = policy["name"] if policy else _who(d.get("to") or d.get("policy"), lang)
        return text(lang, "tl_reassigned", to=to, by=by)
    if e.kind == "snoozed":
        try:
            until = _when(clock.parse_iso(d.get("until")), lang, zone)
        except (ValueError, TypeError):
            until = "?"
        return text(lang, "tl_snoozed", until=until, by=by)
    if e.kind == "escalated":
        if d.get("step") == 1 and not d.get("loop"):  # the first step: what "triggered" said
            return None
        return text(lang, "tl_escalated", step=d.get("step", "?"))
    if e.kind == "responders_added":
        return text(lang, "tl_responders_added", by=by,
                    people=", ".join(_who(p, lang) for p in d.get("people") or []))
    if e.kind == "merged":
        if d.get("into") is not None:
            return text(lang, "tl_merged_into", into=d["into"])
        return text(lang, "tl_merged_from", other=d.get("from", "?"))
    return None


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
    meta = text(lang, "details_meta_local", sev=d["severity"], state=state, source=d["source"],
                at=d["created_local"])
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
                f'<li>{_a(i["url"], i["label"])}</li>' for i in items) + "</ul>")
    if h["fields"]:
        parts.append(f"<h2>{escape(text(lang, 'details_fields'))}</h2><dl>" + "".join(
            f"<dt>{escape(f['label'])}</dt><dd>{escape(f['value'])}</dd>" for f in h["fields"]) + "</dl>")
    if d["changes"]:
        parts.append(f"<h2>{escape(text(lang, 'details_changes'))}</h2><ul class=changes>" + "".join(
            f"<li><small>{escape(c['at_local'])}</small> {escape(c['summary'])}"
            + (f" <small>({escape(c['source'])})</small>" if c.get("source") else "")
            + "".join(f" · {_a(str(ln['href']), str(ln.get('text') or ln['href']))}" for ln in c["links"])
            + "</li>" for c in d["changes"]) + "</ul>")
    if d["notes"]:
        parts.append(f"<h2>{escape(text(lang, 'details_notes'))}</h2><ul class=notes>" + "".join(
            f"<li><small>{escape(n['at_local'])} · {escape(n['by_name'])}</small><br>{escape(n['text'])}</li>"
            for n in d["notes"]) + "</ul>")
    if d["timeline"]:
        zone = f"<small>({escape(d['timezone'])})</small>"
        parts.append(f"<h2>{escape(text(lang, 'details_timeline'))} {zone}</h2><ul class=timeline>" + "".join(
                         f"<li><small>{escape(e['at_local'])}</small> {escape(e['text'])}</li>"
                         for e in d["timeline"]) + "</ul>")
    return (f"<!doctype html><html lang={escape(lang)}><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<meta name=robots content=noindex>"
            f"<title>Astreinte #{d['number']}</title><style>{_STYLE}</style>" + "".join(parts))


def _a(url: str, label: str) -> str:
    """A link that opens elsewhere, http(s) only (anything else is its label, not a link)."""
    if not _web(url):
        return escape(label)
    return f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer" target=_blank>{escape(label)}</a>'


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
