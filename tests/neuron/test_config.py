"""One ``chain`` vocabulary for every component, and one ``--check-config`` flag for neurons."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from bittensor.keyfiles import Keypair

from agent.config import load as load_agent_config
from common.config import ConfigError
from neuron.cli import miner_main, validator_main
from neuron.config import load_miner_config, load_validator_config
from tests.support.neuron import VALIDATOR, write_wallet

COLD = Keypair.create_from_uri("//taowatch/test/cold")
HOTKEY = VALIDATOR.ss58_address


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def _neuron(tmp_path: Path, chain: dict, name: str = "neuron.yaml") -> Path:
    return _write(tmp_path / name, {"chain": {"netuid": 1, **chain}, "wallet": {"name": "w"}})


def _agent(tmp_path: Path, chain: dict, name: str = "agent.yaml") -> Path:
    return _write(tmp_path / name, {"chain": chain, "watch": [{"netuid": 1, "hotkeys": [HOTKEY]}]})


def test_the_agent_and_the_neurons_read_the_same_chain_fields(tmp_path):
    chain = {
        "network": "wss://primary.example:443",
        "fallback_networks": ["test", "wss://backup.example:443"],
        "timeout_seconds": 7,
    }
    agent = load_agent_config(_agent(tmp_path, chain)).chain
    for load in (load_miner_config, load_validator_config):
        neuron = load(_neuron(tmp_path, chain)).chain
        for field in chain:
            assert getattr(neuron, field) == getattr(agent, field), field


@pytest.mark.parametrize("load", [load_miner_config, load_validator_config])
def test_the_old_timeout_name_still_loads_and_the_log_names_the_new_one(tmp_path, caplog, load):
    path = _neuron(tmp_path, {"network": "sim://127.0.0.1:1", "rpc_timeout_seconds": 4})
    with caplog.at_level(logging.WARNING, logger="taowatch.config"):
        config = load(path)
    assert config.chain.timeout_seconds == 4
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: chain.rpc_timeout_seconds is deprecated; rename it to chain.timeout_seconds"
    ]


def test_the_new_timeout_name_loads_without_a_warning(tmp_path, caplog):
    path = _neuron(tmp_path, {"network": "sim://127.0.0.1:1", "timeout_seconds": 4})
    with caplog.at_level(logging.WARNING, logger="taowatch.config"):
        assert load_miner_config(path).chain.timeout_seconds == 4
    assert caplog.records == []


def test_the_old_and_the_new_timeout_name_together_are_refused(tmp_path):
    chain = {"network": "sim://127.0.0.1:1", "rpc_timeout_seconds": 4, "timeout_seconds": 5}
    path = _neuron(tmp_path, chain)
    with pytest.raises(ConfigError) as err:
        load_validator_config(path)
    message = str(err.value)
    assert str(path) in message and "chain:" in message
    assert "rpc_timeout_seconds is the old name of timeout_seconds" in message


def test_the_agent_accepts_the_old_timeout_name_too(tmp_path, caplog):
    path = _agent(tmp_path, {"network": "sim://127.0.0.1:1", "rpc_timeout_seconds": 3})
    with caplog.at_level(logging.WARNING, logger="taowatch.config"):
        assert load_agent_config(path).chain.timeout_seconds == 3
    assert "rename it to chain.timeout_seconds" in caplog.text


def test_a_neuron_must_name_its_chain(tmp_path):
    path = _write(tmp_path / "n.yaml", {"chain": {"netuid": 1}, "wallet": {"name": "w"}})
    with pytest.raises(ConfigError, match=r"chain\.network: required field is missing"):
        load_miner_config(path)


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (
            {"network": "sim://127.0.0.1:1", "fallback_networks": ["sim://127.0.0.1:2"]},
            "on simnet has no failover",
        ),
        (
            {"network": "finney", "fallback_networks": ["sim://127.0.0.1:2"]},
            "sim://127.0.0.1:2 is a simnet address",
        ),
        ({"network": "finney", "fallback_networks": ["nope"]}, "'nope' is not a chain"),
    ],
)
def test_fallbacks_a_neuron_cannot_use_are_refused_with_the_reason(tmp_path, chain, expected):
    with pytest.raises(ConfigError, match=r"chain[.:].*fallback_networks") as err:
        load_miner_config(_neuron(tmp_path, chain))
    assert expected in str(err.value)


def _checkable(tmp_path: Path) -> Path:
    write_wallet(tmp_path, "v", VALIDATOR, COLD)
    cfg = {
        "chain": {"network": "sim://127.0.0.1:1", "netuid": 1},
        "wallet": {"name": "v", "path": str(tmp_path)},
    }
    return _write(tmp_path / "v.yaml", cfg)


@pytest.mark.parametrize("main", [miner_main, validator_main])
def test_check_config_validates_the_config_file_it_is_given(tmp_path, capsys, main):
    path = _checkable(tmp_path)
    assert main(["--check-config", str(path)]) == 0
    assert main(["--config", str(path), "--check-config"]) == 0
    out = capsys.readouterr()
    assert out.out.count(f"{path} OK (hotkey {HOTKEY})") == 2
    assert out.err == ""


def test_check_config_reports_a_bad_file_with_exit_2(tmp_path, capsys):
    path = _write(tmp_path / "bad.yaml", {"chain": {"network": "nope", "netuid": 1}})
    assert validator_main(["--check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: chain.network" in err and "wallet: required field is missing" in err
    assert "Traceback" not in err


def test_check_config_refuses_two_different_files(tmp_path, capsys):
    path = _checkable(tmp_path)
    assert miner_main(["--config", str(path), "--check-config", str(tmp_path / "x.yaml")]) == 2
    assert "name two files; give one" in capsys.readouterr().err


def test_the_old_check_only_flag_still_checks_and_says_it_is_deprecated(tmp_path, capsys):
    path = _checkable(tmp_path)
    assert validator_main(["--config", str(path), "--check-only"]) == 0
    out = capsys.readouterr()
    assert f"{path} OK" in out.out
    assert out.err.strip() == "taowatch validator: --check-only is deprecated; use --check-config"


def test_help_shows_check_config_and_hides_check_only(capsys):
    with pytest.raises(SystemExit):
        miner_main(["--help"])
    text = capsys.readouterr().out
    assert "--check-config" in text and "--check-only" not in text


def test_the_agent_and_the_neurons_share_the_log_section(tmp_path):
    neuron = _neuron(tmp_path, {"network": "test"})
    _write(neuron, {**yaml.safe_load(neuron.read_text()), "log": {"level": "debug"}})
    agent = _agent(tmp_path, {"network": "test"})
    _write(agent, {**yaml.safe_load(agent.read_text()), "log": {"level": "debug"}})
    assert load_miner_config(neuron).log == load_agent_config(agent).log
    assert load_miner_config(neuron).log.level == "debug"


def test_a_neuron_config_saying_logging_is_read_as_log_with_a_warning(tmp_path, caplog):
    path = _neuron(tmp_path, {"network": "test"})
    _write(path, {**yaml.safe_load(path.read_text()), "logging": {"format": "json"}})
    with caplog.at_level(logging.WARNING, logger="taowatch.config"):
        config = load_validator_config(path)
    assert config.log.format == "json"
    assert "'logging' section is now called 'log'" in caplog.text and str(path) in caplog.text


def test_a_neuron_config_with_both_log_and_logging_names_the_two(tmp_path):
    path = _neuron(tmp_path, {"network": "test"})
    data = {**yaml.safe_load(path.read_text()), "log": {}, "logging": {}}
    with pytest.raises(ConfigError) as caught:
        load_miner_config(_write(path, data))
    assert "logging: give the section once, as log:" in str(caught.value)


def test_a_relative_wallet_path_is_relative_to_the_neuron_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = _write(
        folder / "miner.yaml",
        {"chain": {"netuid": 1, "network": "test"}, "wallet": {"name": "w", "path": "wallets"}},
    )
    monkeypatch.chdir(tmp_path)
    assert load_miner_config(path).wallet.path == folder / "wallets"
