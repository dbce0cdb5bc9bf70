"""Real miner and validator processes against a simnet server.

One good miner, one deliberately poor miner (wrong half the time, slow) and the validator, each
started as ``taowatch miner|validator --config ...``. The test checks the chain (weights land,
the next epochs pay the good miner more) and that each process's own metrics tell the same
story, then probes a real miner with unregistered and replayed requests, deregisters the poor
miner and checks it says so while still serving metrics, and finally fails every chain RPC for
a while and checks the validator counts it and recovers.
"""

from __future__ import annotations

import json
import signal

import aiohttp
import pytest
from bittensor.keyfiles import Keypair
from prometheus_client.parser import text_string_to_metric_families

from common.chain import make_client
from common.metric_names import Runtime as R
from neuron.auth import sign_request
from simnet.scenario import neuron_keypair
from tests.support.neuron_processes import miners_and_validator
from tests.support.scenarios import VALIDATOR_NAME, one_validator_scenario
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

NETUID = 1
GOOD = Keypair.create_from_uri("//taowatch/e2e/good")
POOR = Keypair.create_from_uri("//taowatch/e2e/poor")
VALIDATOR = neuron_keypair(VALIDATOR_NAME)

SCENARIO = one_validator_scenario("neuron-e2e", NETUID, weights_rate_limit=2, min_allowed_weights=1)


async def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as resp,
    ):
        text = await resp.text()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples, name: str, **labels: str) -> float | None:
    for (n, ls), v in samples.items():
        if n == name and set(labels.items()) <= set(ls):
            return v
    return None


async def try_scrape(port: int):
    try:
        return await scrape(port)
    except (aiohttp.ClientError, OSError):
        return None


async def test_real_neurons_move_incentive_and_their_metrics_agree(tmp_path, processes):
    async with miners_and_validator(
        tmp_path, processes, scenario=SCENARIO, netuid=NETUID, good=GOOD, poor=POOR
    ) as neurons:
        sim, ports = neurons.sim, neurons.ports
        good_uid, poor_uid = neurons.good_uid, neurons.poor_uid
        validator = neurons.validator
        metrics = {name: ports[name][1] for name in ports}

        client = make_client(sim.network)
        async with client:
            # Both miners publish their axon on chain (ServeAxon) once they see themselves.
            async def axons_served():
                mg = await client.subnets.metagraph(NETUID, commitments=False)
                return (
                    mg.neurons[good_uid].axon == f"127.0.0.1:{ports['good'][0]}"
                    and mg.neurons[poor_uid].axon == f"127.0.0.1:{ports['poor'][0]}"
                )

            await eventually(axons_served, timeout=60, what="both axons served on chain")

            # The validator's weights land on chain.
            async def weights_on_chain():
                neurons = await client.neurons.all(NETUID, lite=False)
                vuid = next(n.uid for n in neurons if n.hotkey == VALIDATOR.ss58_address)
                row = dict(neurons[vuid].raw.get("weights") or [])
                return row if good_uid in row else None

            row = await eventually(weights_on_chain, timeout=60, what="validator weights")
            landed_at = await client.block()

            # After the following epochs the good miner earns more than the poor one.
            async def good_ahead():
                mg = await client.subnets.metagraph(NETUID, commitments=False)
                if mg.block < landed_at + 2 * 10:
                    return None
                good, poor = mg.neurons[good_uid].incentive, mg.neurons[poor_uid].incentive
                return (good, poor) if good > poor else None

            good_incentive, poor_incentive = await eventually(
                good_ahead, timeout=60, what="good miner ahead in incentive"
            )
            assert good_incentive > 0.5 > poor_incentive
            row = await weights_on_chain()
            assert row[good_uid] > row.get(poor_uid, 0)

            # The runtime metrics tell the same story.
            v = await scrape(metrics["validator"])
            assert value(v, R.VALIDATOR_SET_WEIGHTS + "_total", outcome="success") >= 1
            last_block = value(v, R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK)
            assert 0 < last_block <= await client.block()
            assert value(v, R.VALIDATOR_MINER_SCORE, uid=str(good_uid)) > value(
                v, R.VALIDATOR_MINER_SCORE, uid=str(poor_uid)
            )
            assert value(v, R.VALIDATOR_QUERIES + "_total", outcome="correct") >= 1
            assert value(v, R.VALIDATOR_QUERIES + "_total", outcome="wrong") >= 1
            assert value(v, R.SELF_REGISTERED) == 1
            assert value(v, R.BUILD_INFO, role="validator") == 1
            g = await scrape(metrics["good"])
            assert value(g, R.AXON_REQUESTS + "_total", route="/matmul", status="200") >= 1
            assert value(g, R.SELF_REGISTERED) == 1
            assert value(g, R.METAGRAPH_BLOCK) > 0
            assert value(g, "bittensor_axon_requests_total", hotkey=GOOD.ss58_address)

            # A real miner refuses an unregistered caller and a replay, and counts both.
            body = json.dumps({"seed": 1, "size": 8, "rounds": 1}).encode()
            url = f"http://127.0.0.1:{ports['good'][0]}/matmul"
            stranger = Keypair.create_from_uri("//taowatch/e2e/stranger")
            as_validator = sign_request(
                VALIDATOR, method="POST", path="/matmul", body=body, receiver=GOOD.ss58_address
            )
            as_stranger = sign_request(
                stranger, method="POST", path="/matmul", body=body, receiver=GOOD.ss58_address
            )
            async with aiohttp.ClientSession() as session:
                statuses = []
                for headers in (as_stranger, as_validator, as_validator):
                    async with session.post(url, data=body, headers=headers) as resp:
                        statuses.append(resp.status)
            assert statuses == [403, 200, 403]
            g = await scrape(metrics["good"])
            assert value(g, R.AXON_BLACKLISTED + "_total", reason="unregistered") == 1
            assert value(g, R.AXON_BLACKLISTED + "_total", reason="replayed") == 1

            # Deregistered: the poor miner says so and keeps serving its metrics.
            async with sim.admin as admin:
                await admin.deregister(NETUID, POOR.ss58_address)

            async def poor_knows():
                samples = await try_scrape(metrics["poor"])
                return samples and value(samples, R.SELF_REGISTERED) == 0

            await eventually(poor_knows, timeout=30, what="poor miner sees its deregistration")

            # The chain's RPC fails for a while: the neurons count it, keep serving metrics,
            # and the validator sets weights again once the chain answers.
            async with sim.admin as admin:
                await admin.set_faults(error_rate=1.0)

            async def sync_failing():
                samples = await try_scrape(metrics["validator"])
                return samples and (value(samples, R.METAGRAPH_SYNC_FAILURES + "_total") or 0) >= 1

            await eventually(sync_failing, timeout=30, what="validator counting failed syncs")
            during = value(await scrape(metrics["validator"]), R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK)
            async with sim.admin as admin:
                await admin.set_faults(error_rate=0.0)

            async def weights_again():
                samples = await try_scrape(metrics["validator"])
                return samples and value(samples, R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK) > during

            await eventually(weights_again, timeout=30, what="weights set again after the outage")

        validator.send_signal(signal.SIGTERM)
        assert validator.wait(20) == 0
