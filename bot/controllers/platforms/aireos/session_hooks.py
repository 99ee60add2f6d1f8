"""How a change session logs in to and out of an AireOS controller (scrapli hooks)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.controllers.session_api import LoginRejected

if TYPE_CHECKING:
    from scrapli.driver import AsyncNetworkDriver


async def on_open(conn: AsyncNetworkDriver) -> None:
    """AireOS asks for User:/Password: again inside the SSH session.

    scrapli-community's version sleeps with `time.sleep`, blocking the whole
    event loop (103 s instead of 4 s for 200 controllers): here we read until
    each prompt instead, so hundreds of logins interleave.
    """
    # scrapli treats a pattern as a regex only when it is anchored with ^ and $.
    user_prompt = r"^\s*user(name)?:\s*$"
    password_prompt = r"^\s*password:\s*$"
    exec_prompt = r"^\([\w. -]{1,31}\) >\s*$"
    buffer = await conn.channel._read_until_explicit_prompt([user_prompt, exec_prompt])
    if re.search(user_prompt, buffer.decode(errors="replace"), re.M | re.I):
        conn.channel.write(conn.auth_username)
        conn.channel.send_return()
        await conn.channel._read_until_explicit_prompt([password_prompt])
        conn.channel.write(conn.auth_password, redacted=True)
        conn.channel.send_return()
        after = await conn.channel._read_until_explicit_prompt([user_prompt, exec_prompt])
        if re.search(user_prompt, after.decode(errors="replace"), re.M | re.I):
            raise LoginRejected
    await conn.acquire_priv(desired_priv=conn.default_desired_privilege_level)


async def on_close(conn: AsyncNetworkDriver) -> None:
    conn.channel.write(channel_input="logout")
    conn.channel.send_return()
