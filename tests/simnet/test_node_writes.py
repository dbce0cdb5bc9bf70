"""Writes through simnet's node as a node takes them, driven by the SDK's unmodified
``RpcSubstrate``: a SCALE extrinsic signed over the runtime's payload, checked (signature,
nonce, era), charged, dispatched through simnet's call table, and its outcome read back from
``System.Events`` with module errors named by the node's metadata."""

from __future__ import annotations

import bittensor as bt
import pytest
from bittensor._transport.errors import SubstrateRequestException

from simnet.state import FEE_RAO, RAO_PER_TAO
from simnet.testing import dev_keypair
from tests.simnet.test_node import Node, _fresh_metadata_cache  # noqa: F401  (fixture)


async def test_a_transfer_moves_balance_charges_the_fee_and_reports_success(world):
    chain, sender = world.chain, world.miners[0]
    dest = dev_keypair("Receiver").ss58_address
    before = chain.balance(sender.coldkey.ss58_address)
    async with Node(chain) as node, bt.Client(node.url) as client:
        result = await client.execute(bt.Transfer(dest, 2.5), sender)
        assert result.success, result.message
        assert result.fee.rao == FEE_RAO
        account = await client.query(bt.storage.System.Account, [dest])
        assert account["data"]["free"] == 2_500_000_000
        assert chain.balance(sender.coldkey.ss58_address) == before - 2_500_000_000 - FEE_RAO
        names = [(e["module_id"], e["event_id"]) for e in result.events]
        assert names == [
            ("TransactionPayment", "TransactionFeePaid"),
            ("System", "ExtrinsicSuccess"),
        ]


async def test_a_failed_call_is_included_and_named_by_the_runtimes_error(world):
    chain, sender = world.chain, world.miners[0]
    nonce = chain.next_index(sender.coldkey.ss58_address)
    async with Node(chain) as node, bt.Client(node.url) as client:
        result = await client.execute(bt.Transfer(dev_keypair("R").ss58_address, 10_000.0), sender)
    assert not result.success and result.error.name == "InsufficientBalance"
    assert chain.next_index(sender.coldkey.ss58_address) == nonce + 1  # the nonce is consumed


async def test_weights_and_stake_are_dispatched_through_simnets_call_table(world):
    chain, validator, backer = world.chain, world.validators[1], world.miners[1]
    hotkey = world.validators[0].hotkey.ss58_address
    async with Node(chain) as node, bt.Client(node.url) as client:
        result = await client.execute(
            bt.SetWeights(world.netuid, weights={2: 1.0, 4: 0.5}), validator
        )
        assert result.success, result.message
        row = await client.query(bt.storage.SubtensorModule.Weights, [world.netuid, 1])
        assert dict(row) == {2: 65535, 4: 32768}
        result = await client.execute(bt.AddStake(hotkey, world.netuid, 10.0), backer)
        assert result.success, result.message
        alpha = chain.stake_alpha(world.netuid, hotkey, backer.coldkey.ss58_address)
        assert 39 * RAO_PER_TAO < alpha < 40 * RAO_PER_TAO


async def _signed(conn, call, *, address: str, signer, era=None, nonce=None):
    unsigned = await conn.prepare_unsigned(call, address=address, era=era, nonce=nonce)
    return await conn.attach_signature(unsigned, signer.sign(unsigned.payload))


async def test_the_node_refuses_a_forged_signature_a_replay_and_an_expired_era(world):
    # Each refusal is the node's 1010 Invalid Transaction; none reaches a block.
    chain = world.chain
    alice = world.owner.coldkey
    mallory = dev_keypair("Mallory")
    async with Node(chain) as node:
        substrate = bt.RpcSubstrate(node.url)
        await substrate.connect()
        try:
            conn = substrate.raw
            call = await conn.compose_call(
                "Balances", "transfer_keep_alive", {"dest": mallory.ss58_address, "value": 10**9}
            )
            forged = await _signed(conn, call, address=alice.ss58_address, signer=mallory)
            with pytest.raises(SubstrateRequestException, match="bad signature"):
                await conn.submit_extrinsic(forged, wait_for_inclusion=True)
            assert chain.balance(mallory.ss58_address) == 0

            nonce = chain.next_index(alice.ss58_address)
            good = await _signed(conn, call, address=alice.ss58_address, signer=alice, nonce=nonce)
            report = await conn.submit_extrinsic(good, wait_for_inclusion=True)
            assert report.is_success
            with pytest.raises(SubstrateRequestException, match="outdated"):
                await conn.submit_extrinsic(good, wait_for_inclusion=True)

            # As frame_system's CheckMortality: past its period, the era's birth block is
            # recomputed from its phase as a later block, whose hash the signature never covered.
            era = {"period": 4, "current": chain.head}
            late = await _signed(conn, call, address=alice.ss58_address, signer=alice, era=era)
            chain.step(8)
            with pytest.raises(SubstrateRequestException, match="bad signature"):
                await conn.submit_extrinsic(late, wait_for_inclusion=True)
            assert chain.balance(mallory.ss58_address) == 10**9
        finally:
            await substrate.close()


async def test_fee_estimates_are_the_fee_charged_and_none_for_free_calls(world):
    # TransactionPaymentApi.query_info: simnet's flat fee; set_weights is Pays::No in
    # subtensor (simnet.dispatch.FREE_CALLS).
    async with Node(world.chain) as node:
        substrate = bt.RpcSubstrate(node.url)
        await substrate.connect()
        try:
            transfer = await substrate.compose(
                bt.calls.Balances.transfer_keep_alive(dest=dev_keypair("R").ss58_address, value=1)
            )
            weights = await substrate.compose(
                bt.calls.SubtensorModule.set_weights(
                    netuid=world.netuid, dests=[2], weights=[1], version_key=0
                )
            )
            fee = await substrate.estimate_fee(transfer, world.miners[0].coldkey)
            free = await substrate.estimate_fee(weights, world.validators[0].hotkey)
        finally:
            await substrate.close()
    assert fee.rao == FEE_RAO and free.rao == 0
