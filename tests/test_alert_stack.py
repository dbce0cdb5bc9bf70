"""Real Prometheus and Alertmanager, the repository's rules, a hand-written exporter.

A tiny aiohttp app serves exposition like the agent's; flipping its hotkey from registered
to deregistered must reach the loopback receiver as a Slack message and a PagerDuty
trigger, then resolve. The time from the flip to each notification is printed (run with
-s to see it), never asserted: performance belongs in bench/.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackError, StackSettings, find_binary

pytestmark = pytest.mark.e2e

HOTKEY = "5FakeHotkeyForTheStackTest"
DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound


@dataclass
class FakeExporter:
    registered: bool = True

    def exposition(self) -> str:
        # Like the agent: the uid label exists only while registered.
        if self.registered:
            reg = f'bittensor_neuron_registered{{netuid="1",hotkey="{HOTKEY}",uid="7"}} 1'
        else:
            reg = f'bittensor_neuron_registered{{netuid="1",hotkey="{HOTKEY}"}} 0'
        return "\n".join(
            [
                "# TYPE bittensor_exporter_up gauge",
                "bittensor_exporter_up 1",
                "# TYPE bittensor_neuron_registered gauge",
                reg,
                "",
            ]
        )

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(text=self.exposition(), content_type="text/plain")


@pytest.fixture
async def fake_target() -> AsyncIterator[tuple[FakeExporter, str]]:
    exporter = FakeExporter()
    app = web.Application()
    app.router.add_get("/metrics", exporter.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield exporter, f"127.0.0.1:{port}"
    await runner.cleanup()


def _is(service: str, status: str, alertname: str):
    def match(n: Notification) -> bool:
        return n.service == service and n.status == status and n.mentions(alertname)

    return match


async def test_a_deregistration_reaches_slack_and_pagerduty_and_then_resolves(fake_target):
    exporter, target = fake_target
    settings = StackSettings(
        targets={"taowatch-agent": [target]},
        overrides={**FAST_ALERTMANAGER, "deregistration_lookback": "5m"},
    )
    async with Receiver() as receiver, Stack(settings, receiver) as stack:
        # The recorded "was registered" history must exist before the flip.
        await stack.wait_for_query(
            f'netuid_hotkey:bittensor_neuron_registered:max{{hotkey="{HOTKEY}"}} == 1', DEADLINE
        )
        exporter.registered = False
        flipped = time.time()
        slack = await receiver.wait_for(
            _is(SLACK, "firing", "BittensorNeuronDeregistered"), DEADLINE
        )
        pager = await receiver.wait_for(
            _is(PAGERDUTY, "firing", "BittensorNeuronDeregistered"), DEADLINE
        )

        # Slack: summary, description with the hotkey, runbook and dashboard links.
        text = slack.text
        assert "A watched hotkey was deregistered from its subnet." in text
        assert f"Hotkey {HOTKEY} is no longer registered on subnet 1" in text
        assert "RUNBOOK.md#alert-name-bittensorneuronderegistered" in text
        assert f"/d/taowatch-neuron?var-netuid=1&var-hotkey={HOTKEY}" in text
        assert slack.payload["channel"] == "#taowatch-critical"
        # PagerDuty: a trigger with severity critical, the runbook among its links.
        assert pager.payload["event_action"] == "trigger"
        assert pager.payload["payload"]["severity"] == "critical"
        assert HOTKEY in pager.payload["payload"]["summary"]
        hrefs = [link["href"] for link in pager.payload["links"]]
        assert any(h.endswith("#alert-name-bittensorneuronderegistered") for h in hrefs)
        dedup = pager.payload["dedup_key"]

        exporter.registered = True
        reregistered = time.time()
        slack_resolved = await receiver.wait_for(
            _is(SLACK, "resolved", "BittensorNeuronDeregistered"), DEADLINE
        )
        pager_resolved = await receiver.wait_for(
            lambda n: n.service == PAGERDUTY and n.payload.get("event_action") == "resolve",
            DEADLINE,
        )
        assert pager_resolved.payload["dedup_key"] == dedup
        heartbeat = await receiver.wait_for(lambda n: n.service == HEARTBEAT, DEADLINE)
        assert heartbeat.payload["commonLabels"]["alertname"] == "TaowatchWatchdog"
        assert not receiver.rejected, receiver.rejected
        # Every rule loaded and evaluated without error against real Prometheus.
        broken = [r for r in await stack.rule_health() if r[1] not in {"ok", "unknown"}]
        assert not broken, broken

    rows = [
        ("deregistered -> slack firing", slack.received_at - flipped),
        ("deregistered -> pagerduty trigger", pager.received_at - flipped),
        ("re-registered -> slack resolved", slack_resolved.received_at - reregistered),
        ("re-registered -> pagerduty resolve", pager_resolved.received_at - reregistered),
    ]
    print("\ntime to notification (scrape 1s, evaluation 1s, group_wait 1s, group_interval 1s):")
    for label, seconds in rows:
        print(f"  {label:<36} {seconds:5.2f} s")


async def test_a_missing_binary_is_reported_with_the_install_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(StackError, match="apt-get install prometheus prometheus-alertmanager"):
        find_binary("prometheus")


async def test_an_unknown_threshold_override_is_refused_naming_the_knob():
    stack = Stack(StackSettings(overrides={"deregistraton_lookback": "1m"}), Receiver())
    with pytest.raises(StackError, match="deregistraton_lookback"):
        await stack.start()
