"""The recorder hooks where the events happen: remediation request and run outcomes (over real
SSH to the simulator), and failed Web API calls of the Slack listeners' messenger by method."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError

from bot.chat.notifier import NotifyError
from bot.chat.reply import Reply
from bot.remediation.service import RemediationService, RequestRefused
from bot.settings import load_settings
from bot.slack.app import build_client
from bot.slack.delivery import Destination, Messenger
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.remediation.remediation_helpers import APPROVER_1, APPROVER_2, REQUESTER, fast_config, voter
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import aireos, simulated_site

TOKEN = "xoxb-recorder-token"


class Recorded:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.runs: list[str] = []

    def remediation_request(self, outcome: str) -> None:
        self.requests.append(outcome)

    def remediation_run(self, outcome: str) -> None:
        self.runs.append(outcome)


async def test_remediation_outcomes_are_recorded(tmp_path: Path) -> None:
    recorded = Recorded()
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(site.settings.db) as store:
        service = RemediationService(store, site.inventory, fast_config(site), site.environ, recorder=recorded)
        with pytest.raises(RequestRefused):
            await service.create_request("no-such-site", None, REQUESTER, "C1")
        assert recorded.requests == ["refused"]

        rejected = await service.create_request("site-t", None, REQUESTER, "C1")
        await service.vote(rejected.id, voter(APPROVER_1), approve=True)  # counted, not an outcome
        await service.vote(rejected.id, voter(APPROVER_2), approve=False, comment="not tonight")
        await service.vote(
            rejected.id, voter(APPROVER_2), approve=False, comment="not tonight"
        )  # refused click on a closed request
        assert recorded.requests == ["refused", "created", "rejected"]

        approved = await service.create_request("site-t", None, REQUESTER, "C1")
        await service.vote(approved.id, voter(APPROVER_1), approve=True)
        result = await service.vote(approved.id, voter(APPROVER_2), approve=True)
        assert result.approved_now
        assert recorded.requests == ["refused", "created", "rejected", "created", "approved"]
        assert recorded.runs == []
        outcomes = await service.start_run(approved.id)
        assert [o.status for o in outcomes] == ["succeeded"]
        assert recorded.runs == ["succeeded"]


async def test_failed_web_api_calls_are_reported_by_method() -> None:
    failed: list[str] = []
    async with FakeSlack(token=TOKEN) as slack:
        settings = load_settings(_env_file=None, slack_api_url=slack.api_url)
        messenger = Messenger(build_client(settings, token=TOKEN), api_errors=failed.append)
        slack.fail_next("chat.postEphemeral", error="channel_not_found")
        slack.fail_next("chat.update", error="message_not_found")
        dest = Destination(user_id="U1", channel_id="C1")
        with pytest.raises(SlackApiError, match="channel_not_found"):
            await messenger.post_note("hello", dest)
        posted = await messenger.post_in_channel([{"text": "hi", "blocks": []}], dest)
        assert posted is not None
        with pytest.raises(SlackApiError, match="message_not_found"):
            await messenger.update(posted, Reply(title="changed"), dest)

        notifier = SlackNotifier(build_client(settings, token=TOKEN), api_errors=failed.append)
        slack.fail_next("chat.postMessage", error="not_in_channel")
        with pytest.raises(NotifyError):
            await notifier.post("C1", Reply(title="alert"))
    assert failed == ["chat.postEphemeral", "chat.update", "chat.postMessage"]
