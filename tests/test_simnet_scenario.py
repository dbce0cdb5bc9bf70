"""Scenario files: the bundled default loads, and a malformed one names the file and field."""

import subprocess
import sys

import pytest

from simnet.scenario import DEFAULT_SCENARIO, load_scenario
from taowatch.config import ConfigError


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
