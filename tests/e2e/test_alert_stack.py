"""Real Prometheus and Alertmanager with the repository's rules, notifying a loopback receiver.

Two levels: a tiny aiohttp app serving hand-written exposition (registered flips 1 -> 0 and
back), and the whole system on simnet (agent, bundled miner and validator; the chain
deregisters the miner and halves the validator's stake). Either way the firing and the
resolved notifications must reach the receiver as Slack and PagerDuty payloads. The time from
the event to each notification is printed (run with -s to see it), never asserted:
performance belongs in bench/.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from simnet.process import running_simnet, start_simnet
from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import (
    FAST_ALERTMANAGER,
    Stack,
    StackError,
    StackSettings,
    find_binary,
    free_port,
)
from tests.support import REPO
from tests.support.loopback import serving_metrics
from tests.support.system import job_names, onboard, probe_config, spawn, stop, write_config

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


@pytest.fixture
async def fake_target() -> AsyncIterator[tuple[FakeExporter, str]]:
    exporter = FakeExporter()
    async with serving_metrics(exporter.exposition) as target:
        yield exporter, target


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


# --- the receiver checks payloads the way Slack and PagerDuty do --------------------------------

PD_TRIGGER = {
    "routing_key": "0123456789abcdef0123456789abcdef",
    "event_action": "trigger",
    "dedup_key": "abc",
    "payload": {"summary": "s", "source": "taowatch", "severity": "critical"},
    "links": [{"href": "alerts/RUNBOOK.md#x", "text": "Runbook"}],
}


async def test_the_receiver_records_a_valid_pagerduty_trigger_and_answers_like_the_events_api(
    aiohttp_client,
):
    receiver = Receiver()
    client = await aiohttp_client(receiver.app)
    resp = await client.post("/pagerduty/v2/enqueue", json=PD_TRIGGER)
    assert resp.status == 202
    assert (await resp.json()) == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "abc",
    }
    (note,) = receiver.notifications
    assert note.service == PAGERDUTY and note.status == "firing"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"routing_key": "short"}, "routing_key"),
        ({"event_action": "fire"}, "event_action"),
        ({"payload": {"summary": "s", "source": "x", "severity": "page"}}, "severity"),
        ({"payload": {"summary": "", "source": "x", "severity": "info"}}, "summary"),
        ({"event_action": "resolve", "dedup_key": None}, "dedup_key is required"),
        ({"surprise": 1}, "unknown fields"),
    ],
)
async def test_the_receiver_refuses_a_pagerduty_event_the_events_api_would_refuse(
    aiohttp_client, change, reason
):
    receiver = Receiver()
    client = await aiohttp_client(receiver.app)
    body = {k: v for k, v in {**PD_TRIGGER, **change}.items() if v is not None}
    resp = await client.post("/pagerduty/v2/enqueue", json=body)
    assert resp.status == 400
    answer = await resp.json()
    assert answer["status"] == "invalid event"
    assert any(reason in e for e in answer["errors"]), answer
    assert not receiver.notifications and len(receiver.rejected) == 1


async def test_the_receiver_refuses_a_slack_message_without_text_or_not_json(aiohttp_client):
    receiver = Receiver()
    client = await aiohttp_client(receiver.app)
    resp = await client.post("/slack/services/T/B/X", json={"channel": "#x"})
    assert resp.status == 400 and await resp.text() == "no_text"
    resp = await client.post("/slack/services/T/B/X", data="not json")
    assert resp.status == 400 and await resp.text() == "invalid_payload"
    resp = await client.post("/slack/services/T/B/X", json={"text": "[RESOLVED] X"})
    assert resp.status == 200 and await resp.text() == "ok"
    (note,) = receiver.notifications
    assert note.status == "resolved"


# --- end to end: simnet, the agent, a miner and a validator, Prometheus, Alertmanager -------

NETUID = 1
VALIDATOR_STAKE_TAO = 1_000
E2E_DEADLINE = 90.0


def _wire_names(exposition: str) -> set[str]:
    """Every sample name a family can put on the wire, from its TYPE (samples or not)."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    names = set()
    for family in text_string_to_metric_families(exposition):
        for suffix in suffixes.get(family.type, [""]):
            names.add(family.name + suffix)
        names |= {s.name for s in family.samples}
    return names


def _rule_metric_names() -> set[str]:
    token = re.compile(r"(?<![:\w])((?:bittensor|prometheus|alertmanager)_[a-z0-9_]+)(?![:\w])")
    names = set()
    for path in sorted((REPO / "alerts" / "rules").glob("*.rules.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                names |= set(token.findall(re.sub(r"\{[^}]*\}", "{}", rule["expr"])))
    return names


def _about(service: str, status: str, alertname: str, hotkey: str):
    def match(n: Notification) -> bool:
        return (
            n.service == service
            and n.status == status
            and n.mentions(alertname)
            and n.mentions(hotkey)
        )

    return match


@pytest.mark.slow
async def test_on_simnet_a_deregistered_miner_and_a_validators_stake_drop_page_and_resolve(
    tmp_path,
):
    # Short lookbacks so the resolves arrive within the test; everything else as committed.
    overrides = {
        **FAST_ALERTMANAGER,
        "deregistration_lookback": "20s",
        "stake_drop_window": "20s",
    }
    ports = {name: free_port() for name in ("agent", "miner", "axon", "validator")}
    procs: list[subprocess.Popen] = []
    with running_simnet(block_time=0.25) as sim:
        try:
            async with sim.admin as admin:
                hotkeys = await onboard(
                    sim.network, tmp_path, {"miner": 0, "validator": VALIDATOR_STAKE_TAO}
                )
                miner, validator = hotkeys["miner"], hotkeys["validator"]
                wallets = str(tmp_path / "wallets")
                chain = {"network": sim.network, "netuid": NETUID}
                agent_cfg = {
                    "chain": {"network": sim.network, "timeout_seconds": 5},
                    "listen": {"host": "127.0.0.1", "port": ports["agent"]},
                    "watch": [{"netuid": NETUID, "hotkeys": [miner, validator]}],
                    "export_all_neurons": [NETUID],
                    "state_file": str(tmp_path / "agent-state.json"),
                    # The probe's series are read by a rule too (BittensorAxonUnreachable).
                    "probe": probe_config(tmp_path),
                }
                miner_cfg = {
                    "chain": chain,
                    "wallet": {"name": "miner", "hotkey": "default", "path": wallets},
                    "metrics": {"host": "127.0.0.1", "port": ports["miner"]},
                    "axon": {
                        "host": "127.0.0.1",
                        "port": ports["axon"],
                        "external_ip": "127.0.0.1",
                    },
                    "metagraph": {"sync_interval_seconds": 10},
                }
                validator_cfg = {
                    "chain": chain,
                    "wallet": {"name": "validator", "hotkey": "default", "path": wallets},
                    "metrics": {"host": "127.0.0.1", "port": ports["validator"]},
                    "query": {"step_interval_seconds": 2, "timeout_seconds": 2},
                    "metagraph": {"sync_interval_seconds": 10},
                }
                for name, cfg in (
                    ("agent", agent_cfg),
                    ("miner", miner_cfg),
                    ("validator", validator_cfg),
                ):
                    procs.append(
                        spawn(name, [name, "--config", write_config(tmp_path, name, cfg)], tmp_path)
                    )

                settings = StackSettings(
                    targets={
                        "taowatch-agent": [f"127.0.0.1:{ports['agent']}"],
                        "taowatch-neuron": [
                            f"127.0.0.1:{ports['miner']}",
                            f"127.0.0.1:{ports['validator']}",
                        ],
                    },
                    overrides=overrides,
                )
                async with Receiver() as receiver, Stack(settings, receiver) as stack:
                    # Everything scraped, both hotkeys registered, the stake recorded.
                    await stack.wait_for_query(
                        f'netuid_hotkey:bittensor_neuron_registered:max{{hotkey="{miner}"}} == 1',
                        E2E_DEADLINE,
                    )
                    await stack.wait_for_query(
                        "netuid_hotkey:bittensor_neuron_stake_alpha:max"
                        f'{{hotkey="{validator}"}} > 1',
                        E2E_DEADLINE,
                    )
                    await stack.wait_for_query(
                        'count(up{job="taowatch-neuron"} == 1) == 2', E2E_DEADLINE
                    )

                    # Every metric the rules read is in the live exposition of what runs.
                    exposed: set[str] = set()
                    async with aiohttp.ClientSession() as http:
                        for port in (ports["agent"], ports["miner"], ports["validator"]):
                            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                                exposed |= _wire_names(await resp.text())
                            # Prometheus' and Alertmanager's own, for the pipeline alerts.
                        for url in (stack.prometheus_url, stack.alertmanager_url):
                            async with http.get(f"{url}/metrics") as resp:
                                exposed |= _wire_names(await resp.text())
                    missing = _rule_metric_names() - exposed
                    assert not missing, f"rules read metrics nothing exposes: {sorted(missing)}"

                    # A failed poll is not a deregistration: every chain call fails for 5 s.
                    quiet_since = time.time()
                    await admin.set_faults(error_rate=1.0)
                    await stack.wait_for_query(
                        'max_over_time(bittensor_exporter_up{job="taowatch-agent"}[5s]) == 0',
                        E2E_DEADLINE,
                    )
                    await admin.set_faults()
                    await stack.wait_for_query(
                        'bittensor_exporter_up{job="taowatch-agent"} == 1', E2E_DEADLINE
                    )
                    # An agent restart is not a stake drop nor a deregistration.
                    stop(procs[:1])
                    await stack.wait_for_query('up{job="taowatch-agent"} == 0', E2E_DEADLINE)
                    procs[0] = spawn(
                        "agent", ["agent", "--config", str(tmp_path / "agent.yaml")], tmp_path
                    )
                    await stack.wait_for_query('up{job="taowatch-agent"} == 1', E2E_DEADLINE)
                    await stack.wait_for_query(
                        "netuid_hotkey:bittensor_neuron_stake_alpha:max"
                        f'{{hotkey="{validator}"}} > 1 and on () bittensor_exporter_up == 1',
                        E2E_DEADLINE,
                    )
                    window = int(time.time() - quiet_since) + 2
                    noise = await stack.query(
                        "count_over_time(ALERTS{alertname=~"
                        f'"BittensorNeuronDeregistered|BittensorNeuronStakeDrop"}}[{window}s])'
                    )
                    assert noise == [], noise

                    await admin.deregister(NETUID, miner)
                    deregistered = time.time()
                    await admin.scale_stake(NETUID, validator, 0.5)
                    dropped = time.time()

                    dereg_slack = await receiver.wait_for(
                        _about(SLACK, "firing", "BittensorNeuronDeregistered", miner), E2E_DEADLINE
                    )
                    dereg_pd = await receiver.wait_for(
                        _about(PAGERDUTY, "firing", "BittensorNeuronDeregistered", miner),
                        E2E_DEADLINE,
                    )
                    stake_slack = await receiver.wait_for(
                        _about(SLACK, "firing", "BittensorNeuronStakeDrop", validator), E2E_DEADLINE
                    )
                    stake_pd = await receiver.wait_for(
                        _about(PAGERDUTY, "firing", "BittensorNeuronStakeDrop", validator),
                        E2E_DEADLINE,
                    )
                    # The 50 % drop is critical; its warning twin is inhibited, not sent.
                    assert stake_pd.payload["payload"]["severity"] == "critical"
                    assert not any(
                        n.service == SLACK
                        and n.mentions("BittensorNeuronStakeDrop (warning)")
                        and n.mentions(validator)
                        for n in receiver.notifications
                    )
                    dereg_resolved = await receiver.wait_for(
                        _about(SLACK, "resolved", "BittensorNeuronDeregistered", miner),
                        E2E_DEADLINE,
                    )
                    stake_resolved = await receiver.wait_for(
                        _about(SLACK, "resolved", "BittensorNeuronStakeDrop", validator),
                        E2E_DEADLINE,
                    )
                    await receiver.wait_for(
                        lambda n: (
                            n.service == PAGERDUTY
                            and n.payload["event_action"] == "resolve"
                            and n.payload["dedup_key"] == dereg_pd.payload["dedup_key"]
                        ),
                        E2E_DEADLINE,
                    )
                    assert not receiver.rejected, receiver.rejected
                    broken = [r for r in await stack.rule_health() if r[1] == "err"]
                    assert not broken, broken
                    # The deregistered miner keeps serving metrics: no runtime-down page for it.
                    assert not any(
                        n.mentions("BittensorNeuronRuntimeDown") for n in receiver.notifications
                    )
        finally:
            stop(procs)

    rows = [
        ("deregistration -> slack firing", dereg_slack.received_at - deregistered),
        ("deregistration -> pagerduty trigger", dereg_pd.received_at - deregistered),
        ("stake drop -> slack firing", stake_slack.received_at - dropped),
        ("stake drop -> pagerduty trigger", stake_pd.received_at - dropped),
        ("deregistration -> resolved (lookback 20s)", dereg_resolved.received_at - deregistered),
        ("stake drop -> resolved (window 20s)", stake_resolved.received_at - dropped),
    ]
    print(
        "\nsimnet e2e, time from chain event to notification (block/poll 0.25s, scrape 1s, "
        "evaluation 1s, group_wait 1s; target poll+scrape+eval+group_wait+5s = 8.25s):"
    )
    for label, seconds in rows:
        print(f"  {label:<44} {seconds:6.2f} s")


def _firing(receiver: Receiver) -> set[str]:
    """Every alert named in a firing Slack notification so far, the heartbeat aside."""
    names = {
        rule["alert"]
        for path in (REPO / "alerts" / "rules").glob("*.yaml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    firing = [n for n in receiver.notifications if n.service == SLACK and n.status == "firing"]
    return {name for name in names for n in firing if n.mentions(name)} - {"TaowatchWatchdog"}


async def set_faults(sim, **faults: float) -> None:
    async with sim.admin as admin:
        await admin.set_faults(**faults)


async def test_partial_errors_page_the_error_ratio_and_a_rewound_or_other_chain_never_deregisters(
    tmp_path,
):
    agent_job, _ = job_names()
    knobs = {
        **FAST_ALERTMANAGER,
        "deregistration_lookback": "10m",
        "poll_error_window": "20s",
        "poll_error_for": "10s",
        "endpoint_error_ratio": 2,  # one endpoint: its ratio is the poll ratio; test one alert
        "chain_mismatch_lookback": "10m",
    }
    port = free_port()
    sim = start_simnet(block_time=0.25, port=port)
    other = None
    agent = None
    try:
        hotkeys = await onboard(sim.network, tmp_path, {"miner": 0, "validator": 10})
        state = tmp_path / "agent-state.json"
        agent_port = free_port()

        def agent_config(network: str) -> str:
            cfg = {
                "chain": {"network": network, "timeout_seconds": 3},
                "listen": {"host": "127.0.0.1", "port": agent_port},
                "watch": [{"netuid": 1, "hotkeys": list(hotkeys.values())}],
                "state_file": str(state),
            }
            return write_config(tmp_path, "agent", cfg)

        agent = spawn("agent", ["agent", "--config", agent_config(sim.network)], tmp_path)
        settings = StackSettings(targets={agent_job: [f"127.0.0.1:{agent_port}"]}, overrides=knobs)
        async with Receiver() as receiver, Stack(settings, receiver) as stack:
            for hotkey in hotkeys.values():
                await stack.wait_for_query(
                    f'netuid_hotkey:bittensor_neuron_registered:max{{hotkey="{hotkey}"}} == 1',
                    DEADLINE,
                )
            # 90% of RPC calls fail: reads are retried (exporters/retry.py), which carries a
            # poll through 30% (tests/e2e/test_read_losses.py) but not this; most polls fail,
            # a few get through, and the ratio pages.
            await set_faults(sim, error_rate=0.9)
            await receiver.wait_for(
                _is(SLACK, "firing", "BittensorExporterPollErrorRatio"), DEADLINE * 2
            )
            assert _firing(receiver) == {"BittensorExporterPollErrorRatio"}
            await set_faults(sim)
            await stack.wait_for_query("bittensor_exporter_up == 1", DEADLINE)
            saved = state.read_bytes()

            # The same URL, a restarted chain (a fresh genesis): another chain, never
            # deregistered.
            sim.stop()
            sim = start_simnet(block_time=0.25, port=port)
            await receiver.wait_for(
                _is(SLACK, "firing", "BittensorRpcEndpointChainChanged"), DEADLINE
            )
            await stack.wait_for_query(
                'bittensor_exporter_chain_mismatches_total{kind="changed"} >= 1', DEADLINE
            )

            # The agent restarted against a second, different simnet: the same verdict.
            stop([agent])
            other = start_simnet(block_time=0.25)
            agent = spawn("agent", ["agent", "--config", agent_config(other.network)], tmp_path)
            await stack.wait_for_query(
                "bittensor_exporter_chain_mismatch == 1"
                " and on (job, instance) bittensor_exporter_up == 1",
                DEADLINE,
            )
            await asyncio.sleep(3)  # a few more evaluations: room for a wrong page to arrive
            await stack.wait_for_query("bittensor_exporter_chain_mismatch == 1", DEADLINE)

            assert "BittensorNeuronDeregistered" not in _firing(receiver)
            assert state.read_bytes() == saved
            assert not receiver.rejected, receiver.rejected
    finally:
        stop([agent] if agent else [])
        sim.stop()
        if other is not None:
            other.stop()
