"""A Prometheus pair in front of an Alertmanager pair: one notification per alert, and a
Prometheus killed with SIGKILL loses no alert.

Two real Prometheus servers (external label ``replica`` a and b) scrape the same target and
send to both members of a real, gossiping Alertmanager pair, which notify one receiver. The
target is a hand-written exposition of two watched hotkeys; deregistering one (its
``registered`` flips to 0) fires BittensorNeuronDeregistered, a critical alert that goes to
Slack and PagerDuty. Both Alertmanagers hold the alert from both Prometheus servers, so
without deduplication the receiver would get it up to four times.

"Exactly once" is read after the window in which a duplicate would arrive: the second
Alertmanager in the cluster notifies only after its peer timeout has passed without seeing
the first one's notification in the gossiped log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
import yaml
from aiohttp import web

from taowatch.receiver import PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound
BEFORE_THE_KILL = "5PairTestHotkeyDeregisteredBeforeTheKill"
AFTER_THE_KILL = "5PairTestHotkeyDeregisteredAfterTheKill"
ALERT = "BittensorNeuronDeregistered"
PEER_TIMEOUT_SECONDS = 3
# A duplicate would come from the second Alertmanager once its peer timeout has passed,
# within a few group intervals (1 s) and Prometheus resends (2 s) after that.
DUPLICATE_WINDOW_SECONDS = 3 * PEER_TIMEOUT_SECONDS + 6


@dataclass
class Neurons:
    """The agent's exposition for a few watched hotkeys on subnet 1, registered or not."""

    registered: dict[str, bool] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        lines = ["# TYPE bittensor_exporter_up gauge", "bittensor_exporter_up 1"]
        lines.append("# TYPE bittensor_neuron_registered gauge")
        for uid, (hotkey, registered) in enumerate(sorted(self.registered.items())):
            if registered:  # like the agent: the uid label exists only while registered
                lines.append(
                    f'bittensor_neuron_registered{{netuid="1",hotkey="{hotkey}",uid="{uid}"}} 1'
                )
            else:
                lines.append(f'bittensor_neuron_registered{{netuid="1",hotkey="{hotkey}"}} 0')
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


@pytest.fixture
async def neurons() -> AsyncIterator[tuple[Neurons, str]]:
    target = Neurons({BEFORE_THE_KILL: True, AFTER_THE_KILL: True})
    app = web.Application()
    app.router.add_get("/metrics", target.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield target, f"127.0.0.1:{port}"
    await runner.cleanup()


def pair_settings(target: str) -> tuple[StackSettings, StackSettings]:
    """Two stacks, each a Prometheus and an Alertmanager; the Alertmanagers gossip with each
    other and each Prometheus sends to both."""
    web_ports = [free_port(), free_port()]
    gossip_ports = [free_port(), free_port()]
    settings = []
    for me, other, replica in ((0, 1, "a"), (1, 0, "b")):
        settings.append(
            StackSettings(
                targets={"taowatch-agent": [target]},
                overrides={**FAST_ALERTMANAGER, "deregistration_lookback": "5m"},
                external_labels={"replica": replica},
                alertmanager_port=web_ports[me],
                other_alertmanagers=[f"127.0.0.1:{web_ports[other]}"],
                alertmanager_cluster_port=gossip_ports[me],
                alertmanager_peers=[f"127.0.0.1:{gossip_ports[other]}"],
                alertmanager_peer_timeout=f"{PEER_TIMEOUT_SECONDS}s",
            )
        )
    return settings[0], settings[1]


def notifications(receiver: Receiver, hotkey: str, status: str = "firing") -> dict[str, int]:
    """How many Slack and PagerDuty notifications of that status mention the hotkey."""

    def counted(n: Notification, service: str) -> bool:
        return n.service == service and n.status == status and n.mentions(hotkey)

    return {
        service: sum(1 for n in receiver.notifications if counted(n, service))
        for service in (SLACK, PAGERDUTY)
    }


async def get_json(url: str) -> object:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        http.get(url) as resp,
    ):
        return await resp.json()


async def wait_until(what: str, check, timeout: float = DEADLINE):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {result!r}")
        await asyncio.sleep(0.2)


async def external_labels(stack: Stack) -> dict[str, str]:
    status = await get_json(stack.prometheus_url + "/api/v1/status/config")
    config = yaml.safe_load(status["data"]["yaml"])  # type: ignore[index]
    return dict(config["global"].get("external_labels", {}))


async def clustered(stack: Stack) -> bool:
    status = await get_json(stack.alertmanager_url + "/api/v2/status")
    cluster = status["cluster"]  # type: ignore[index]
    return cluster["status"] == "ready" and len(cluster["peers"]) == 2


async def holds_alert_for(stack: Stack, hotkey: str) -> bool:
    alerts = await get_json(stack.alertmanager_url + "/api/v2/alerts")
    return any(
        a["labels"].get("alertname") == ALERT and a["labels"].get("hotkey") == hotkey
        for a in alerts  # type: ignore[union-attr]
    )


async def test_a_prometheus_pair_notifies_once_per_alert_and_survives_losing_a_member(neurons):
    target, address = neurons
    settings_a, settings_b = pair_settings(address)
    async with (
        Receiver() as receiver,
        Stack(settings_a, receiver) as a,
        Stack(settings_b, receiver) as b,
    ):
        for stack in (a, b):
            await wait_until(
                f"{stack.alertmanager_url} in a cluster of two", lambda s=stack: clustered(s)
            )
            for hotkey in (BEFORE_THE_KILL, AFTER_THE_KILL):
                await stack.wait_for_query(
                    f'netuid_hotkey:bittensor_neuron_registered:max{{hotkey="{hotkey}"}} == 1',
                    DEADLINE,
                )
        assert [await external_labels(stack) for stack in (a, b)] == [
            {"replica": "a"},
            {"replica": "b"},
        ]

        target.registered[BEFORE_THE_KILL] = False
        await receiver.wait_for(
            lambda n: n.service == SLACK and n.status == "firing" and n.mentions(BEFORE_THE_KILL),
            DEADLINE,
        )
        # Both Alertmanagers hold the alert (each Prometheus sent it to both): each alone
        # would have notified.
        for stack in (a, b):
            await wait_until(
                "both Alertmanagers to hold the alert",
                lambda s=stack: holds_alert_for(s, BEFORE_THE_KILL),
            )
        await asyncio.sleep(DUPLICATE_WINDOW_SECONDS)
        assert notifications(receiver, BEFORE_THE_KILL) == {SLACK: 1, PAGERDUTY: 1}

        await a.kill("prometheus")
        target.registered[AFTER_THE_KILL] = False
        await receiver.wait_for(
            lambda n: n.service == SLACK and n.status == "firing" and n.mentions(AFTER_THE_KILL),
            DEADLINE,
        )
        await asyncio.sleep(DUPLICATE_WINDOW_SECONDS)
        assert notifications(receiver, AFTER_THE_KILL) == {SLACK: 1, PAGERDUTY: 1}
        # The surviving member keeps the earlier alert alive: losing a Prometheus neither
        # resolves it nor sends it again.
        assert notifications(receiver, BEFORE_THE_KILL) == {SLACK: 1, PAGERDUTY: 1}
        assert notifications(receiver, BEFORE_THE_KILL, "resolved") == {SLACK: 0, PAGERDUTY: 0}
        assert not receiver.rejected, receiver.rejected
