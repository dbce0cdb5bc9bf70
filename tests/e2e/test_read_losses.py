"""Reads that fail alone, end to end: the agent process against a served simnet, scraped by
real Prometheus, the repository's rules and routing in real Alertmanager, and the loopback
receiver standing in for Slack and PagerDuty.

* simnet answering as an older runtime (``simnet/runtime.py``: the late storage items
  missing) and upgraded mid-run by a scenario event: every poll completes, only the missing
  items' series are absent, the missing reads are named, and the upgrade is told once;
* 30% of RPC requests refused (``taowatch simnet faults``' admin call): nine polls in ten
  still complete, and nothing pages.
"""

from __future__ import annotations

import asyncio

import pytest
import yaml

from simnet.runtime import OLDER_RUNTIME_LACKS
from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings, free_port
from tests.support import REPO
from tests.support.system import job_names, onboard_keys, spawn, stop, write_config

pytestmark = pytest.mark.e2e

DEADLINE = 90.0  # generous: a loaded CI machine, never a performance bound
UPGRADE_AT = 240  # a minute of 0.25 s blocks: onboarding, the stack and a few scrapes first


def older_runtime_scenario(path) -> str:
    """The default world without its scripted events, as spec 293, upgraded at UPGRADE_AT."""
    scenario = yaml.safe_load((REPO / "simnet" / "scenarios" / "default.yaml").read_text())
    scenario.pop("scale", None)
    scenario["name"] = "older-runtime"
    scenario["runtime"] = {"spec_version": 293, "lacks": list(OLDER_RUNTIME_LACKS)}
    scenario["events"] = [
        {
            "at": UPGRADE_AT,
            "runtime_upgrade": {
                "spec_version": 301,
                "adds": ["SubtensorModule.MinNonImmuneUids"],
                "removes": [],
            },
        }
    ]
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return str(path)


async def agent_on(sim, tmp_path, knobs):
    """Onboard a miner and a validator, start the agent watching them; (agent, settings)."""
    agent_job, _ = job_names()
    hotkeys, coldkeys = await onboard_keys(sim.network, tmp_path, {"miner": 0, "validator": 10})
    port = free_port()
    cfg = {
        "chain": {"network": sim.network, "timeout_seconds": 3},
        "listen": {"host": "127.0.0.1", "port": port},
        "watch": [
            {"netuid": 1, "hotkeys": list(hotkeys.values())},
            {"coldkey": coldkeys["validator"], "netuids": [1]},
        ],
        "export_all_neurons": [1],
        "state_file": str(tmp_path / "agent-state.json"),
    }
    agent = spawn("agent", ["agent", "--config", write_config(tmp_path, "agent", cfg)], tmp_path)
    settings = StackSettings(targets={agent_job: [f"127.0.0.1:{port}"]}, overrides=knobs)
    return agent, settings, hotkeys


def alert_names() -> set[str]:
    return {
        rule["alert"]
        for path in (REPO / "alerts" / "rules").glob("*.yaml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    } - {"TaowatchWatchdog"}


def notified(receiver: Receiver, alertname: str, service: str = SLACK) -> list[Notification]:
    return [
        n
        for n in receiver.notifications
        if n.service == service and n.status == "firing" and n.mentions(alertname)
    ]


def pages(receiver: Receiver) -> list[Notification]:
    return [n for n in receiver.notifications if n.service == PAGERDUTY]


async def value(stack: Stack, expr: str) -> float:
    rows = await stack.query(expr)
    assert rows, f"no result for {expr}"
    return float(rows[0]["value"][1])


async def test_an_older_runtime_is_exported_without_a_failed_poll_and_its_upgrade_told_once(
    tmp_path,
):
    from simnet.process import running_simnet

    knobs = {**FAST_ALERTMANAGER, "read_unsupported_for": "0s", "event_lookback": "10m"}
    scenario = older_runtime_scenario(tmp_path / "older.yaml")
    with running_simnet(block_time=0.25, scenario=scenario) as sim:
        agent, settings, hotkeys = await agent_on(sim, tmp_path, knobs)
        try:
            async with Receiver() as receiver, Stack(settings, receiver) as stack:
                for hotkey in hotkeys.values():
                    await stack.wait_for_query(
                        f'bittensor_neuron_registered{{hotkey="{hotkey}"}} == 1', DEADLINE
                    )
                await stack.wait_for_query("bittensor_chain_runtime_spec_version == 293", DEADLINE)
                # Every missing read named at warning, no other.
                for read in ("epoch_consensus", "mechanism_counts", "min_non_immune_uids"):
                    note = await receiver.wait_for(
                        lambda n, r=read: (
                            n.service == SLACK
                            and n.mentions("BittensorExporterReadUnsupported")
                            and n.mentions(f"read {r}")
                        ),
                        DEADLINE,
                    )
                    assert "spec version 293" in note.text
                # The rules it lacks are absent, what it has is there.
                assert await stack.query("bittensor_subnet_null_consensus") == []
                assert await stack.query("bittensor_subnet_min_non_immune_uids") == []
                assert await stack.query("bittensor_subnet_yuma3_enabled") != []
                assert await stack.query("bittensor_neuron_pruning_position") != []

                await stack.wait_for_query("bittensor_chain_runtime_spec_version == 301", DEADLINE)
                upgrade = await receiver.wait_for(
                    lambda n: (
                        n.service == SLACK
                        and n.status == "firing"
                        and n.mentions("BittensorChainRuntimeUpgraded")
                    ),
                    DEADLINE,
                )
                assert "from spec version 293 to 301" in upgrade.text
                # The added item is read again, its rule exported.
                await stack.wait_for_query(
                    'bittensor_exporter_read_unsupported{read="min_non_immune_uids"} == 0',
                    DEADLINE,
                )
                await stack.wait_for_query("bittensor_subnet_min_non_immune_uids", DEADLINE)
                await asyncio.sleep(5)  # group_interval 1s: a second notice would be here
                assert len(notified(receiver, "BittensorChainRuntimeUpgraded")) == 1
                assert await value(stack, "sum(bittensor_exporter_poll_errors_total)") == 0
                assert await value(stack, "bittensor_exporter_polls_total") > 100
                assert pages(receiver) == []
                assert not receiver.rejected, receiver.rejected
        finally:
            stop([agent])


async def test_with_thirty_percent_of_requests_refused_nine_polls_in_ten_complete_and_nothing_pages(
    tmp_path,
):
    from simnet.process import running_simnet

    with running_simnet(block_time=0.25) as sim:
        agent, settings, hotkeys = await agent_on(sim, tmp_path, dict(FAST_ALERTMANAGER))
        try:
            async with Receiver() as receiver, Stack(settings, receiver) as stack:
                for hotkey in hotkeys.values():
                    await stack.wait_for_query(
                        f'bittensor_neuron_registered{{hotkey="{hotkey}"}} == 1', DEADLINE
                    )
                polls = "bittensor_exporter_polls_total"
                errors = "sum(bittensor_exporter_poll_errors_total)"
                before = (await value(stack, polls), await value(stack, errors))
                async with sim.admin as admin:
                    await admin.set_faults(error_rate=0.3)
                try:
                    await stack.wait_for_query(f"{polls} >= {before[0] + 150}", DEADLINE * 2)
                    await asyncio.sleep(1)  # a scrape after the last counted poll
                    after = (await value(stack, polls), await value(stack, errors))
                finally:
                    async with sim.admin as admin:
                        await admin.set_faults()
                done = after[0] - before[0]
                failed = after[1] - before[1]
                print(f"30% refused: {done - failed:.0f} of {done:.0f} polls completed")
                assert (done - failed) / done >= 0.9
                await asyncio.sleep(3)  # past group_wait: a page would have arrived
                assert pages(receiver) == []
                told = {
                    name
                    for n in receiver.notifications
                    if n.service != HEARTBEAT and n.status == "firing"
                    for name in alert_names()
                    if n.mentions(name)
                }
                # A read failing alone after retries may warn; nothing else is true here.
                assert told <= {"BittensorExporterReadFailing"}, told
        finally:
            stop([agent])
