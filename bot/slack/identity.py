"""Who is asking: Slack payloads → `Caller`, with the user's relevant user groups.

Access control lives in the dispatcher (`Caller.groups` is what it checks), but
group membership is a Slack fact, so the Slack side fills it in. Looking it up
costs a Web API call per group, which must never eat into the 3-second ack
window: memberships are cached, refreshed in the background when stale, and a
cold lookup on the request path is bounded by a short timeout.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.reply import Caller

log = logging.getLogger(__name__)

# Slack user-group IDs start with "S" (users "U"/"W", channels "C"/"G"/"D"); same
# shape as bot.chat.access accepts.
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")
_SEPARATORS = re.compile(r"[;,=\s]+")


def group_ids_in(setting: str) -> tuple[str, ...]:
    """User-group IDs named in an access spec such as CCERT_ACCESS
    ("status,aps=U0123ABCD,S0456EFGH; advise=*"), in order, without duplicates."""
    seen: dict[str, None] = {}
    for token in _SEPARATORS.split(setting or ""):
        if _GROUP_ID.match(token):
            seen.setdefault(token, None)
    return tuple(seen)


class UserGroupDirectory:
    """Cached membership of the user groups the bot's access rules mention."""

    def __init__(
        self,
        client: AsyncWebClient | None,
        group_ids: Iterable[str],
        *,
        ttl: float = 300.0,
        lookup_timeout: float = 0.8,
    ) -> None:
        self._client = client
        self._group_ids = tuple(group_ids)
        self._ttl = ttl
        self._lookup_timeout = lookup_timeout
        self._members: dict[str, frozenset[str]] = {}
        self._loaded_at: float | None = None
        self._refreshing: asyncio.Task[None] | None = None

    @property
    def group_ids(self) -> tuple[str, ...]:
        return self._group_ids

    async def groups_of(self, user_id: str) -> tuple[str, ...]:
        """The watched groups `user_id` belongs to, as fresh as the time budget allows."""
        if not self._group_ids or self._client is None:
            return ()
        stale = self._loaded_at is None or time.monotonic() - self._loaded_at > self._ttl
        if stale:
            refresh = self._start_refresh()
            if self._loaded_at is None:
                # Cold cache: wait a little, never long (shield: a timeout must not kill the refresh).
                try:
                    await asyncio.wait_for(asyncio.shield(refresh), self._lookup_timeout)
                except Exception:  # TimeoutError, or the refresh itself failed
                    log.warning(
                        "user-group lookup not ready within %.1fs; treating %s as in no group",
                        self._lookup_timeout,
                        user_id,
                    )
        return tuple(g for g in self._group_ids if user_id in self._members.get(g, frozenset()))

    def _start_refresh(self) -> asyncio.Task[None]:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh(), name="slack:usergroups")
        return self._refreshing

    async def _refresh(self) -> None:
        assert self._client is not None
        members: dict[str, frozenset[str]] = {}
        for group_id in self._group_ids:
            try:
                response = await self._client.usergroups_users_list(usergroup=group_id)
                members[group_id] = frozenset(response.get("users") or ())
            except Exception as error:  # keep the last known membership for this group
                log.warning("could not list members of user group %s: %s", group_id, type(error).__name__)
                if group_id in self._members:
                    members[group_id] = self._members[group_id]
        self._members = members
        self._loaded_at = time.monotonic()

    async def aclose(self) -> None:
        if self._refreshing is not None and not self._refreshing.done():
            self._refreshing.cancel()
            await asyncio.gather(self._refreshing, return_exceptions=True)


def _str_or_none(value: Any) -> str | None:
    return str(value) if value else None


def command_identity(body: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(user_id, channel_id, user_name) from a slash command payload."""
    return (
        str(body.get("user_id", "")),
        _str_or_none(body.get("channel_id")),
        _str_or_none(body.get("user_name")),
    )


def action_identity(body: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(user_id, channel_id, user_name) from a block_actions payload."""
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    name = user.get("username") or user.get("name")
    return str(user.get("id", "")), _str_or_none(channel), _str_or_none(name)


async def build_caller(
    directory: UserGroupDirectory, user_id: str, channel_id: str | None, user_name: str | None
) -> Caller:
    return Caller(
        user_id=user_id, channel_id=channel_id, user_name=user_name, groups=await directory.groups_of(user_id)
    )
