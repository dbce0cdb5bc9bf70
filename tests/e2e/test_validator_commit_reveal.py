"""The bundled validator, in its own process, on a Yuma3 + commit-reveal subnet of a served
simnet: its weights land through timelocked commits the chain opens at the reveal (the sim-only
escrow seam), the good miner out-earns the poor one, and its metrics say commit and reveal
apart. Then its commits stop (the owner raises the rate limit out of reach): the unrevealed
gauge drains and the last-commit block stops moving. Finally the owner switches commit-reveal
off and the same process sets plain weights, reading the switch from the chain."""

from __future__ import annotations

import pytest
from bittensor.keyfiles import Keypair

from common.chain import make_client
from common.metric_names import Runtime as R
from simnet.scenario import neuron_keypair
from tests.support.neuron_processes import miners_and_validator
from tests.support.scenarios import VALIDATOR_NAME, one_validator_scenario
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

NETUID = 1
TEMPO = 10
GOOD = Keypair.create_from_uri("//taowatch/e2e/cr-good")
POOR = Keypair.create_from_uri("//taowatch/e2e/cr-poor")
VALIDATOR = neuron_keypair(VALIDATOR_NAME)

SCENARIO = one_validator_scenario(
    "commit-reveal-e2e",
    NETUID,
    weights_rate_limit=2,
    min_allowed_weights=1,
    commit_reveal=True,
    reveal_period_epochs=1,
    yuma3=True,
)


async def scrape(port: int) -> dict:
    import aiohttp
    from prometheus_client.parser import text_string_to_metric_families

    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as resp,
        ):
            text = await resp.text()
    except (aiohttp.ClientError, OSError):
        return {}
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.labels.get("hotkey") == VALIDATOR.ss58_address
    }


async def test_the_validator_commits_the_chain_reveals_and_the_metrics_tell_them_apart(
    tmp_path, processes
):
    async with miners_and_validator(
        tmp_path, processes, scenario=SCENARIO, netuid=NETUID, good=GOOD, poor=POOR
    ) as neurons:
        sim, ports = neurons.sim, neurons.ports
        good_uid, poor_uid = neurons.good_uid, neurons.poor_uid
        metrics_port = ports["validator"][1]

        async def validator_metrics() -> dict:
            return await scrape(metrics_port)

        async with make_client(sim.network) as client:
            # Both counters exist from start-up, before anything was committed or revealed.
            started = await eventually(validator_metrics, timeout=60, what="validator metrics")
            assert R.VALIDATOR_WEIGHT_COMMITS + "_total" in started
            assert R.VALIDATOR_WEIGHT_REVEALS + "_total" in started

            async def weights_on_chain():
                neurons = await client.neurons.all(NETUID, lite=False)
                vuid = next(n.uid for n in neurons if n.hotkey == VALIDATOR.ss58_address)
                row = dict(neurons[vuid].raw.get("weights") or [])
                return row if good_uid in row else None

            await eventually(weights_on_chain, timeout=90, what="revealed weights on chain")

            async def revealed():
                v = await validator_metrics()
                return v if v.get(R.VALIDATOR_WEIGHT_REVEALS + "_total", 0) >= 1 else None

            v = await eventually(revealed, timeout=60, what="a reveal observed by the validator")
            assert v[R.VALIDATOR_WEIGHT_COMMITS + "_total"] >= 1
            assert v[R.VALIDATOR_LAST_COMMIT_BLOCK] > 0
            assert v[R.VALIDATOR_LAST_REVEAL_BLOCK] > 0
            landed_at = await client.block()

            async def good_ahead():
                mg = await client.subnets.metagraph(NETUID, commitments=False)
                if mg.block < landed_at + 2 * TEMPO:
                    return None
                good, poor = mg.neurons[good_uid].incentive, mg.neurons[poor_uid].incentive
                return (good, poor) if good > poor else None

            good_incentive, poor_incentive = await eventually(
                good_ahead, timeout=60, what="good miner ahead in incentive"
            )
            assert good_incentive > poor_incentive
            row = await weights_on_chain()
            assert row[good_uid] > row.get(poor_uid, 0)
            # Every successful attempt on this subnet was a commit, none a plain set.
            v = await validator_metrics()
            assert v[R.VALIDATOR_WEIGHT_COMMITS + "_total"] >= 2
            assert v[R.VALIDATOR_WEIGHT_REVEALS + "_total"] >= 1

            # Commits stop: the rate limit moves out of reach. What was committed is revealed
            # within the reveal period, the gauge drains, the last-commit block freezes.
            async with sim.admin as admin:
                await admin.set_hyperparameter(NETUID, "weights_rate_limit", 100_000)

            async def drained():
                v = await validator_metrics()
                return v if v.get(R.VALIDATOR_UNREVEALED_COMMITS) == 0 else None

            stopped = await eventually(drained, timeout=60, what="the unrevealed gauge drained")
            head = await client.block()

            async def an_epoch_later():
                return await client.block() >= head + TEMPO + 1

            await eventually(an_epoch_later, timeout=30, what="an epoch without commits")
            later = await validator_metrics()
            assert later[R.VALIDATOR_LAST_COMMIT_BLOCK] == stopped[R.VALIDATOR_LAST_COMMIT_BLOCK]
            assert (
                later[R.VALIDATOR_WEIGHT_COMMITS + "_total"]
                == (stopped[R.VALIDATOR_WEIGHT_COMMITS + "_total"])
            )
            assert later[R.VALIDATOR_UNREVEALED_COMMITS] == 0

            # Commit-reveal off: the same process now sets plain weights (read from the chain).
            async with sim.admin as admin:
                await admin.set_hyperparameter(NETUID, "commit_reveal", False)
                await admin.set_hyperparameter(NETUID, "weights_rate_limit", 2)

            async def plain_set():
                v = await validator_metrics()
                last = v.get(R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK, 0)
                return v if last > later[R.VALIDATOR_LAST_COMMIT_BLOCK] else None

            plain = await eventually(plain_set, timeout=60, what="plain weights after the switch")
            assert (
                plain[R.VALIDATOR_WEIGHT_COMMITS + "_total"]
                == (later[R.VALIDATOR_WEIGHT_COMMITS + "_total"])
            )
            assert plain[R.VALIDATOR_UNREVEALED_COMMITS] == 0
