"""The vote forms (Slack modals): Reject asks for a reason, Approve offers a comment.

A click on a request's **Reject** or **Approve** button opens one of these with
`views.open` (bot.slack.listeners.modals); its submission comes back as a
`view_submission` whose values are read here. Everything in this module is pure
JSON in, JSON out, so the limits Slack puts on a view are kept in one place and
tests check them with slack_sdk's own view models:

* a modal's title, submit and close labels are plain text of at most 24 characters;
* `private_metadata` is at most 3,000 characters: it carries only the request id
  and where the click came from (`Origin`, compact JSON), never a token or a URL;
* the text input's `max_length` is the typed command's own limit
  (`bot.chat.arguments.MAX_TEXT_CHARS`), so a form and `/ccert reject 12 --reason …`
  accept the same reasons.

What is typed in a form is free text: `submitted_text` collapses its whitespace
and drops invisible characters (`bot.chat.arguments.clean_text`); the listener
then dispatches it as `reject 12 --reason '<text>'`, so the parser and the
dispatcher's filter chain check it like any typed command.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.chat.arguments import MAX_TEXT_CHARS, REQUEST_ID, clean_text, says_something
from bot.chat.remediation_views import APPROVE_ACTION, REJECT_ACTION

#: Slack's limits for a modal (https://api.slack.com/reference/surfaces/views).
MAX_TITLE_CHARS = 24
MAX_PRIVATE_METADATA_CHARS = 3000
MAX_CALLBACK_ID_CHARS = 255
# The input block and its element: the keys of `view.state.values` in the submission.
TEXT_BLOCK = "vote_text"
TEXT_ACTION = "text"
_TS = re.compile(r"^[0-9]{1,12}\.[0-9]{1,9}$")
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,24}$")


class VoteKind(StrEnum):
    """Which form: its callback_id is `ccert_<kind>`."""

    APPROVE = "approve"
    REJECT = "reject"

    @property
    def callback_id(self) -> str:
        return f"ccert_{self.value}"

    @classmethod
    def of_action(cls, action_id: str) -> VoteKind | None:
        """The form a button opens: Approve and Reject only."""
        return {APPROVE_ACTION: cls.APPROVE, REJECT_ACTION: cls.REJECT}.get(action_id)


CALLBACK_IDS = {kind.callback_id: kind for kind in VoteKind}
REASON_REQUIRED = (
    "A reason is required: say why you reject it (e.g. “wrong controller” or “wait for tonight's change "
    "window”). It goes to the request's thread, the request message and the audit."
)
UNREADABLE_FORM = "I could not tell which request this form is for. Close it and click the button on the request again."


@dataclass(frozen=True)
class Origin:
    """Where the click came from: the request, and where to answer the voter.

    `channel` and `thread_ts` (the request message, whose thread holds its story) for a
    click on a message; `ephemeral_thread_ts` when the clicked message was itself in a
    thread; none of them for a click on the App Home tab (the answer goes to the app's DM).
    """

    request_id: int
    channel: str | None = None
    thread_ts: str | None = None
    ephemeral_thread_ts: str | None = None

    def to_metadata(self) -> str:
        """Compact JSON (well under Slack's 3,000 characters: ids and timestamps only)."""
        data: dict[str, Any] = {"r": self.request_id}
        for key, value in (("c", self.channel), ("t", self.thread_ts), ("e", self.ephemeral_thread_ts)):
            if value:
                data[key] = value
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, text: object) -> Origin | None:
        """The origin a submission carries back, or None when it is not one of ours (every
        field checked: the metadata comes back through the client)."""
        if not isinstance(text, str) or len(text) > MAX_PRIVATE_METADATA_CHARS:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        request_id = data.get("r")
        if isinstance(request_id, bool) or not isinstance(request_id, int) or not REQUEST_ID.match(str(request_id)):
            return None
        channel, thread_ts, in_thread = data.get("c"), data.get("t"), data.get("e")
        if channel is not None and not (isinstance(channel, str) and _SLACK_ID.match(channel)):
            return None
        for ts in (thread_ts, in_thread):
            if ts is not None and not (isinstance(ts, str) and _TS.match(ts)):
                return None
        return cls(request_id, channel, thread_ts, in_thread)


def _plain(text: str, limit: int) -> dict[str, Any]:
    if not text or len(text) > limit:
        raise ValueError(f"plain text of 1 to {limit} characters: {text!r}")
    return {"type": "plain_text", "text": text, "emoji": True}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def typed_vote(kind: VoteKind, request_id: int) -> str:
    """The typed command that does what the form does (the fallback when no form opens)."""
    if kind is VoteKind.REJECT:
        return f'/ccert reject {request_id} --reason "…"'
    return f'/ccert approve {request_id} [--comment "…"]'


def vote_modal(kind: VoteKind, origin: Origin, summary: str | None = None) -> dict[str, Any]:
    """The form for one vote on request `origin.request_id`.

    `summary` is the request message's own first line when the click carried it
    (`⏳ Time-back request #12 — site-a (wlc-a1) — …`), shown so the voter sees what the
    vote is about; without it the form names the request number only.
    """
    rid = origin.request_id
    reject = kind is VoteKind.REJECT
    about = _escape(summary[:300]) if summary else f"Time-back request *#{rid}*"
    if reject:
        intro = (
            f"Reject time-back request *#{rid}*?\n{about}\n"
            "Nothing is changed on any controller: the request ends with your reject."
        )
        label, hint, placeholder = (
            "Reason",
            "Required. Shown in the request's thread, on the request message and in the audit.",
            "Why not? e.g. wrong controller, or wait for tonight's change window",
        )
    else:
        intro = f"Approve time-back request *#{rid}*?\n{about}\nYour approval counts once; the requester's never does."
        label, hint, placeholder = (
            "Comment",
            "Optional. Shown in the request's thread, on the request message and in the audit.",
            "e.g. checked with the site team",
        )
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": TEXT_ACTION,
        "multiline": True,
        "max_length": MAX_TEXT_CHARS,
        "placeholder": _plain(placeholder, 150),
    }
    if reject:
        element["min_length"] = 1
    metadata = origin.to_metadata()
    assert len(metadata) <= MAX_PRIVATE_METADATA_CHARS
    return {
        "type": "modal",
        "callback_id": kind.callback_id,
        "title": _plain("Reject time-back" if reject else "Approve time-back", MAX_TITLE_CHARS),
        "submit": _plain("Reject" if reject else "Approve", MAX_TITLE_CHARS),
        "close": _plain("Close", MAX_TITLE_CHARS),
        "private_metadata": metadata,
        "notify_on_close": False,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
            {
                "type": "input",
                "block_id": TEXT_BLOCK,
                "optional": not reject,
                "label": _plain(label, 2000),
                "hint": _plain(hint, 2000),
                "element": element,
            },
        ],
    }


def submitted_text(view: dict[str, Any]) -> str:
    """What the voter typed in the form, cleaned (`clean_text`); "" when nothing."""
    values = ((view.get("state") or {}).get("values") or {}).get(TEXT_BLOCK) or {}
    value = (values.get(TEXT_ACTION) or {}).get("value")
    return clean_text(value) if isinstance(value, str) else ""


def text_problem(kind: VoteKind, text: str) -> str | None:
    """Why the form cannot be submitted as it is (shown under the field), or None."""
    if kind is VoteKind.REJECT and not says_something(text):
        return REASON_REQUIRED
    if len(text) > MAX_TEXT_CHARS:
        return f"At most {MAX_TEXT_CHARS} characters, please (this is {len(text)})."
    return None


def vote_command(kind: VoteKind, request_id: int, text: str) -> list[str]:
    """The words of the typed command a submitted form stands for (quoted by the caller)."""
    words = [kind.value, str(request_id)]
    if text:
        words += ["--reason" if kind is VoteKind.REJECT else "--comment", text]
    return words
