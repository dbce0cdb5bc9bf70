"""Hotkey-only key loading, file-mode checks, the coldkey refusal, and the config/CLI front."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import bittensor as bt
import pytest
import yaml
from bittensor.keyfiles import Keypair

from common.config import ConfigError
from neuron.cli import miner_main, validator_main
from neuron.config import load_miner_config, load_validator_config
from neuron.wallet import ColdkeyNotOnHost, WalletError, load_hotkey_wallet
from tests.support import REPO
from tests.support.neuron import MINER, VALIDATOR, write_wallet

COLD = Keypair.create_from_uri("//taowatch/test/cold")


def test_the_wallet_loads_the_hotkey_and_only_the_coldkey_address(tmp_path):
    write_wallet(tmp_path, "w", MINER, COLD)
    wallet = load_hotkey_wallet(tmp_path, "w")
    assert wallet.hotkey_ss58 == MINER.ss58_address
    assert wallet.coldkey_ss58 == COLD.ss58_address
    assert MINER.ss58_address in repr(wallet)
    with pytest.raises(ColdkeyNotOnHost):
        wallet.coldkey.sign(b"anything")


def test_the_sdk_signs_hotkey_intents_and_btauth_with_a_hotkey_only_wallet(tmp_path):
    write_wallet(tmp_path, "w", MINER, COLD)
    wallet = load_hotkey_wallet(tmp_path, "w")
    signer = bt.resolve_signer(wallet, "hotkey")
    assert signer.ss58_address == MINER.ss58_address
    headers = bt.http_auth.sign(wallet, method="POST", path="/x", body=b"", receiver_ss58="r")
    assert headers[bt.http_auth.HEADER_HOTKEY] == MINER.ss58_address


def test_a_coldkey_private_key_next_to_the_hotkey_refuses_to_start(tmp_path):
    write_wallet(tmp_path, "w", MINER, COLD, coldkey=True)
    with pytest.raises(WalletError) as err:
        load_hotkey_wallet(tmp_path, "w")
    message = str(err.value)
    assert str(tmp_path / "w" / "coldkey") in message
    assert "allow_coldkey_on_host" in message
    assert load_hotkey_wallet(tmp_path, "w", allow_coldkey_on_host=True).hotkey_ss58


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_hotkey_file_readable_by_others_is_refused_with_the_chmod_fix(tmp_path, mode):
    write_wallet(tmp_path, "w", MINER, COLD)
    hotkey = tmp_path / "w" / "hotkeys" / "default"
    os.chmod(hotkey, mode)
    with pytest.raises(WalletError) as err:
        load_hotkey_wallet(tmp_path, "w")
    assert f"chmod 600 {hotkey}" in str(err.value)


def test_missing_files_are_named_with_the_fix(tmp_path):
    with pytest.raises(WalletError, match="wallet directory not found"):
        load_hotkey_wallet(tmp_path, "absent")
    write_wallet(tmp_path, "w", MINER, COLD)
    with pytest.raises(WalletError, match="hotkeys/other: hotkey file not found"):
        load_hotkey_wallet(tmp_path, "w", "other")
    (tmp_path / "w" / "coldkeypub.txt").unlink()
    with pytest.raises(WalletError, match=r"coldkeypub\.txt: coldkey public address not found"):
        load_hotkey_wallet(tmp_path, "w")


def test_an_encrypted_hotkey_without_its_password_variable_is_refused_not_prompted(tmp_path):
    wallet = bt.Wallet("enc", "default", path=str(tmp_path))
    wallet.create_new_hotkey(use_password=True, hotkey_password="pw", suppress=True)
    write_wallet(tmp_path, "enc2", MINER, COLD)
    (tmp_path / "enc" / "coldkeypub.txt").write_bytes(
        (tmp_path / "enc2" / "coldkeypub.txt").read_bytes()
    )
    with pytest.raises(WalletError, match="BT_PW_"):
        load_hotkey_wallet(tmp_path, "enc")
    assert load_hotkey_wallet(tmp_path, "enc", password="pw").hotkey_ss58


def test_the_example_configs_are_valid():
    miner = load_miner_config(REPO / "neuron" / "miner.example.yaml")
    validator = load_validator_config(REPO / "neuron" / "validator.example.yaml")
    assert miner.metrics.port == 9947 and miner.metrics.host == "127.0.0.1"
    assert validator.metrics.port == 9948 and validator.metrics.host == "127.0.0.1"
    assert miner.axon.host == "127.0.0.1"


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def test_config_errors_name_the_field_and_the_fix(tmp_path):
    base = {"chain": {"network": "sim://127.0.0.1:1", "netuid": 1}, "wallet": {"name": "w"}}
    with pytest.raises(ConfigError, match=r"axon.prot: unknown field"):
        load_miner_config(_write(tmp_path / "a.yaml", {**base, "axon": {"prot": 1}}))
    with pytest.raises(ConfigError, match=r"chain.network: .*not a chain"):
        load_miner_config(
            _write(tmp_path / "b.yaml", {**base, "chain": {"network": "nope", "netuid": 1}})
        )
    with pytest.raises(ConfigError, match="external_ip"):
        load_miner_config(_write(tmp_path / "d.yaml", {**base, "axon": {"host": "0.0.0.0"}}))
    with pytest.raises(ConfigError, match=r"task\.quality"):
        load_miner_config(_write(tmp_path / "c.yaml", {**base, "task": {"quality": "meh"}}))


def test_the_cli_checks_config_and_keys_then_exits(tmp_path, capsys):
    write_wallet(tmp_path, "v", VALIDATOR, COLD)
    cfg = {
        "chain": {"network": "sim://127.0.0.1:1", "netuid": 1},
        "wallet": {"name": "v", "path": str(tmp_path)},
    }
    path = _write(tmp_path / "v.yaml", cfg)
    assert validator_main(["--config", str(path), "--check-config"]) == 0
    assert VALIDATOR.ss58_address in capsys.readouterr().out
    write_wallet(tmp_path, "v", VALIDATOR, COLD, coldkey=True)
    assert miner_main(["--config", str(path), "--check-config"]) == 2
    err = capsys.readouterr().err
    assert "coldkey private key" in err and "Traceback" not in err


def test_the_taowatch_command_runs_the_miner_check(tmp_path):
    write_wallet(tmp_path, "m", MINER, COLD)
    cfg = {
        "chain": {"network": "sim://127.0.0.1:1", "netuid": 1},
        "wallet": {"name": "m", "path": str(tmp_path)},
        "task": {"name": "nope"},
    }
    path = _write(tmp_path / "m.yaml", cfg)
    run = subprocess.run(
        [sys.executable, "-m", "taowatch.cli", "miner", "--config", str(path), "--check-config"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "task 'nope' is unknown" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_busy_port_is_a_clear_error_not_a_traceback(tmp_path):
    write_wallet(tmp_path, "m", MINER, COLD)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = {
            "chain": {"network": "sim://127.0.0.1:1", "netuid": 1},
            "wallet": {"name": "m", "path": str(tmp_path)},
            "metrics": {"port": port},
        }
        path = _write(tmp_path / "m.yaml", cfg)
        run = subprocess.run(
            [sys.executable, "-m", "taowatch.cli", "miner", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 2
    assert f"metrics.port: 127.0.0.1:{port} is already in use" in run.stderr
    assert "Traceback" not in run.stderr
