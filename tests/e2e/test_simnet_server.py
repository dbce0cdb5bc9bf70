"""One chain, many processes: the unmodified SDK against a simnet server in another process."""

import asyncio

import aiohttp
import bittensor as bt
import pytest
from bittensor.result import ChainError, ErrorCode, RpcConnectionError

from common.chain import make_client
from simnet.calls import compose, signing_payload
from simnet.process import running_simnet
from simnet.scenario import neuron_keypair
from simnet.wire import dumps, loads
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def sim():
    with running_simnet(manual=True) as handle:
        yield handle


async def rpc(sim, payload: bytes) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://{sim.host}:{sim.port}/rpc", data=payload) as resp:
            return resp.status, loads(await resp.read())


async def test_reads_through_the_server_are_the_sdk_types_and_change_as_blocks_advance(sim):
    async with make_client(sim.network) as client, sim.admin as admin:
        head = await client.block()
        neurons = await client.neurons.all(1)
        assert [n.uid for n in neurons] == list(range(len(neurons)))
        assert neuron_keypair("sim-miner-1").ss58_address in {n.hotkey for n in neurons}
        mg = await client.subnets.metagraph(1, commitments=False)
        assert mg.block == head and mg.tempo == 20
        await admin.step(45)  # past two epochs of tempo 20
        assert await client.block() == head + 45
        later = await client.subnets.metagraph(1, commitments=False)
        miner = later.by_hotkey(neuron_keypair("sim-miner-1").ss58_address)
        assert miner.incentive > 0
        before = await (await client.at(head)).subnets.metagraph(1, commitments=False)
        assert before.block == head


async def test_a_write_signed_with_a_key_other_than_the_signer_is_refused(sim):
    alice = bt.keyfiles.Keypair.create_from_uri("//Alice")
    mallory = bt.keyfiles.Keypair.create_from_uri("//Mallory")
    call = compose(bt.calls.Balances.transfer_keep_alive(dest=mallory.ss58_address, value=10**9))
    payload = signing_payload(call, signer=alice.ss58_address, nonce=0, period=128)
    forged = {
        "method": "submit",
        "params": {
            "call": call,
            "signer": alice.ss58_address,
            "crypto_type": 1,
            "nonce": 0,
            "period": 128,
            "signature": mallory.sign(payload),
        },
    }
    status, reply = await rpc(sim, dumps(forged))
    result = reply["result"]
    assert status == 200 and not result.success
    assert result.error is not None and result.error.name


async def test_the_server_survives_malformed_frames_and_a_client_that_hangs_up(sim):
    for frame in (
        b"\x00\xffnot json",
        b"[]",
        b'{"method": "no_such_method"}',
        b'{"method": "query", "params": {"bogus": 1}}',
    ):
        status, reply = await rpc(sim, frame)
        assert status == 400 and reply["error"]["kind"] == "bad_request"
    # Hang up mid-request: open a connection, send half a body, close.
    _reader, writer = await asyncio.open_connection(sim.host, sim.port)
    writer.write(b'POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"method":')
    await writer.drain()
    writer.close()
    async with make_client(sim.network) as client:
        assert await client.block() > 0


async def test_injected_rpc_faults_surface_as_connection_errors_and_clear(sim):
    async with make_client(sim.network) as client, sim.admin as admin:
        await admin.set_faults(error_rate=1.0)
        with pytest.raises(RpcConnectionError, match="injected"):
            await client.block()
        await admin.set_faults(drop_rate=1.0)
        with pytest.raises(RpcConnectionError):
            await client.block()
        await admin.set_faults()
        assert await client.block() > 0


async def test_an_unreachable_simnet_is_a_connection_error_that_says_what_to_start():
    client = make_client("sim://127.0.0.1:9", timeout=2)
    with pytest.raises(RpcConnectionError, match="taowatch simnet serve"):
        await client.connect()


def offline_wallet(tmp_path, name: str) -> bt.Wallet:
    wallet = bt.Wallet(name=name, hotkey="default", path=str(tmp_path / "wallets"))
    wallet.create_new_coldkey(use_password=False, suppress=True, overwrite=True)
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    return wallet


async def test_a_new_operator_registers_stakes_serves_and_sets_weights_through_the_server(
    sim, tmp_path
):
    wallet = offline_wallet(tmp_path, "operator")
    hotkey = wallet.hotkey.ss58_address
    async with make_client(sim.network) as client, sim.admin as admin:
        await admin.fund(wallet.coldkeypub.ss58_address, 5000)
        registered = await client.execute(bt.BurnedRegister(netuid=1), wallet)
        assert registered.success, registered.message
        uid = await client.neurons.uid(hotkey, 1)
        assert uid is not None
        staked = await client.execute(
            bt.AddStake(netuid=1, hotkey_ss58=hotkey, amount_tao=1000), wallet
        )
        assert staked.success, staked.message
        served = await client.execute(bt.ServeAxon(netuid=1, ip="127.0.0.1", port=8123), wallet)
        assert served.success, served.message
        await admin.step(25)  # an epoch gives the new stake a validator permit
        miner = await client.neurons.uid(neuron_keypair("sim-miner-1").ss58_address, 1)
        weights = await client.execute(
            bt.SetWeights(netuid=1, weights={miner: 1.0}), wallet, wait_for_finalization=False
        )
        assert weights.success, weights.message
        mg = await client.subnets.metagraph(1, commitments=False)
        me = mg.by_hotkey(hotkey)
        assert me.axon == "127.0.0.1:8123"
        assert me.alpha_stake.rao > 0
        assert me.last_update == await client.block()
        with pytest.raises(ChainError) as refused:  # the SDK's preflight sees the rate limit
            await client.execute(
                bt.SetWeights(netuid=1, weights={miner: 1.0}), wallet, wait_for_finalization=False
            )
        assert refused.value.code is ErrorCode.RATE_LIMITED


async def test_a_scripted_deregistration_evicts_the_hotkey_through_a_competing_registration(sim):
    target = neuron_keypair("sim-miner-2").ss58_address
    async with make_client(sim.network) as client, sim.admin as admin:
        uid = await client.neurons.uid(target, 1)
        assert uid is not None
        newcomer = await admin.deregister(1, "sim-miner-2")
        assert await client.neurons.uid(target, 1) is None
        assert await client.neurons.uid(newcomer, 1) == uid


async def test_with_the_clock_running_blocks_advance_halt_and_resume():
    with running_simnet(block_time=0.1) as sim:
        async with make_client(sim.network) as client, sim.admin as admin:
            start = await client.block()
            await eventually(lambda: _past(client, start + 3), what="three blocks", every=0.05)
            await admin.halt()
            halted_at = await client.block()
            status = await admin.status()
            assert status["halted"] is True
            # Give the clock the time of several blocks: none may be produced while halted.
            await asyncio.sleep(0.5)
            assert await client.block() == halted_at
            await admin.resume()
            await eventually(
                lambda: _past(client, halted_at + 2), what="blocks after the resume", every=0.05
            )
            assert await client.finalized_block() < await client.block()


async def _past(client, block: int) -> bool:
    return await client.block() >= block


def test_simnet_fund_gives_an_account_balance_visible_to_the_sdk():
    import subprocess
    import sys

    dest = bt.keyfiles.Keypair.create_from_uri("//FundMe").ss58_address
    with running_simnet(manual=True) as sim:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "taowatch.cli",
                "simnet",
                "fund",
                dest,
                "--tao",
                "12.5",
                "--network",
                sim.network,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert "12.5 TAO" in run.stdout

        async def balance():
            async with make_client(sim.network) as client:
                return await client.balances.balance(dest)

        assert asyncio.run(balance()).rao == 12_500_000_000
        bad = subprocess.run(
            [
                sys.executable,
                "-m",
                "taowatch.cli",
                "simnet",
                "fund",
                "not-an-address",
                "--tao",
                "1",
                "--network",
                sim.network,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and "not an ss58 address" in bad.stderr
