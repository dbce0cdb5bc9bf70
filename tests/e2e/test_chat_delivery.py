"""Discord and Telegram: one alert, through real Prometheus and Alertmanager, reaches both
stand-ins (and Slack) once, with its text, and resolves there.

The alert is BittensorAxonUnreachable, from a hand-written agent exposition whose probe of a
registered hotkey fails round after round, then answers again.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from taowatch.receiver import DISCORD, PAGERDUTY, SLACK, TELEGRAM, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings
from tests.support.loopback import serving_metrics

pytestmark = pytest.mark.e2e

HOTKEY = "5FakeHotkeyForTheChatTest"
AXON = "10.0.0.7:8091"
DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound
ALERT = "BittensorAxonUnreachable"


@dataclass
class ProbingAgent:
    failures: int = 0

    def exposition(self) -> str:
        labels = f'netuid="1",hotkey="{HOTKEY}",uid="7",axon="{AXON}"'
        status = 200 if self.failures == 0 else 0
        return "\n".join(
            [
                "# TYPE bittensor_exporter_up gauge",
                "bittensor_exporter_up 1",
                "# TYPE bittensor_neuron_registered gauge",
                f'bittensor_neuron_registered{{netuid="1",hotkey="{HOTKEY}",uid="7"}} 1',
                "# TYPE bittensor_probe_consecutive_failures gauge",
                f"bittensor_probe_consecutive_failures{{{labels}}} {self.failures}",
                "# TYPE bittensor_probe_status_code gauge",
                f"bittensor_probe_status_code{{{labels}}} {status}",
                "",
            ]
        )


@pytest.fixture
async def probing_agent() -> AsyncIterator[tuple[ProbingAgent, str]]:
    agent = ProbingAgent()
    async with serving_metrics(agent.exposition) as target:
        yield agent, target


def _alert(service: str, status: str):
    return lambda n: n.service == service and n.status == status and n.mentions(ALERT)


async def test_an_unreachable_axon_reaches_discord_and_telegram_once_with_its_text(
    probing_agent,
):
    agent, target = probing_agent
    settings = StackSettings(
        targets={"taowatch-agent": [target]}, overrides=dict(FAST_ALERTMANAGER), chat=True
    )
    async with Receiver() as receiver, Stack(settings, receiver) as stack:
        await stack.wait_for_query(
            f'bittensor_probe_consecutive_failures{{hotkey="{HOTKEY}"}} == 0', DEADLINE
        )
        # Two failed rounds: below the threshold, nothing is sent anywhere.
        agent.failures = 2
        await stack.wait_for_query(
            f'bittensor_probe_consecutive_failures{{hotkey="{HOTKEY}"}} == 2', DEADLINE
        )
        agent.failures = 3
        discord = await receiver.wait_for(_alert(DISCORD, "firing"), DEADLINE)
        telegram = await receiver.wait_for(_alert(TELEGRAM, "firing"), DEADLINE)
        slack = await receiver.wait_for(_alert(SLACK, "firing"), DEADLINE)

        description = (
            f"The axon {AXON} that the chain lists for hotkey {HOTKEY} (uid 7) on subnet 1 has "
            "failed 3 probe rounds in a row (last HTTP status 0; 0 means no answer at all)"
        )
        (embed,) = discord.payload["embeds"]
        assert embed["title"] == f"[FIRING:1] {ALERT} (warning) netuid 1"
        assert (
            "**A watched axon the chain lists does not answer the signed probe.**"
            in (embed["description"])
        )
        assert description in embed["description"]
        assert "RUNBOOK.md#alert-name-bittensoraxonunreachable" in embed["description"]

        text = telegram.payload["text"]
        assert text.startswith(f"<b>[FIRING:1] {ALERT} (warning) netuid 1</b>")
        assert description in html.unescape(text)
        assert f"hotkey <code>{HOTKEY}</code>" in text
        assert telegram.payload["chat_id"] in ("-1001234567890", -1001234567890)
        assert telegram.payload["parse_mode"] == "HTML"
        assert slack.payload["channel"] == "#taowatch-alerts"

        agent.failures = 0
        await receiver.wait_for(_alert(DISCORD, "resolved"), DEADLINE)
        await receiver.wait_for(_alert(TELEGRAM, "resolved"), DEADLINE)

        assert not receiver.rejected, receiver.rejected
        # Once each while firing (group_interval 1 s, repeat 1 h), and a warning never pages.
        for service in (DISCORD, TELEGRAM, SLACK):
            firing = [n for n in receiver.of(service) if n.status == "firing"]
            assert len(firing) == 1, (service, [n.text[:80] for n in firing])
        assert not [n for n in receiver.of(PAGERDUTY) if n.mentions(ALERT)]


# --- the stand-ins refuse what Discord and Telegram would refuse ---------------------------


async def test_the_discord_stand_in_answers_204_and_refuses_an_empty_message(aiohttp_client):
    receiver = Receiver()
    client = await aiohttp_client(receiver.app)
    path = "/discord/api/webhooks/1/token"
    ok = await client.post(path, json={"embeds": [{"title": "[FIRING:1] X", "description": "d"}]})
    empty = await client.post(path, json={"content": ""})
    long_title = await client.post(path, json={"embeds": [{"title": "x" * 257}]})
    assert (ok.status, empty.status, long_title.status) == (204, 400, 400)
    assert (await empty.json())["code"] == 50006
    assert [n.service for n in receiver.notifications] == [DISCORD]
    assert len(receiver.rejected) == 2


async def test_the_telegram_stand_in_answers_a_message_and_refuses_unescaped_html(aiohttp_client):
    receiver = Receiver()
    client = await aiohttp_client(receiver.app)
    path = "/telegram/bot123:token/sendMessage"
    good = {"chat_id": "-100", "text": "<b>[FIRING:1]</b> a &lt; b", "parse_mode": "HTML"}
    resp = await client.post(path, json=good)
    assert resp.status == 200
    answer = await resp.json()
    assert answer["ok"] is True and answer["result"]["chat"]["id"] == -100
    for bad in (
        {**good, "text": "<br>line"},  # a tag Telegram does not support
        {**good, "text": "a < b"},  # unescaped
        {**good, "chat_id": "@nobody"},
        {**good, "text": ""},
    ):
        refused = await client.post(path, json=bad)
        assert refused.status == 400, bad
        assert (await refused.json())["ok"] is False
    assert [n.service for n in receiver.notifications] == [TELEGRAM]
