"""A rewind, a changed chain and adopting the new chain, end to end with real Prometheus and
Alertmanager at production thresholds (only the mismatch alerts' lookback is short, so their
resolve arrives within the test).

The watched neurons carry open alerts when the chain goes: a stake drop (critical, paging,
and a warning it inhibits) and a delegate take change. A rewind and the return to trust must
send exactly the rewind notification and its resolve; another chain behind the URL then
notifies on its own; adopting that chain (``taowatch agent --adopt-chain``, the agent left
running), where one watched miner is not registered and a validator holds far less stake,
must page nobody.
"""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
import yaml

from simnet.process import start_simnet
from simnet.scenario import neuron_keypair
from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings, free_port
from tests.support import REPO
from tests.support.system import job_names, spawn, stop, write_config

pytestmark = pytest.mark.e2e

DEADLINE = 90.0  # generous: a loaded CI machine, never a performance bound
DROP_AT = 30  # the block of chain A's stake drop and take change

SUBNET_A = f"""
subnets:
  - netuid: 1
    tempo: 10
    max_uids: 6
    immunity_period: 5
    burn_tao: 1
    neurons:
      - {{name: v1, role: validator, stake_tao: 100, every: 3}}
      - {{name: v2, role: validator, stake_tao: 50, every: 3}}
      - {{name: m1, role: miner, quality: 0.9}}
      - {{name: m2, role: miner, quality: 0.1}}
events:
  - {{at: {DROP_AT}, stake: {{netuid: 1, hotkey: v1, change_percent: -50}}}}
  - {{at: {DROP_AT}, take: {{hotkey: v1, percent: 9}}}}
"""

# Another chain: m2 never registered, v1 with a fifth of chain A's stake after its drop.
SUBNET_B = """
subnets:
  - netuid: 1
    tempo: 10
    max_uids: 6
    immunity_period: 5
    burn_tao: 1
    neurons:
      - {name: v1, role: validator, stake_tao: 10, every: 3}
      - {name: v2, role: validator, stake_tao: 50, every: 3}
      - {name: m1, role: miner, quality: 0.9}
"""

NAMES = ("v1", "v2", "m1", "m2")


def alert_names() -> set[str]:
    return {
        rule["alert"]
        for path in (REPO / "alerts" / "rules").glob("*.yaml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def sent(receiver: Receiver, since: int, until: int | None = None) -> list[Notification]:
    """Notifications ``since:until`` in arrival order, the heartbeat aside."""
    return [n for n in receiver.notifications[since:until] if n.service != HEARTBEAT]


def named(notes: list[Notification]) -> list[tuple[str, str, frozenset[str]]]:
    names = alert_names()
    return [(n.service, n.status, frozenset(a for a in names if n.mentions(a))) for n in notes]


def is_(service: str, status: str, alertname: str):
    return lambda n: n.service == service and n.status == status and n.mentions(alertname)


async def test_a_rewind_pages_once_a_changed_chain_notifies_on_its_own_and_adoption_pages_nobody(
    tmp_path,
):
    agent_job, _ = job_names()
    knobs = {**FAST_ALERTMANAGER, "chain_mismatch_lookback": "30s"}
    (tmp_path / "a.yaml").write_text(SUBNET_A)
    (tmp_path / "b.yaml").write_text(SUBNET_B)
    port, agent_port = free_port(), free_port()
    hotkeys = {name: neuron_keypair(name).ss58_address for name in NAMES}
    config = write_config(
        tmp_path,
        "agent",
        {
            "chain": {"network": f"sim://127.0.0.1:{port}", "timeout_seconds": 3},
            "listen": {"host": "127.0.0.1", "port": agent_port},
            "watch": [{"netuid": 1, "hotkeys": list(hotkeys.values())}],
            "state_file": str(tmp_path / "agent-state.json"),
        },
    )

    def chain(scenario: str, nonce: str):
        return start_simnet(
            scenario=tmp_path / scenario, block_time=0.25, port=port, genesis_nonce=nonce
        )

    sim = chain("a.yaml", "A")
    agent = spawn("agent", ["agent", "--config", config], tmp_path)
    settings = StackSettings(targets={agent_job: [f"127.0.0.1:{agent_port}"]}, overrides=knobs)
    try:
        async with Receiver() as receiver, Stack(settings, receiver) as stack:
            # Open alerts on chain A: the stake drop pages (its warning is inhibited), the
            # take change warns.
            await receiver.wait_for(is_(PAGERDUTY, "firing", "BittensorNeuronStakeDrop"), DEADLINE)
            await receiver.wait_for(is_(SLACK, "firing", "BittensorDelegateTakeChanged"), DEADLINE)
            await stack.wait_for_query(
                'ALERTS{alertname="BittensorNeuronStakeDrop",severity="warning",alertstate="firing"}',
                DEADLINE,
            )
            await stack.wait_for_query(f"bittensor_exporter_source_block > {DROP_AT + 8}", DEADLINE)
            before_rewind = len(receiver.notifications)

            # 1. The same chain from block 1 again (same genesis nonce): rewound, then
            # trusted again once it passes the trusted block.
            sim.stop()
            sim = chain("a.yaml", "A")
            rewound_at = time.time()
            rewound_note = await receiver.wait_for(
                is_(SLACK, "firing", "BittensorRpcEndpointRewound"), DEADLINE
            )
            await stack.wait_for_query(
                'bittensor_exporter_chain_mismatch{kind="rewound"} == 0 '
                'and on () bittensor_exporter_chain_mismatches_total{kind="rewound"} == 1',
                DEADLINE,
            )
            # The open alerts rode through it, and the rewind is still within its lookback.
            await stack.wait_for_query(
                'ALERTS{alertname="BittensorNeuronStakeDrop",severity="critical",alertstate="firing"}'
                ' and on () ALERTS{alertname="BittensorRpcEndpointRewound",alertstate="firing"}',
                DEADLINE,
            )

            # 2. Another chain behind the URL while the rewind alert still fires: a
            # notification of its own.
            sim.stop()
            sim = chain("b.yaml", "B")
            changed_at = time.time()
            changed_note = await receiver.wait_for(
                is_(SLACK, "firing", "BittensorRpcEndpointChainChanged"), DEADLINE
            )
            await stack.wait_for_query(
                'bittensor_exporter_chain_mismatch{kind="changed"} == 1', DEADLINE
            )
            await receiver.wait_for(is_(SLACK, "resolved", "BittensorRpcEndpointRewound"), DEADLINE)
            before_adoption = len(receiver.notifications)
            rewound = frozenset({"BittensorRpcEndpointRewound"})
            changed = frozenset({"BittensorRpcEndpointChainChanged"})
            # The rewind: one notification and its resolve; the changed chain: its own.
            incidents = named(sent(receiver, before_rewind, before_adoption))
            assert sorted(incidents) == sorted(
                [
                    (SLACK, "firing", rewound),
                    (SLACK, "resolved", rewound),
                    (SLACK, "firing", changed),
                ]
            ), incidents

            # 3. Adopt it, the agent left running.
            adopt = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "taowatch.cli", "agent", "--config", config),
                "--adopt-chain",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=REPO,
            )
            out, err = await asyncio.wait_for(adopt.communicate(), DEADLINE)
            assert adopt.returncode == 0, err.decode()
            assert "adopted chain" in out.decode()
            adopted_at = time.time()
            m2 = hotkeys["m2"]
            await stack.wait_for_query(
                f'netuid_hotkey:bittensor_neuron_registered:max{{hotkey="{m2}"}} == 0', DEADLINE
            )
            await stack.wait_for_query(
                'bittensor_exporter_chain_mismatch{kind="changed"} == 0', DEADLINE
            )
            trusted_again_at = time.time()
            # Thirty evaluations and more on the new chain: room for any wrong page.
            await receiver.wait_for(
                is_(SLACK, "resolved", "BittensorRpcEndpointChainChanged"), DEADLINE
            )
            # After it: the old chain's open alerts resolve (adoption closes them) and the
            # mismatch alert resolves; nothing fires, nothing pages.
            after = named(sent(receiver, before_adoption))
            assert [n for n in after if n[1] != "resolved"] == [], after
            assert changed in {n[2] for n in after}
            assert not receiver.rejected, receiver.rejected
            rows = [
                ("rewound chain up -> slack firing", rewound_note.received_at - rewound_at),
                ("other chain up -> slack firing", changed_note.received_at - changed_at),
                ("adopted -> Prometheus sees it trusted", trusted_again_at - adopted_at),
            ]
            print("\ntime to notification (block/poll 0.25s, scrape 1s, evaluation 1s):")
            for label, seconds in rows:
                print(f"  {label:<40} {seconds:5.2f} s")
    finally:
        stop([agent])
        sim.stop()
