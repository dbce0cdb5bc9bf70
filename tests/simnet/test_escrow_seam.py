"""The sim-only escrow seam: a validator's process files its commit plaintexts with a served
simnet, so the chain opens them at the reveal; the server files only what the hotkey signed."""

from __future__ import annotations

import bittensor as bt
import bittensor_core
import pytest

from common.chain import make_client
from simnet import wire
from simnet.escrow import escrow_message, process_escrow
from simnet.remote import SimBackend
from simnet.server import SimnetServer
from simnet.substrate import SimSubstrate
from simnet.timelock import WeightsPayload
from tests.support.epochs import blocks_to_next_epoch


@pytest.fixture
def world(world, monkeypatch):
    """Commit-reveal on, and the process's encryptor restored after the test."""
    monkeypatch.setattr(
        bittensor_core, "get_encrypted_commit_v2", bittensor_core.get_encrypted_commit_v2
    )
    world.chain.set_hyperparameter(world.netuid, "commit_reveal", True)
    world.chain.step()
    return world


@pytest.fixture
async def served(world, aiohttp_server):
    return await aiohttp_server(SimnetServer(SimSubstrate(world.chain)).app())


async def test_a_commit_through_a_sim_address_is_opened_by_the_served_chain_at_the_reveal(
    world, served
):
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    hotkey = validator.hotkey.ss58_address
    uid = chain.subnet(netuid).uids[hotkey]
    before = chain.subnet(netuid).neurons[uid].weights
    async with make_client(f"sim://127.0.0.1:{served.port}") as client:
        result = await client.execute(bt.SetWeights(netuid, weights={3: 1.0}), validator)
        assert result.success, result.message
        assert "reveal_round" in result.data
    assert chain.subnet(netuid).neurons[uid].weights == before  # hidden until the reveal
    chain.step(blocks_to_next_epoch(chain, netuid))
    assert chain.subnet(netuid).neurons[uid].weights == ((3, 65535),)
    events = [(e.event, e.attributes) for e in chain.record().events]
    assert ("TimelockedWeightsRevealed", [netuid, hotkey]) in events


async def test_a_commit_whose_plaintext_never_reached_the_server_is_dropped_unrevealed(
    world, aiohttp_server
):
    from simnet.testing import sim_client

    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    uid = chain.subnet(netuid).uids[validator.hotkey.ss58_address]
    before = chain.subnet(netuid).neurons[uid].weights
    async with sim_client(chain) as client:  # in process, no escrow: what drand-less means
        result = await client.execute(bt.SetWeights(netuid, weights={3: 1.0}), validator)
        assert result.success, result.message
    chain.step(2 * blocks_to_next_epoch(chain, netuid) + chain.subnet(netuid).tempo)
    assert chain.subnet(netuid).neurons[uid].weights == before
    assert chain.subnet(netuid).timelocked_commits == {}


async def test_the_server_files_only_a_plaintext_signed_by_the_hotkey_it_names(world, served):
    import aiohttp

    validator, other = world.validators[0], world.validators[1]
    payload = WeightsPayload(validator.hotkey.public_key, (3,), (65535,), 0).encode()
    ciphertext = b"\x01" * 48

    async def file(signer, signature) -> tuple[int, object]:
        body = {
            "signer": signer.ss58_address,
            "crypto_type": 1,
            "ciphertext": ciphertext,
            "payload": payload,
            "signature": signature,
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{served.port}/escrow", data=wire.dumps(body)) as resp,
        ):
            return resp.status, wire.loads(await resp.read())

    message = escrow_message(ciphertext, payload)
    status, _ = await file(other.hotkey, bytes(other.hotkey.sign(message)))
    assert status == 400  # the payload names another hotkey
    status, _ = await file(validator.hotkey, bytes(other.hotkey.sign(message)))
    assert status == 400  # signed by someone else
    assert world.chain.timelock_escrow.open(ciphertext, 0) is None
    status, reply = await file(validator.hotkey, bytes(validator.hotkey.sign(message)))
    assert (status, reply["result"]) == (200, True)
    status, reply = await file(validator.hotkey, bytes(validator.hotkey.sign(message)))
    assert (status, reply["result"]) == (200, False)  # first filing wins
    assert world.chain.timelock_escrow.open(ciphertext, 0) == payload
    assert world.chain.timelock_escrow.open(ciphertext, 0) is None  # opened once, then gone


def test_only_a_sim_address_wraps_the_encryptor_and_it_is_wrapped_once(monkeypatch):
    def real(**kwargs):
        return b"ciphertext", 7

    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", real)
    make_client("ws://127.0.0.1:9944")
    assert bittensor_core.get_encrypted_commit_v2 is real
    SimBackend().substrate_for("sim://127.0.0.1:1", timeout=1)
    wrapped = bittensor_core.get_encrypted_commit_v2
    assert wrapped is not real
    assert process_escrow() is process_escrow()
    assert bittensor_core.get_encrypted_commit_v2 is wrapped
    hotkey = bytes(range(32))
    assert wrapped(hotkey=hotkey, uids=[1], weights=[65535], version_key=0) == (b"ciphertext", 7)
    filed = WeightsPayload.decode(process_escrow().take(b"ciphertext"))
    assert (filed.hotkey, filed.uids, filed.values) == (hotkey, (1,), (65535,))


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", wire.dumps({"signer": "5F", "crypto_type": 1}), wire.dumps({"x": 1})],
    ids=["unreadable", "not-an-object", "no-bytes", "unknown-shape"],
)
async def test_a_malformed_filing_is_refused_and_the_server_carries_on(world, served, body):
    import aiohttp

    url = f"http://127.0.0.1:{served.port}"
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/escrow", data=body) as resp:
            assert resp.status == 400
            assert wire.loads(await resp.read())["error"]["kind"] == "bad_request"
        async with session.get(url + "/healthz") as resp:
            assert resp.status == 200
