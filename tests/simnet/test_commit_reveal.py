"""Commit-reveal through the unmodified SDK: the commit it composes, the reveal simnet makes."""

from __future__ import annotations

import bittensor as bt
import bittensor_core
import pytest

from simnet.records import ChainFailure
from simnet.testing import sim_client
from simnet.timelock import WeightsPayload
from tests.support.epochs import blocks_to_next_epoch

# A real drand quicknet pulse, the test vector in subtensor's pallets/drand tests.
QUICKNET_ROUND_1000 = (
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125"
    "e342b73a8dd2bacbe47e4b6b63ed5e39"
)


@pytest.fixture
def world(world):
    """The shared small world with commit-reveal switched on and in force."""
    world.chain.set_hyperparameter(world.netuid, "commit_reveal", True)
    world.chain.step()
    return world


@pytest.fixture
def escrowed(world, monkeypatch):
    """Offline drand: the real encryptor still runs; the chain's escrow learns the plaintext."""
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(
        bittensor_core, "get_encrypted_commit_v2", world.chain.timelock_escrow.wrap(real)
    )
    return world


async def test_set_weights_on_a_commit_reveal_subnet_sends_the_runtimes_timelocked_commit(
    escrowed,
):
    chain, netuid, validator = escrowed.chain, escrowed.netuid, escrowed.validators[0]
    async with sim_client(chain) as client:
        result = await client.execute(bt.SetWeights(netuid, weights={2: 1.0}), validator)
        assert result.success, result.message
        pending = await client.weights.timelocked_weight_commits(netuid)
    receipt = chain.record().receipts[-1]
    call = receipt.extrinsic.call
    assert (call.module, call.function) == (
        "SubtensorModule",
        "commit_timelocked_mechanism_weights",
    )
    assert set(call.params) == {
        "netuid",
        "mecid",
        "commit",
        "reveal_round",
        "commit_reveal_version",
    }
    assert call.params["reveal_round"] == result.data["reveal_round"]
    assert call.params["commit_reveal_version"] == 4
    events = [(e.module, e.event) for e in receipt.events]
    assert ("SubtensorModule", "TimelockedWeightsCommitted") in events
    [(_epoch, [entry])] = pending.items()
    assert entry["hotkey"] == validator.hotkey.ss58_address
    assert entry["commit_block"] == receipt.block
    assert entry["reveal_round"] == result.data["reveal_round"]


async def test_committed_weights_apply_at_the_reveal_and_last_update_stays_at_the_commit(
    escrowed,
):
    chain, netuid, validator = escrowed.chain, escrowed.netuid, escrowed.validators[0]
    hotkey = validator.hotkey.ss58_address
    uid = chain.subnet(netuid).uids[hotkey]
    before = chain.subnet(netuid).neurons[uid].weights
    async with sim_client(chain) as client:
        result = await client.execute(bt.SetWeights(netuid, weights={3: 1.0}), validator)
        assert result.success, result.message
    commit_block = chain.head
    assert chain.subnet(netuid).neurons[uid].last_update == commit_block
    assert chain.subnet(netuid).neurons[uid].weights == before  # hidden until the reveal

    chain.step(blocks_to_next_epoch(chain, netuid) - 1)
    assert chain.subnet(netuid).neurons[uid].weights == before  # still one block early
    chain.step()
    revealed = chain.subnet(netuid).neurons[uid]
    assert revealed.weights == ((3, 65535),)
    assert revealed.last_update == commit_block  # the runtime moves it at the commit only
    events = [(e.event, e.attributes) for e in chain.record().events]
    assert ("TimelockedWeightsRevealed", [netuid, hotkey]) in events
    assert chain.subnet(netuid).timelocked_commits == {}


def test_a_plain_set_weights_is_refused_with_the_runtimes_error_name(world):
    hotkey = world.validators[0].hotkey.ss58_address
    with pytest.raises(ChainFailure) as failure:
        world.chain.set_weights(world.netuid, hotkey, [2], [65535])
    assert failure.value.name == "CommitRevealEnabled"


def test_a_real_timelock_opens_with_the_recorded_drand_pulse(world):
    chain, netuid = world.chain, world.netuid
    validator = world.validators[1]
    uid = chain.subnet(netuid).uids[validator.hotkey.ss58_address]
    payload = WeightsPayload(
        hotkey=bytes(validator.hotkey.public_key), uids=(2, 3), values=(65535, 32768), version_key=0
    )
    sealed, _ = bittensor_core.encrypt_at_round(payload.encode(), 1000)
    ciphertext = bytes(bittensor_core.inner_ciphertext(sealed))  # what the SDK commits
    chain.step(chain.subnet(netuid).weights_rate_limit)
    chain.commit_reveal.commit(netuid, validator.hotkey.ss58_address, ciphertext, 1000, 4)

    chain.step(blocks_to_next_epoch(chain, netuid))
    assert chain.subnet(netuid).timelocked_commits  # no pulse yet: queued, retried each block
    chain.drand_pulses.write_pulse(1000, QUICKNET_ROUND_1000)
    chain.step()
    assert chain.subnet(netuid).neurons[uid].weights == ((2, 65535), (3, 32768))


def test_a_commit_on_a_subnet_without_commit_reveal_is_refused(world):
    chain, netuid = world.chain, world.netuid
    chain.set_hyperparameter(netuid, "commit_reveal", False)
    with pytest.raises(ChainFailure) as failure:
        chain.commit_reveal.commit(netuid, world.validators[0].hotkey.ss58_address, b"x", 1, 4)
    assert failure.value.name == "CommitRevealDisabled"


def test_the_sdk_reads_the_reveal_period_it_encrypts_for(world):
    world.chain.set_hyperparameter(world.netuid, "commit_reveal_period", 3)
    sn = world.chain.subnet(world.netuid)
    assert sn.reveal_period_epochs == 3
    assert sn.commit_reveal is True


def test_new_subnets_start_with_commit_reveal_on_and_4096_blocks_of_immunity():
    from simnet.state import Chain

    chain = Chain()
    sn = chain.create_subnet(7)
    assert sn.commit_reveal is True and sn.immunity_period == 4096
