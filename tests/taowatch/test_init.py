"""``taowatch init`` over an in-process simnet chain: the file it writes is the agent's.

The hotkeys it lists are the ones the chain says the coldkey owns on each subnet, checked
against the chain's own records, and the file passes the agent's config check.
"""

from __future__ import annotations

import pytest

from agent.config import load
from simnet.state import RAO_PER_TAO
from simnet.substrate import SimSubstrate
from simnet.testing import dev_wallet, in_process_backends, small_world
from taowatch.init import main, render_config

NETWORK = "sim://primary:1"


@pytest.fixture
def world():
    return small_world(validators=2, miners=3, tempo=10, max_uids=8)


def init(world, *argv: str) -> int:
    return main(
        ["--network", NETWORK, *argv], backends=in_process_backends(every=SimSubstrate(world.chain))
    )


def test_the_written_config_watches_each_hotkey_of_the_coldkey_on_its_subnets(
    world, tmp_path, capsys
):
    chain = world.chain
    operator = world.miners[0]
    coldkey = operator.coldkey.ss58_address
    # A second hotkey of the same coldkey, on a second subnet.
    second = dev_wallet("OperatorSecond").hotkey.ss58_address
    chain.create_subnet(2, tempo=10, max_uids=8, immunity_period=50)
    chain.fund(coldkey, 10 * RAO_PER_TAO)
    chain.register(2, second, coldkey)
    chain.step()
    out = tmp_path / "agent.yaml"

    assert init(world, "--coldkey", coldkey, "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert f"{out}: ok" in printed

    config = load(out)
    assert config.chain.network == NETWORK
    watched = {e.netuid: e.hotkeys for e in config.watch}
    owned = {
        n: sorted(hk for hk in chain.subnet(n).uids if chain.owner_of(hk) == coldkey)
        for n in (1, 2)
    }
    assert watched == owned == {1: [operator.hotkey.ss58_address], 2: [second]}
    assert config.state_file == tmp_path / "taowatch-agent-state.json"
    text = out.read_text()
    assert "# fallback_networks: [wss://" in text and "fallback_networks: []" in text
    assert f"  # - coldkey: {coldkey}" in text


def test_an_existing_file_is_kept_without_force(world, tmp_path, capsys):
    out = tmp_path / "agent.yaml"
    out.write_text("mine\n")
    coldkey = world.miners[0].coldkey.ss58_address
    assert init(world, "--coldkey", coldkey, "--out", str(out)) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "mine\n"
    assert init(world, "--coldkey", coldkey, "--out", str(out), "--force") == 0
    assert load(out).watch[0].hotkeys == [world.miners[0].hotkey.ss58_address]


def test_a_coldkey_with_no_hotkey_yet_is_watched_as_a_coldkey(world, tmp_path):
    newcomer = dev_wallet("Newcomer").coldkey.ss58_address
    out = tmp_path / "agent.yaml"
    assert init(world, "--coldkey", newcomer, "--out", str(out)) == 0
    (entry,) = load(out).watch
    assert entry.coldkey == newcomer and entry.netuids is None


def test_a_bad_coldkey_exits_two_naming_the_flag_and_writes_nothing(world, tmp_path, capsys):
    out = tmp_path / "agent.yaml"
    assert init(world, "--coldkey", "5bad", "--out", str(out)) == 2
    assert "taowatch init: --coldkey: not a valid Bittensor" in capsys.readouterr().err
    assert not out.exists()


def test_the_rendered_config_is_what_the_agent_loads(tmp_path):
    hotkeys = {3: [dev_wallet("A").hotkey.ss58_address], 1: [dev_wallet("B").hotkey.ss58_address]}
    path = tmp_path / "agent.yaml"
    path.write_text(render_config("finney", dev_wallet("C").coldkey.ss58_address, 7, hotkeys))
    config = load(path)
    assert [(e.netuid, e.hotkeys) for e in config.watch] == sorted(hotkeys.items())
    assert config.chain.fallback_networks == [] and config.listen.host == "127.0.0.1"
