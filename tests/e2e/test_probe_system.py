"""The probe on the whole system: the agent process probes the real miner's axon as the miner
served it on simnet, Prometheus sees it up, the miner counts no refusal for it, and once the
miner is gone the rule fires on real data while the hotkey is still registered."""

from __future__ import annotations

import pytest

from tests.support.system import running_system, stop

pytestmark = pytest.mark.e2e

DEADLINE = 90.0  # generous: a loaded CI machine, never a performance bound


async def test_the_agent_probes_the_real_miner_and_the_rule_fires_when_it_is_gone(tmp_path):
    async with running_system(tmp_path, probe=True) as system:
        stack, miner = system.stack, system.hotkeys["miner"]
        validator = system.hotkeys["validator"]
        try:
            # The miner served its axon with ServeAxon; the agent read it from the chain.
            await stack.wait_for_query(
                f'bittensor_probe_up{{hotkey="{miner}",axon="127.0.0.1:{system.ports["axon"]}"}}'
                " == 1",
                DEADLINE,
            )
            await stack.wait_for_query(
                f'bittensor_probe_status_code{{hotkey="{miner}"}} == 200', DEADLINE
            )
            # The miner answered probes and counted none of them as a refusal: the probe
            # key is not registered, so the task route would have refused it as such.
            answered = await stack.wait_for_query(
                f'bittensor_axon_requests_total{{hotkey="{miner}",route="/probe",status="200"}}'
                " > 0",
                DEADLINE,
            )
            assert answered
            unregistered = await stack.query(
                f'bittensor_axon_blacklisted_total{{hotkey="{miner}",reason="unregistered"}}'
            )
            assert [float(r["value"][1]) for r in unregistered] == [0.0]
            # The validator serves no axon: nothing to probe.
            assert not await stack.query(f'bittensor_probe_up{{hotkey="{validator}"}}')
            assert not await stack.query('ALERTS{alertname="BittensorAxonUnreachable"}')

            stop([system.procs.pop("miner")])
            firing = await stack.wait_for_query(
                'ALERTS{alertname="BittensorAxonUnreachable",alertstate="firing",'
                f'hotkey="{miner}"}}',
                DEADLINE,
            )
            assert firing[0]["metric"]["severity"] == "warning"
            status = await stack.query(f'bittensor_probe_status_code{{hotkey="{miner}"}}')
            assert [float(r["value"][1]) for r in status] == [0.0]
        except Exception:
            print(system.log_tails())
            raise
