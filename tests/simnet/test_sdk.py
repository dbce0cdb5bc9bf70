"""The unmodified bittensor SDK driving simnet in process through SimSubstrate."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import bittensor as bt
import pytest
from bittensor.result import ChainError, ErrorCode

from simnet.calls import compose, signing_payload
from simnet.clock import BlockClock
from simnet.state import FEE_RAO, RAO_PER_TAO, Chain
from simnet.substrate import SimSubstrate
from simnet.testing import dev_keypair, dev_wallet, sim_client, small_world
from tests.support.waiting import eventually

TAO = RAO_PER_TAO


async def test_neurons_and_metagraph_agree_and_carry_the_epoch_results(world):
    async with sim_client(world.chain) as client:
        snap = await client.at()
        neurons = await snap.neurons.all(world.netuid)
        mg = await snap.subnets.metagraph(world.netuid)
    assert [n.hotkey for n in neurons] == mg.hotkeys
    assert [n.total_stake.rao for n in neurons] == [m.alpha_stake.rao for m in mg.neurons]
    assert mg.block == snap.block and mg.tempo == 10 and mg.max_uids == 16
    assert mg.price == pytest.approx(0.25)
    for n, m in zip(neurons, mg.neurons, strict=True):
        assert n.raw["incentive"] / 65535 == pytest.approx(m.incentive)
        assert n.raw["rank"] == 0 and n.raw["trust"] == 0 and n.raw["pruning_score"] == 65535
        assert m.pruning_score == 1.0
    validators = [n for n in neurons if n.validator_permit]
    assert len(validators) == 2 and all(n.raw["dividends"] > 0 for n in validators)
    by_hk = {n.hotkey: n for n in neurons}
    assert by_hk[world.miners[0].hotkey.ss58_address].raw["incentive"] > 0
    assert by_hk[world.miners[2].hotkey.ss58_address].raw["incentive"] == 0
    assert by_hk[world.miners[2].hotkey.ss58_address].raw["emission"] == 0


async def test_chain_reads_change_as_blocks_are_produced(world):
    chain = world.chain
    async with sim_client(chain) as client:
        first_block, first_time = await client.block(), await client.timestamp()
        status = await client.epochs.epoch_status(world.netuid)
        chain.step(3)
        assert await client.block() == first_block + 3
        assert await client.finalized_block() == first_block + 1
        assert (await client.timestamp() - first_time).total_seconds() == pytest.approx(0.75)
        assert await client.block_time() == 0.25
        later = await client.epochs.epoch_status(world.netuid)
        assert later["blocks_since_last_step"] == status["blocks_since_last_step"] + 3
        assert status["next_epoch_start_block"] == status["last_epoch_block"] + 11
        assert (await client.subnets.info(world.netuid)).neuron_count == 5
        assert [s.netuid for s in await client.subnets.all()] == [world.netuid]
        hk = world.miners[1].hotkey.ss58_address
        assert await client.neurons.uid(hk, world.netuid) == 3
        assert await client.neurons.netuids_for_hotkey(hk) == [world.netuid]
        assert await client.neurons.hotkey_owner(hk) == world.miners[1].coldkey.ss58_address
        assert await client.neurons.owned_hotkeys(world.miners[1].coldkey.ss58_address) == [hk]
        assert (await client.prices.alpha_price(world.netuid))["price_rao"] == TAO // 4
        assert await client.prices.alpha_prices() == {world.netuid: 0.25}
        uids = await client.query_batch(
            bt.storage.SubtensorModule.Uids,
            [[world.netuid, hk], [world.netuid, dev_keypair("Nobody").ss58_address]],
        )
        assert uids == [3, None]
        info = await client.block_info(first_block)
        assert info.number == first_block and info.timestamp == first_time


async def test_a_past_block_shows_older_values_and_a_pruned_one_fails(world):
    chain = world.chain
    before = chain.head
    newcomer = dev_wallet("Late")
    chain.fund(newcomer.coldkey.ss58_address, 10 * TAO)
    chain.step()
    chain.register(world.netuid, newcomer.hotkey.ss58_address, newcomer.coldkey.ss58_address)
    chain.step()
    async with sim_client(chain) as client:
        old = await (await client.at(before)).subnets.metagraph(world.netuid)
        new = await client.subnets.metagraph(world.netuid)
        assert len(old.neurons) == 5 and len(new.neurons) == 6
        assert old.block == before
        chain.step(chain.history_blocks + 1)
        with pytest.raises(ChainError, match="discarded"):
            await (await client.at(before)).neurons.all(world.netuid)


async def test_set_weights_through_execute_stores_them_and_emits_weights_set(world):
    chain, validator = world.chain, world.validators[1]
    async with sim_client(chain) as client:
        result = await client.execute(
            bt.SetWeights(world.netuid, weights={2: 1.0, 4: 0.5}), validator
        )
        assert result.success, result.message
        block = int(result.extrinsic_id.split("-")[0])
        row = await client.query(bt.storage.SubtensorModule.Weights, [world.netuid, 1], block=block)
        assert row == [[2, 65535], [4, 32768]]
        last = await client.query(bt.storage.SubtensorModule.LastUpdate, [world.netuid])
        assert last[1] == block
        events = await client.query(bt.storage.System.Events, block=block)
        assert ("SubtensorModule", "WeightsSet", [world.netuid, 1]) in [
            (e["module_id"], e["event_id"], e["attributes"]) for e in events
        ]


async def test_the_rate_limit_fails_with_the_chains_error_name(world):
    chain = world.chain
    chain.set_hyperparameter(world.netuid, "weights_rate_limit", 50)
    chain.step()
    validator = world.validators[0]
    async with sim_client(chain) as client:
        call = bt.calls.SubtensorModule.set_mechanism_weights(
            netuid=world.netuid, mecid=0, dests=[2, 3], weights=[65535, 100], version_key=0
        )
        result = await client.submit_call(call, validator, signer="hotkey")
        assert not result.success
        assert result.error.name == "SettingWeightsTooFast"
        assert result.error.code == ErrorCode.RATE_LIMITED
        with pytest.raises(ChainError) as caught:  # the SDK's own preflight agrees
            await client.execute(bt.SetWeights(world.netuid, weights={2: 1.0}), validator)
        assert caught.value.code == ErrorCode.RATE_LIMITED


async def test_a_wrong_signer_fails_with_the_chains_error_name(world):
    chain = world.chain
    stranger = dev_wallet("Stranger")
    chain.fund(stranger.coldkey.ss58_address, 10 * TAO)
    async with sim_client(chain) as client:
        # A coldkey-signed weights call: the coldkey is no registered hotkey.
        call = bt.calls.SubtensorModule.set_mechanism_weights(
            netuid=world.netuid, mecid=0, dests=[2, 3], weights=[65535, 100], version_key=0
        )
        result = await client.submit_call(call, world.validators[0], signer="coldkey")
        assert result.error.name == "HotKeyNotRegisteredInSubNet"
        assert result.error.code == ErrorCode.NOT_REGISTERED
        # Unstaking someone else's position.
        victim = world.validators[0].hotkey.ss58_address
        result = await client.execute(
            bt.RemoveStake(victim, world.netuid, 1.0, slippage_protection=False), stranger
        )
        assert not result.success and result.error.name == "NotEnoughStakeToWithdraw"
        # A signature by another key than the claimed signer never reaches a block.
        substrate = SimSubstrate(chain)
        composed = compose(
            bt.calls.Balances.transfer_keep_alive(dest=stranger.coldkey.ss58_address, value=TAO)
        )
        owner = world.validators[0].coldkey.ss58_address
        payload = signing_payload(composed, signer=owner, nonce=chain.next_index(owner), period=64)
        head = chain.head
        forged = await substrate.submit_verified(
            composed,
            signer_ss58=owner,
            crypto_type=1,
            nonce=chain.next_index(owner),
            period=64,
            signature=stranger.coldkey.sign(payload),
        )
        assert not forged.success and forged.error.name == "BadProof"
        assert chain.head == head  # nothing was included
        assert chain.balance(stranger.coldkey.ss58_address) == 10 * TAO - FEE_RAO  # one unstake fee


async def test_serve_axon_publishes_the_endpoint(world):
    miner = world.miners[0]
    async with sim_client(world.chain) as client:
        result = await client.execute(bt.ServeAxon(world.netuid, "203.0.113.5", 8091), miner)
        assert result.success, result.message
        mg = await client.subnets.metagraph(world.netuid)
        assert mg.by_hotkey(miner.hotkey.ss58_address).axon == "203.0.113.5:8091"
        neurons = await client.neurons.all(world.netuid)
        assert neurons[2].raw["axon_info"]["port"] == 8091
        names = [(e["module_id"], e["event_id"]) for e in result.events]
        assert ("SubtensorModule", "AxonServed") in names


async def test_burned_register_goes_through_the_mev_shield_and_registers(world):
    chain, payer = world.chain, world.miners[0]
    newcomer = dev_keypair("NewHot").ss58_address
    balance = chain.balance(payer.coldkey.ss58_address)
    async with sim_client(chain) as client:
        result = await client.execute(bt.BurnedRegister(world.netuid, hotkey_ss58=newcomer), payer)
        assert result.success, result.message
        assert result.data["shielded"] is True
        uid = await client.neurons.uid(newcomer, world.netuid)
        assert uid == 5
        assert await client.neurons.hotkey_owner(newcomer) == payer.coldkey.ss58_address
        block = int(result.extrinsic_id.split("-")[0])
        events = await client.query(bt.storage.System.Events, block=block)
        assert ("SubtensorModule", "NeuronRegistered", [world.netuid, 5, newcomer]) in [
            (e["module_id"], e["event_id"], e["attributes"]) for e in events
        ]
    burn = chain.subnet(world.netuid).burn_rao
    assert chain.balance(payer.coldkey.ss58_address) == balance - burn - 2 * FEE_RAO


async def test_burned_register_on_a_full_subnet_evicts_by_the_rule(world):
    chain = world.chain
    sn = chain.subnet(world.netuid)
    chain.set_hyperparameter(world.netuid, "max_uids", sn.n)
    chain.set_hyperparameter(world.netuid, "immunity_period", 1)
    unweighted = world.miners[2].hotkey.ss58_address  # emission 0, registered last among zeros
    async with sim_client(chain) as client:
        result = await client.execute(
            bt.BurnedRegister(world.netuid, hotkey_ss58=dev_keypair("Usurper").ss58_address),
            world.miners[0],
        )
        assert result.success, result.message
        assert await client.neurons.uid(unweighted, world.netuid) is None
        assert await client.neurons.uid(dev_keypair("Usurper").ss58_address, world.netuid) == 4
        mg = await client.subnets.metagraph(world.netuid)
        assert mg.neurons[4].block_at_registration == int(result.extrinsic_id.split("-")[0])


async def test_a_full_subnet_of_immune_neurons_prunes_its_lowest_emission_one(world):
    chain = world.chain
    chain.set_hyperparameter(world.netuid, "max_uids", chain.subnet(world.netuid).n)
    chain.set_hyperparameter(world.netuid, "immunity_period", 10_000)
    unweighted = world.miners[2].hotkey.ss58_address
    async with sim_client(chain) as client:
        result = await client.execute(
            bt.BurnedRegister(world.netuid, hotkey_ss58=dev_keypair("Usurper").ss58_address),
            world.miners[0],
        )
        assert result.success, result.message
        assert await client.neurons.uid(unweighted, world.netuid) is None


async def test_add_and_remove_stake_move_balances_and_the_price(world):
    chain, backer = world.chain, world.miners[1]
    hotkey = world.validators[0].hotkey.ss58_address
    ck = backer.coldkey.ss58_address
    free = chain.balance(ck)
    async with sim_client(chain) as client:
        price = (await client.prices.alpha_price(world.netuid))["price_rao"]
        result = await client.execute(bt.AddStake(hotkey, world.netuid, 10.0), backer)
        assert result.success, result.message
        alpha = chain.stake_alpha(world.netuid, hotkey, ck)
        assert 39 * TAO < alpha < 40 * TAO
        assert chain.balance(ck) == free - 10 * TAO - FEE_RAO
        assert (await client.prices.alpha_price(world.netuid))["price_rao"] > price
        result = await client.execute(bt.RemoveStake(hotkey, world.netuid, alpha / TAO), backer)
        assert result.success, result.message
        assert chain.stake_alpha(world.netuid, hotkey, ck) == 0
        assert free - 2 * FEE_RAO - 10 < chain.balance(ck) <= free - 2 * FEE_RAO


async def test_transfer_moves_free_balance(world):
    chain, sender = world.chain, world.miners[0]
    dest = dev_keypair("Receiver").ss58_address
    before = chain.balance(sender.coldkey.ss58_address)
    async with sim_client(chain) as client:
        result = await client.execute(bt.Transfer(dest, 2.5), sender)
        assert result.success, result.message
        account = await client.query(bt.storage.System.Account, [dest])
        assert account["data"]["free"] == 2_500_000_000
        assert chain.balance(sender.coldkey.ss58_address) == before - 2_500_000_000 - FEE_RAO
        result = await client.execute(bt.Transfer(dest, 10_000.0), sender)
        assert not result.success and result.error.name == "InsufficientBalance"


async def test_offline_signing_round_trips_through_prepare_and_submit_signature(world):
    sender = world.miners[0]
    dest = dev_keypair("Receiver2").ss58_address
    async with sim_client(world.chain) as client:
        unsigned = await client.prepare_call(
            bt.calls.Balances.transfer_keep_alive(dest=dest, value=TAO),
            address=sender.coldkey.ss58_address,
        )
        signature = sender.coldkey.sign(unsigned.payload)
        result = await client.submit_signature(unsigned, signature)
    assert result.success, result.message
    assert world.chain.balance(dest) == TAO


async def test_with_a_running_clock_submissions_wait_for_the_next_block():
    chain = Chain(block_time=0.05, finality_lag=2)
    sender = dev_wallet("Clocked")
    chain.fund(sender.coldkey.ss58_address, 10 * TAO)
    dest = dev_keypair("ClockDest").ss58_address
    async with sim_client(chain) as client, BlockClock(chain):
        seen = []
        async for header in client.blocks():
            seen.append(header.number)
            if len(seen) == 3:
                break
        assert seen == list(range(seen[0], seen[0] + 3))
        start = chain.head
        result = await client.execute(bt.Transfer(dest, 1.0), sender)
        assert result.success, result.message
        included = int(result.extrinsic_id.split("-")[0])
        assert included > start
        assert chain.finalized >= included
    assert chain.balance(dest) == TAO


async def test_a_halted_chain_produces_no_blocks_until_resumed():
    chain = Chain(block_time=0.02)
    async with BlockClock(chain):
        await eventually(lambda: chain.head >= 3, what="three blocks")
        chain.halted = True
        await asyncio.sleep(0.1)  # let an in-flight tick land
        stalled = chain.head
        for _ in range(5):
            await asyncio.sleep(0.05)
            assert chain.head == stalled
        chain.halted = False
        await eventually(lambda: chain.head > stalled, what="a block after the resume")


async def test_keypair_wallets_and_bt_wallets_both_sign(tmp_path, world):
    wallet = bt.Wallet(name="w", hotkey="h", path=str(tmp_path))
    wallet.create_new_coldkey(use_password=False, suppress=True)
    wallet.create_new_hotkey(use_password=False, suppress=True)
    chain = world.chain
    chain.fund(wallet.coldkeypub.ss58_address, 5 * TAO)
    async with sim_client(chain) as client:
        result = await client.execute(
            bt.BurnedRegister(world.netuid, hotkey_ss58=wallet.hotkey.ss58_address), wallet
        )
        assert result.success, result.message
        # A KeyWallet (two bare keypairs) signs exactly where a bt.Wallet does.
        dest = dev_keypair("KeyWalletDest").ss58_address
        transfer = await client.execute(bt.Transfer(dest, 1.0), world.validators[0])
        assert transfer.success, transfer.message
        assert chain.balance(dest) == TAO
        assert await client.neurons.uid(wallet.hotkey.ss58_address, world.netuid) is not None


def test_the_world_helper_leaves_permits_from_the_previous_epoch():
    world = small_world()
    sn = world.chain.subnet(world.netuid)
    assert [n.validator_permit for n in sn.neurons[:2]] == [True, True]
    assert replace(sn.neurons[0]).uid == 0
