"""Slack pages: chat.postMessage with Acknowledge / Resolve / Escalate buttons, updated in
place (chat.update) when the incident is taken or closed; a Note button opens a modal
(views.open) whose submission comes back to the same interactivity URL."""
from __future__ import annotations

from typing import Any

from .. import config, escape
from ..model import Person
from .channels import Channel, Message, Page, Sent, register
from .templates import text, when, why_lines

# The user or channel is gone ("account_inactive" would be our own token's: tried again).
GONE = ("user_not_found", "channel_not_found", "is_archived", "user_disabled", "cannot_dm_bot")


def page_blocks(lang: str, view: dict[str, Any], state: str = "triggered",
                footer: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The message text and Block Kit blocks for an incident, as its state now stands."""
    headline = escape.slack_fit(text(lang, "slack_page", **view))
    source = escape.slack_fit(text(lang, "slack_source", **{**view, "when": when(lang, view)}))
    # verbatim: Slack links no bare URL or #channel of the event's text (links are only ours)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline, "verbatim": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": source, "verbatim": True}]},
    ]
    why = why_lines(lang, view)  # reassigned to them, asked to help: why, and the latest note
    if why:
        said = "\n".join([f"*{escape.slack_fit(why[0], 300)}*",
                           *(f">{escape.slack_fit(w, 600)}" for w in why[1:])])
        blocks.insert(1, {"type": "section", "text": {"type": "mrkdwn", "text": said, "verbatim": True}})
    blocks += detail_blocks(lang, view.get("highlights") or {})
    if footer:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape.slack_fit(footer),
                                                   "verbatim": True}})
    buttons: list[tuple[str, str, str | None]] = []
    if state == "triggered":
        buttons.append(("ack", "btn_ack", "primary"))
    if state in ("triggered", "acknowledged"):
        buttons.append(("resolve", "btn_resolve", None))
    if state == "triggered":
        buttons.append(("escalate", "btn_escalate", "danger"))
    if state == "acknowledged":  # 60 minutes, then triggered again (chalicelib.replies.slack_clicked)
        buttons.append(("snooze", "btn_snooze", None))
    if state in ("triggered", "acknowledged"):  # a note for the others paged: a modal (note_modal)
        blocks.append({"type": "section", "block_id": f"note-{view['number']}",
                       "text": {"type": "mrkdwn", "text": text(lang, "slack_note_prompt"), "verbatim": True},
                       "accessory": {"type": "button", "action_id": "note", "value": str(view["number"]),
                                     "text": {"type": "plain_text", "text": text(lang, "btn_note")}}})
    if buttons:
        elements = []
        for action, label, style in buttons:
            el: dict[str, Any] = {"type": "button", "action_id": action, "value": str(view["number"]),
                                  "text": {"type": "plain_text", "text": text(lang, label)}}
            if style:
                el["style"] = style
            elements.append(el)
        blocks.append({"type": "actions", "block_id": f"incident-{view['number']}", "elements": elements})
    return headline, blocks


MAX_SHOWN_FIELDS = 6  # of the event's fields on a page; the details page has them all
_LINK_TEXT_MAX = 2900  # a links section stays within a text object's 3,000 characters


def link(url: str, label: str) -> str:
    """`<url|label>` for mrkdwn: the label escaped (it cannot close the link or mention
    anyone), the URL with the characters that would end the link percent-encoded (the
    highlights' URLs already are: chalicelib.incidents.details.safe_url)."""
    for char, code in (("|", "%7C"), (">", "%3E"), ("<", "%3C"), (" ", "%20")):
        url = url.replace(char, code)
    return f"<{url}|{escape.slack_fit(label, 200)}>"


def detail_blocks(lang: str, highlights: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's links (runbook and dashboard first) and images as clickable links, and a few
    of its fields, as blocks; none when the event says nothing more than its summary."""
    blocks: list[dict[str, Any]] = []
    shown: list[str] = []
    room = _LINK_TEXT_MAX
    for item in [*highlights.get("links", []), *highlights.get("images", [])]:
        one = link(str(item["url"]), str(item["label"]))
        if len(one) + 3 > room:  # too long for what is left: left out, the next ones may fit
            continue             # (the details page, linked from the SMS, has every link)
        shown.append(one)
        room -= len(one) + 3
    if shown:
        colon = " : " if lang == "fr" else ": "
        line = f"*{text(lang, 'details_links')}*{colon}" + " · ".join(shown)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line, "verbatim": True}})
    fields = [{"type": "mrkdwn", "verbatim": True,
               "text": f"*{escape.slack_fit(str(f['label']), 100)}*\n"
                       f"{escape.slack_fit(str(f['value']), 300)}"}
              for f in highlights.get("fields", [])[:MAX_SHOWN_FIELDS]]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    return blocks


NOTE_BLOCK, NOTE_INPUT = "note", "text"  # the modal's input: view.state.values["note"]["text"]


def note_modal(lang: str, number: int, summary: str, max_chars: int) -> dict[str, Any]:
    """The modal the Note button opens: one multiline input, in the clicker's language; the
    incident's number rides in private_metadata (chalicelib.replies.slack_submitted)."""
    def plain(key: str, **values: Any) -> dict[str, Any]:
        return {"type": "plain_text", "text": text(lang, key, **values)}
    return {
        "type": "modal", "callback_id": "note", "private_metadata": str(number),
        "title": plain("note_modal_title", number=number), "submit": plain("note_modal_submit"),
        "close": plain("note_modal_close"),
        "blocks": [
            {"type": "context", "elements": [{"type": "plain_text", "text": f"#{number} {summary}"[:300]}]},
            {"type": "input", "block_id": NOTE_BLOCK, "label": plain("note_modal_label"),
             "element": {"type": "plain_text_input", "action_id": NOTE_INPUT, "multiline": True,
                         "max_length": max_chars, "placeholder": plain("note_modal_placeholder")}},
        ],
    }


def open_modal(trigger_id: str, modal: dict[str, Any]) -> str:
    """views.open with a click's trigger_id (Slack honours it for 3 seconds); returns the view's id."""
    resp = config.slack_client().views_open(trigger_id=trigger_id, view=modal)
    return str(resp["view"]["id"])


def post(channel: str, message: str, blocks: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    """Post to a channel or a user's DM (channel = user id); returns (channel, ts).  The
    message is plain text, escaped here; blocks come escaped (page_blocks)."""
    resp = config.slack_client().chat_postMessage(channel=channel, text=escape.slack_fit(message),
                                                  blocks=blocks, unfurl_links=False, unfurl_media=False)
    return str(resp["channel"]), str(resp["ts"])


def ephemeral(channel: str, user: str, message: str) -> None:
    config.slack_client().chat_postEphemeral(channel=channel, user=user, text=escape.slack_fit(message))


class Slack(Channel):
    name = "slack"
    needs = "slack"
    needs_label = "a slack user id"
    updates_in_place = True

    def configured(self) -> str | None:
        return None if config.settings().slack_enabled else "Slack is not configured (SLACK_BOT_TOKEN)"

    def page(self, page: Page, lang: str) -> Sent:
        address = page.to.removeprefix("slack:") if page.person is None else self.address(page.person) or ""
        _, blocks = page_blocks(lang, page.view)
        ch, ts = post(address, text(lang, "slack_page", **page.view), blocks)
        return Sent(self.name, page.to, ch, ts, lang)

    def tell(self, person: Person, message: Message) -> Sent:
        ch, ts = post(self.address(person) or "", message.text)
        return Sent(self.name, person["id"], ch, ts, person["language"])

    def permanent(self, exc: BaseException) -> bool:
        """Slack answers 200 with an error name: these mean the user or channel is gone."""
        data = getattr(getattr(exc, "response", None), "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        return error in GONE or super().permanent(exc)

    def update(self, sent: Sent, view: dict[str, Any], state: str, footer: str) -> None:
        msg, blocks = page_blocks(sent.lang, view, state, footer)  # msg: escaped already
        config.slack_client().chat_update(channel=sent.address, ts=sent.ref, text=msg, blocks=blocks)


CHANNEL = register(Slack())
