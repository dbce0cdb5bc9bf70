"""The SDK's Substrate protocol, the in-process seam, the remote client and the server agree
member by member; and simnet keeps no state at module level."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import textwrap

import bittensor
import pytest
from bittensor.result import ChainError

from simnet import protocol, server
from simnet.remote import RemoteSubstrate
from simnet.state import Chain
from simnet.substrate import SimSubstrate


def shape(params) -> list[tuple[str, object, object]]:
    """What a caller depends on: each parameter's name, how it is passed, its default."""
    return [(p.name, p.kind, p.default) for p in params]


def implementations() -> dict[str, object]:
    return {
        "SimSubstrate": SimSubstrate(Chain(block_time=0.25)),
        "RemoteSubstrate": RemoteSubstrate("127.0.0.1", 9),
    }


SDK_MEMBERS = protocol.protocol_members()
SDK_METHODS = [name for name in SDK_MEMBERS if callable(getattr(bittensor.Substrate, name, None))]


def test_the_protocol_walk_finds_the_sdk_members_simnet_relies_on():
    assert {"query", "submit", "blocks", "token_symbols", "multisig_account"} <= set(SDK_MEMBERS)


def test_every_sdk_substrate_member_has_exactly_one_simnet_route():
    assert sorted(protocol.routes()) == sorted(SDK_MEMBERS)


@pytest.mark.parametrize("implementation", ["SimSubstrate", "RemoteSubstrate"])
@pytest.mark.parametrize("name", SDK_METHODS)
def test_each_implementation_takes_the_sdk_parameters_of_each_member(implementation, name):
    impl = implementations()[implementation]
    sdk_member = getattr(bittensor.Substrate, name)
    member = getattr(impl, name)
    assert shape(protocol.parameters(member)) == shape(protocol.parameters(sdk_member))
    assert inspect.iscoroutinefunction(member) == inspect.iscoroutinefunction(sdk_member)


@pytest.mark.parametrize("implementation", ["SimSubstrate", "RemoteSubstrate"])
def test_each_implementation_has_the_token_symbols_attribute(implementation):
    assert implementations()[implementation].token_symbols == {}


def test_the_server_serves_exactly_the_forwarded_reads_with_the_sdk_parameter_names():
    assert set(server.READS) == set(protocol.FORWARDED_READS)
    for name, accepted in server.READS.items():
        sdk_names = {p.name for p in protocol.parameters(name)}
        sim_names = {p.name for p in protocol.parameters(getattr(SimSubstrate, name))}
        assert accepted == sdk_names == sim_names, name


def test_signed_writes_reach_members_of_the_in_process_seam_that_take_a_signature():
    for name, target in protocol.SIGNED_WRITES.items():
        accepted = {p.name for p in protocol.parameters(getattr(SimSubstrate, target))}
        assert {"call", "signer_ss58", "signature", "nonce", "period"} <= accepted, name


def test_a_generated_forwarder_sends_the_sdk_parameters_by_name_positional_or_not():
    sent: list[tuple[str, dict]] = []

    async def record_call(self, method, /, **params):
        sent.append((method, params))

    remote = RemoteSubstrate("127.0.0.1", 9)
    remote._call = record_call.__get__(remote)
    asyncio.run(remote.query("SubtensorModule", "Tempo", [1]))
    asyncio.run(remote.runtime_call("NeuronInfoRuntimeApi", "m", [], block_hash="0xab"))
    assert sent == [
        (
            "query",
            {
                "module": "SubtensorModule",
                "storage_function": "Tempo",
                "params": [1],
                "block_hash": None,
            },
        ),
        (
            "runtime_call",
            {"api": "NeuronInfoRuntimeApi", "method": "m", "params": [], "block_hash": "0xab"},
        ),
    ]


def test_the_remote_client_refuses_what_simnet_does_not_simulate_in_the_sdk_error_type():
    remote = RemoteSubstrate("127.0.0.1", 9)
    with pytest.raises(ChainError, match="offline-signed") as refused:
        asyncio.run(remote.prepare(object(), address="5x"))
    assert refused.value.name == "Unsupported"
    with pytest.raises(ChainError, match="multisig"):
        remote.multisig_account(["a", "b"], 2)


def test_the_remote_client_imports_without_torch_the_chain_or_yuma():
    script = textwrap.dedent(
        """
        import sys

        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is not installed on this host")
                return None

        sys.meta_path.insert(0, NoTorch())
        from simnet.remote import RemoteSubstrate

        RemoteSubstrate("127.0.0.1", 9)
        loaded = sorted(m for m in sys.modules if m in {"simnet.state", "simnet.yuma"})
        print(",".join(loaded) or "clean")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"


def test_two_chains_each_own_their_error_index_and_agree_on_it():
    first, second = Chain(), Chain()
    assert first.calls.errors is not second.calls.errors
    error = first.calls.errors.dispatch_error("SettingWeightsTooFast")
    assert error == second.calls.errors.dispatch_error("SettingWeightsTooFast")
    assert error["Module"]["error"] != "0xff000000"  # found in the SDK's catalog
