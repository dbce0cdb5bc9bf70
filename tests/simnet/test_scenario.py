"""Scenario files: the bundled default loads, and a malformed one names the file and field."""

import subprocess
import sys

import pytest

from common.config import ConfigError
from simnet.scenario import DEFAULT_SCENARIO, load_scenario


def write(tmp_path, text):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_the_bundled_default_scenario_loads():
    scenario = load_scenario("default")
    assert scenario.name == "default"
    assert {s.netuid for s in scenario.subnets} == {1, 2}
    assert any(e.deregister for e in scenario.events)
    assert load_scenario(DEFAULT_SCENARIO) == scenario


async def test_the_default_world_is_a_chain_of_today():
    from simnet.scenario import World
    from simnet.state import Chain
    from simnet.testing import sim_client

    scenario = load_scenario("default")
    chain = Chain(block_time=0.25, seed=scenario.seed)
    world = World(chain, scenario).build()
    async with sim_client(chain) as client:
        subnets = await client.subnets.all()
        one = await client.read("subnet_hyperparameters", netuid=1)
        two = await client.read("subnet_hyperparameters", netuid=2)
        root_tao = await client.read(
            "stake",
            coldkey_ss58=world.coldkey("sim-validator-a"),
            hotkey_ss58=world.hotkey("sim-validator-a"),
            netuid=0,
        )
    assert 0 in {s.netuid for s in subnets} and len(subnets) - 1 > 64  # root, then > 64
    assert root_tao.tao > 0
    assert one["yuma3_enabled"] and one["commit_reveal_weights_enabled"]
    assert not two["yuma3_enabled"] and not two["commit_reveal_weights_enabled"]
    assert chain.subnet(1).min_burn_rao < chain.subnet(1).max_burn_rao  # the burn moves
    assert chain.economy.schedule.mode == "ranked"
    late = {e.kind for e in scenario.events if e.at > 800}
    assert {"take", "childkeys", "registration_burst", "coldkey_swap"} <= late
    assert {e.kind for e in scenario.events if e.at <= 800} == {"stake", "deregister"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subnets: [{netuid: 1, tempo: -5}]", "subnets[0].tempo: Input should be greater than 0"),
        ("subnets: [{netuid: 1, tmpo: 5}]", "subnets[0].tmpo: unknown field"),
        ("subnets: [{tempo: 5}]", "subnets[0].netuid: required field is missing"),
        (
            "subnets: [{netuid: 1, neurons: [{name: a, role: oracle}]}]",
            "subnets[0].neurons[0].role: Input should be 'validator' or 'miner'",
        ),
        (
            "subnets: [{netuid: 1}]\nevents: [{at: 5}]",
            "events[0]: Value error, each event has `at` and exactly one of",
        ),
        (
            "subnets: [{netuid: 1}]\nevents: [{at: 5, deregister: {netuid: 9, hotkey: x}}]",
            "events[0]: netuid 9 is not in subnets",
        ),
        ("subnets: [{netuid: 1}\n", "line 2, column 1: invalid YAML"),
        ("- just\n- a list\n", "expected a mapping at the top level"),
    ],
)
def test_a_malformed_scenario_names_the_file_the_field_and_the_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message


def test_a_missing_scenario_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_simnet_serve_refuses_a_bad_scenario_without_a_traceback(tmp_path):
    path = write(tmp_path, "subnets: [{netuid: 1, tempo: zero}]")
    run = subprocess.run(
        [sys.executable, "-m", "taowatch.cli", "simnet", "serve", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "subnets[0].tempo" in run.stderr
    assert "Traceback" not in run.stderr


def world_with_events(tmp_path, events: str):
    from simnet.scenario import World
    from simnet.state import Chain

    path = write(
        tmp_path,
        """
subnets:
  - netuid: 1
    tempo: 10
    max_uids: 8
    immunity_period: 5
    weights_rate_limit: 2
    neurons:
      - {name: v1, role: validator, stake_tao: 100, every: 3}
      - {name: m1, role: miner, quality: 0.9}
      - {name: m2, role: miner, quality: 0.1}
"""
        + events,
    )
    faults = []
    chain = Chain(block_time=1)
    world = World(chain, load_scenario(path), on_faults=faults.append).build()
    return chain, world, faults


def test_scripted_events_fire_at_their_block(tmp_path):
    chain, world, faults = world_with_events(
        tmp_path,
        """
events:
  - {at: 12, stake: {netuid: 1, hotkey: v1, change_percent: -50}}
  - {at: 14, hyperparameter: {netuid: 1, name: tempo, value: 20}}
  - {at: 16, faults: {error_rate: 0.5, for_blocks: 3}}
  - {at: 20, deregister: {netuid: 1, hotkey: m2}}
""",
    )
    v1 = world.hotkey("v1")
    while chain.head < 11:
        chain.step()
    stake_before = chain.stake_alpha(1, v1)
    assert faults == [] and world.log == []
    chain.step(1)  # block 12: no epoch here, so only the event moves the stake
    assert chain.stake_alpha(1, v1) == pytest.approx(stake_before / 2, rel=1e-9)
    chain.step(2)
    assert chain.head == 14 and chain.subnet(1).tempo == 20
    assert world.log[-1] == (14, "hyperparameter tempo on 1: 10 -> 20")
    chain.step(2)
    assert faults and faults[-1].error_rate == 0.5
    chain.step(3)
    assert chain.head == 19 and faults[-1] is None  # cleared after for_blocks
    m2 = world.hotkey("m2")
    assert m2 in chain.subnet(1).uids
    chain.step(1)
    assert m2 not in chain.subnet(1).uids
    assert [what for _, what in world.log][-1].startswith("m2 deregistered on 1")


def test_simulated_validators_weight_better_miners_higher(tmp_path):
    chain, world, _ = world_with_events(tmp_path, "")
    chain.step(40)  # several epochs: permits, then weights, then incentive
    sn = chain.subnet(1)
    good = sn.neurons[sn.uids[world.hotkey("m1")]]
    poor = sn.neurons[sn.uids[world.hotkey("m2")]]
    assert good.incentive > poor.incentive > 0


def test_simnet_serve_check_config_prints_what_it_would_build_and_serves_nothing(capsys):
    from simnet.cli import main as simnet_main

    assert simnet_main(["serve", "--scenario", "default", "--fast", "--check-config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("default: ok: scenario 'default', 0.25 s blocks")
    for spec in load_scenario("default").subnets:
        assert f"subnet {spec.netuid}: tempo {spec.tempo}" in out
    assert "root subnet 0: tao_weight 0.18" in out
    assert "block emission: 0.5 TAO per block, shared by EMA price, gated" in out
    assert "Yuma3, commit-reveal, moving burn" in out


def test_simnet_serve_check_config_exits_2_naming_the_bad_field(tmp_path, capsys):
    from simnet.cli import main as simnet_main

    path = write(tmp_path, "events: [{at: 5}]")
    assert simnet_main(["serve", "--scenario", str(path), "--check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: events[0]: Value error, each event has `at` and exactly one of" in err
    assert "Traceback" not in err
