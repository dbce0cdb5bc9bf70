"""Miner and validator are wired by one function, and their known-label counters start at 0."""

from __future__ import annotations

import aiohttp
import bittensor as bt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.metric_names import Runtime as R
from neuron.auth import Refusal
from neuron.build import build_neuron
from neuron.config import MinerConfig, ValidatorConfig
from neuron.metrics import SET_WEIGHTS_OUTCOMES, QueryOutcome, RefusalReason
from neuron.miner import Miner
from neuron.validator import Validator, classify_failure
from neuron.wallet import HotkeyWallet
from tests.support.neuron import MINER, SMALL, VALIDATOR


class UnreachableChain:
    """A chain that never answers: the neuron must still come up and export its metrics."""

    class subnets:  # named like bt.Client.subnets, which the metagraph sync reads
        @staticmethod
        async def metagraph(*_args, **_kwargs):
            raise ConnectionError("no chain in this test")

    async def block_time(self) -> float:
        raise ConnectionError("no chain in this test")


BASE = {
    "chain": {"network": "sim://127.0.0.1:1", "netuid": 4},
    "wallet": {"name": "unused"},
    "metrics": {"host": "127.0.0.1", "port": 0},
}


def _wallet(hotkey) -> HotkeyWallet:
    cold = bt.keyfiles.Keypair(ss58_address=SMALL.ss58_address)
    return HotkeyWallet(hotkey=hotkey, coldkeypub=cold, source="test")


def _miner() -> Miner:
    config = MinerConfig.model_validate({**BASE, "axon": {"port": 0}, "task": {"name": "echo"}})
    neuron = build_neuron(config, _wallet(MINER), UnreachableChain())
    assert isinstance(neuron, Miner)
    return neuron


def _validator() -> Validator:
    config = ValidatorConfig.model_validate({**BASE, "query": {"task": "echo"}})
    neuron = build_neuron(config, _wallet(VALIDATOR), UnreachableChain())
    assert isinstance(neuron, Validator)
    return neuron


async def _scrape(neuron) -> dict[str, dict[str, float]]:
    """``{sample name: {label value that varies: value}}`` from the neuron's own /metrics."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{neuron.metrics_port}/metrics") as resp,
    ):
        text = await resp.text()
    samples: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            assert s.labels.get("netuid", "4") == "4"
            key = s.labels.get("reason") or s.labels.get("outcome") or ""
            samples.setdefault(s.name, {})[key] = s.value
    return samples


async def test_a_fresh_miner_exports_every_refusal_reason_at_zero():
    miner = _miner()
    await miner.start()
    try:
        refused = (await _scrape(miner))[R.AXON_BLACKLISTED + "_total"]
    finally:
        await miner.stop()
    assert refused == {reason.value: 0.0 for reason in RefusalReason}


async def test_a_refusal_counts_up_from_the_zero_it_started_at():
    miner = _miner()
    await miner.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{miner.axon_port}/nowhere") as resp:
                assert resp.status == 404
        refused = (await _scrape(miner))[R.AXON_BLACKLISTED + "_total"]
    finally:
        await miner.stop()
    assert refused[RefusalReason.UNKNOWN_ROUTE] == 1.0
    assert sum(refused.values()) == 1.0


async def test_a_fresh_validator_exports_every_query_and_set_weights_outcome_at_zero():
    validator = _validator()
    await validator.start()
    try:
        samples = await _scrape(validator)
    finally:
        await validator.stop()
    assert samples[R.VALIDATOR_QUERIES + "_total"] == {o.value: 0.0 for o in QueryOutcome}
    assert samples[R.VALIDATOR_SET_WEIGHTS + "_total"] == dict.fromkeys(SET_WEIGHTS_OUTCOMES, 0.0)
    assert samples[R.VALIDATOR_STEP_DURATION_SECONDS + "_count"] == {"": 0.0}


async def test_each_role_exports_only_its_own_counters():
    miner, validator = _miner(), _validator()
    await miner.start()
    await validator.start()
    try:
        mine, theirs = await _scrape(miner), await _scrape(validator)
    finally:
        await miner.stop()
        await validator.stop()
    assert R.VALIDATOR_QUERIES + "_total" not in mine
    assert R.AXON_BLACKLISTED + "_total" not in theirs


def test_a_refusal_reason_missing_from_the_list_fails_at_once():
    with pytest.raises(ValueError, match="not_a_reason"):
        Refusal(403, "not_a_reason", "nope")


@pytest.mark.parametrize(
    "failure",
    [
        bt.ChainError("Custom error: 6", name="SettingWeightsTooFast"),
        bt.ChainError("something new"),
        TimeoutError(),
        ConnectionResetError(),
        aiohttp.ClientConnectionError(),
        RuntimeError("a bug"),
    ],
)
def test_every_set_weights_failure_class_is_a_known_outcome(failure):
    assert classify_failure(failure) in SET_WEIGHTS_OUTCOMES


def test_build_neuron_shares_one_runtime_between_the_pieces_it_wires():
    miner = _miner()
    assert miner.metagraph is miner.runtime.metagraph
    assert miner.axon._metrics is miner.metrics is miner.runtime.metrics
    assert miner.runtime.role == "miner" and _validator().runtime.role == "validator"
