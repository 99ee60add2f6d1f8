"""How a change session logs in to and out of a Catalyst 9800 (scrapli hooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapli.driver import AsyncNetworkDriver


async def on_open(conn: AsyncNetworkDriver) -> None:
    await conn.acquire_priv(desired_priv=conn.default_desired_privilege_level)


async def on_close(conn: AsyncNetworkDriver) -> None:
    conn.channel.write(channel_input="exit")
    conn.channel.send_return()
