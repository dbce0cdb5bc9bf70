"""The shared pieces behind every config: the YAML loader, the secret-file rule, path fields."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from common.config import ConfigError, StrictModel, UserPath, load_config, read_yaml
from common.secret_files import SecretFileError, check_secret_file, read_secret_file


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def problem(path: Path) -> str:
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    assert err.value.source == str(path)
    return str(err.value)


# -- the loader -------------------------------------------------------------------------------


def test_a_repeated_key_is_refused_with_the_file_the_line_and_the_key(tmp_path):
    path = write(
        tmp_path / "c.yaml", "chain:\n  network: finney\n  timeout_seconds: 3\n  network: test\n"
    )
    message = problem(path)
    assert message.startswith(f"{path}: line 4, column 3: ")
    assert "duplicate key 'network' (first set on line 2); keep one of them" in message


def test_the_same_key_in_two_different_mappings_is_not_a_repeat(tmp_path):
    path = write(tmp_path / "c.yaml", "a: {x: 1}\nb: {x: 2}\n")
    assert read_yaml(path) == {"a": {"x": 1}, "b": {"x": 2}}


def test_a_merged_key_may_be_overridden_because_that_is_what_merging_is_for(tmp_path):
    path = write(tmp_path / "c.yaml", "base: &b {x: 1, y: 1}\nuse:\n  <<: *b\n  x: 2\n")
    assert read_yaml(path)["use"] == {"x": 2, "y": 1}


def test_bytes_that_are_not_utf8_are_reported_with_the_line_and_the_fix(tmp_path):
    path = write(tmp_path / "c.yaml", b"name: ok\nowner: Jos\xe9\n")
    assert problem(path) == (
        f"{path}: line 2: not UTF-8 text (byte 0xe9 at offset 19); save the file as UTF-8"
    )


def test_a_control_character_yaml_refuses_is_a_config_error_too(tmp_path):
    path = write(tmp_path / "c.yaml", "name: a\x07b\n")
    assert "invalid YAML" in problem(path)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: None, "file not found; check the path"),
        (lambda p: p.mkdir(), "is a directory; give the path of the YAML file in it"),
    ],
    ids=["missing", "directory"],
)
def test_a_path_that_is_not_a_readable_file_says_so(tmp_path, make, expected):
    path = tmp_path / "c.yaml"
    make(path)
    assert problem(path) == f"{path}: {expected}"


def test_a_config_path_starting_with_tilde_is_read_from_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "c.yaml", "a: 1\n")
    assert read_yaml("~/c.yaml") == {"a": 1}


# -- path fields ------------------------------------------------------------------------------


class Paths(StrictModel):
    where: UserPath


def test_a_path_field_expands_tilde_to_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = write(tmp_path / "c.yaml", "where: ~/state.json\n")
    assert load_config(Paths, path).where == tmp_path / "state.json"


def test_a_tilde_naming_no_user_is_an_error_at_its_field(tmp_path):
    path = write(tmp_path / "c.yaml", "where: ~no-such-user-here/x\n")
    with pytest.raises(ConfigError) as err:
        load_config(Paths, path)
    assert str(err.value).startswith(f"{path}: where: Value error, cannot expand")


def test_the_agent_keeps_an_expanded_state_file_instead_of_putting_it_next_to_the_config(
    tmp_path, monkeypatch
):
    from agent.config import load
    from simnet.testing import dev_keypair

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write(
        tmp_path / "agent.yaml",
        f"watch: [{{netuid: 1, hotkeys: [{dev_keypair('Alice').ss58_address}]}}]\n"
        "state_file: ~/state.json\n"
        "influx: {token_file: token}\n",
    )
    cfg = load(path)
    assert cfg.state_file == tmp_path / "home" / "state.json"
    assert cfg.influx.token_file == tmp_path / "token"  # relative: next to the config


@pytest.mark.parametrize(
    "url", ["http://admin:hunter2@db:8086", "https://token@db", "http://:pw@db:8086"]
)
def test_an_influx_url_carrying_credentials_is_refused_pointing_at_token_file(url):
    from pydantic import ValidationError

    from agent.config import InfluxConfig

    with pytest.raises(ValidationError) as err:
        InfluxConfig(url=url)
    assert "put the API token in the file named by influx.token_file" in str(err.value)


# -- secret files -----------------------------------------------------------------------------


def test_an_owner_only_secret_file_is_read_and_stripped(tmp_path):
    path = write(tmp_path / "token", "s3cret\n")
    path.chmod(0o600)
    assert read_secret_file(path) == "s3cret"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o602])
def test_a_secret_file_others_can_read_or_write_is_refused_with_the_chmod_that_fixes_it(
    tmp_path, mode
):
    path = write(tmp_path / "token", "s3cret\n")
    path.chmod(mode)
    with pytest.raises(SecretFileError) as err:
        check_secret_file(path)
    assert str(err.value) == (
        f"{path}: mode is {mode:04o}, readable or writable by group or others; "
        f"restrict it with: chmod 600 {path}"
    )


def test_a_missing_empty_or_folder_secret_is_refused_with_its_path(tmp_path):
    with pytest.raises(SecretFileError, match="file not found"):
        read_secret_file(tmp_path / "absent")
    (tmp_path / "folder").mkdir(mode=0o700)
    with pytest.raises(SecretFileError, match="not a regular file"):
        read_secret_file(tmp_path / "folder")
    empty = write(tmp_path / "empty", "\n")
    empty.chmod(0o600)
    with pytest.raises(SecretFileError, match="file is empty"):
        read_secret_file(empty)


def test_the_hotkey_and_the_influx_token_share_the_secret_file_rule(tmp_path):
    from agent.influx import read_token
    from neuron.wallet import WalletError, check_private_key_mode

    path = write(tmp_path / "secret", "s3cret\n")
    path.chmod(0o644)
    fix = f"chmod 600 {path}"
    with pytest.raises(WalletError, match=fix):
        check_private_key_mode(path)
    with pytest.raises(ValueError, match=f"influx.token_file {path}: .*{fix}"):
        read_token(path)
    os.chmod(path, 0o600)
    check_private_key_mode(path)
    assert read_token(path) == "s3cret"


# -- shutdown and genesis ---------------------------------------------------------------------


class NeverConnects:
    """A chain client whose connect always fails and which records being closed."""

    def __init__(self):
        self.closed = False

    async def connect(self):
        raise ConnectionRefusedError("nobody home")

    async def close(self):
        self.closed = True


def test_closing_the_pool_closes_clients_that_never_connected():
    from exporters.endpoints import BlockHashMemo, Endpoint, EndpointPool

    client = NeverConnects()
    pool = EndpointPool([Endpoint("sim://x:1", "sim://x:1", client, BlockHashMemo(client))])

    async def probe_then_close():
        await pool.probe()
        assert not pool.endpoints[0].up
        await pool.close()

    asyncio.run(probe_then_close())
    assert client.closed


def test_a_scenario_the_chain_refuses_at_genesis_is_a_config_error_naming_the_entry():
    from simnet.scenario import Scenario, World
    from simnet.state import Chain

    scenario = Scenario.model_validate(
        {
            "subnets": [
                {"netuid": 1, "neurons": [{"name": "v", "role": "validator", "stake_tao": 1e-6}]}
            ]
        }
    )
    with pytest.raises(ConfigError) as err:
        World(Chain(block_time=1.0, seed=0, genesis_nonce="t"), scenario, source="s.yaml").build()
    assert str(err.value).startswith("s.yaml: subnets[0].neurons[0] (v): the chain refuses it:")
