"""Every bad input to every config-reading command ends in exit 2 and a message, never a traceback.

Each case runs the real command in its own process (``taowatch agent``, ``taowatch miner``,
``taowatch validator``, ``taowatch simnet serve``) on a file written for it, with ``HOME``
pointing into the test's folder so that ``~`` in a path field is checked too. A case passes
when the process exits 2, its stderr names the config file and the field (or, for a file that
cannot be parsed at all, the position) that is wrong, and nothing it printed is a Python
traceback or an aiohttp "Unclosed client session" warning.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import pytest
from bittensor.keyfiles import Keyfile, Keypair

HOTKEY = Keypair.create_from_uri("//taowatch/test/bad-input/hot")
COLDKEY = Keypair.create_from_uri("//taowatch/test/bad-input/cold")
DIRECTORY = object()  # a case's config that is a folder, not a file

AGENT_OK = f"""
chain: {{network: "sim://127.0.0.1:1"}}
watch: [{{netuid: 1, hotkeys: [{HOTKEY.ss58_address}]}}]
"""
NEURON_OK = """
chain: {network: "sim://127.0.0.1:1", netuid: 1}
wallet: {name: w, path: $home/wallets}
"""
SUBNET_OK = "subnets:\n  - netuid: 1\n"


@dataclass(frozen=True)
class Case:
    """One bad input: the command, the config file's bytes, what the error must name.

    ``$config``, ``$home`` and ``$port`` in argv, the config, extra files and ``names`` are
    the config's path, the HOME given to the process and a port some other socket holds.
    """

    id: str
    argv: tuple[str, ...]
    config: str | bytes | object | None
    names: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)


def agent_check(id: str, config, *names: str, **kw) -> Case:
    return Case(id, ("agent", "--check-config", "$config"), config, names, **kw)


def agent_run(id: str, config, *names: str, **kw) -> Case:
    return Case(id, ("agent", "--config", "$config"), config, names, **kw)


def neuron_check(role: str, id: str, config, *names: str, **kw) -> Case:
    return Case(id, (role, "--check-config", "$config"), config, names, **kw)


def neuron_run(role: str, id: str, config, *names: str, **kw) -> Case:
    return Case(id, (role, "--config", "$config"), config, names, **kw)


def scenario_check(id: str, config, *names: str, **kw) -> Case:
    argv = ("simnet", "serve", "--scenario", "$config", "--check-config")
    return Case(id, argv, config, names, **kw)


CASES = [
    # -- the agent ---------------------------------------------------------------------------
    agent_check("agent: missing file", None, "file not found"),
    agent_check("agent: a directory", DIRECTORY, "is a directory"),
    agent_check("agent: empty file", "", "nothing to watch", "export_all_neurons"),
    agent_check("agent: YAML syntax error", "watch: [netuid: 1", "invalid YAML"),
    agent_check("agent: not UTF-8", b"watch: [\xff\xfe]\n", "line 1", "not UTF-8"),
    agent_check(
        "agent: duplicate key",
        AGENT_OK + "watch: []\n",
        "duplicate key 'watch'",
        "first set on line 3",
    ),
    agent_check("agent: top level is a list", "- watch", "expected a mapping"),
    agent_check(
        "agent: wrong type", AGENT_OK + "poll: {timeout_seconds: soon}", "poll.timeout_seconds"
    ),
    agent_check("agent: unknown field", AGENT_OK + "pol: {}", "pol: unknown field"),
    agent_check(
        "agent: negative interval",
        AGENT_OK + "poll: {interval_seconds: -1}",
        "poll.interval_seconds",
        "greater than 0",
    ),
    agent_check(
        "agent: bad network scheme",
        AGENT_OK.replace("sim://127.0.0.1:1", "http://127.0.0.1:9944"),
        "chain.network",
    ),
    agent_check(
        "agent: token file readable by others",
        AGENT_OK + "influx: {enabled: true, org: o, bucket: b, token_file: token}",
        "influx.token_file",
        "chmod 600 $tmp/token",
        files={"token": "secret\n"},
        modes={"token": 0o644},
    ),
    agent_check(
        "agent: token file under ~ readable by others",
        AGENT_OK + "influx: {enabled: true, org: o, bucket: b, token_file: ~/token}",
        "influx.token_file",
        "chmod 600 $home/token",
        files={"home/token": "secret\n"},
        modes={"home/token": 0o640},
    ),
    agent_check(
        "agent: influx URL with a password",
        AGENT_OK + "influx: {url: 'http://admin:hunter2@127.0.0.1:8086'}",
        "influx.url",
        "token_file",
    ),
    agent_check(
        "agent: influx URL not http",
        AGENT_OK + "influx: {url: '127.0.0.1:8086'}",
        "influx.url",
        "http://",
    ),
    agent_check(
        "agent: corrupt state file under ~",
        AGENT_OK + "state_file: ~/state.json",
        "state_file",
        "$home/state.json",
        files={"home/state.json": "{not json"},
    ),
    agent_run(
        "agent: listen port in use",
        AGENT_OK + "listen: {host: 127.0.0.1, port: $port}",
        "listen.port",
        "already in use",
    ),
    agent_run(
        "agent: unresolvable listen host",
        AGENT_OK + "listen: {host: no-such-host.invalid, port: 0}",
        "listen.host",
        "cannot resolve",
    ),
    # -- the miner and the validator -----------------------------------------------------------
    neuron_check("miner", "miner: missing file", None, "file not found"),
    neuron_check("miner", "miner: not UTF-8", b"chain:\n  network: \xe9\n", "line 2", "UTF-8"),
    neuron_check(
        "miner",
        "miner: duplicate key",
        NEURON_OK + "wallet: {name: other}\n",
        "duplicate key 'wallet'",
    ),
    neuron_check("miner", "miner: empty file", "", "chain: required field is missing"),
    neuron_check("miner", "miner: wrong type", NEURON_OK + "axon: {port: eighty}", "axon.port"),
    neuron_check(
        "miner",
        "miner: bad network scheme",
        NEURON_OK.replace("sim://127.0.0.1:1", "ftp://node"),
        "chain.network",
    ),
    neuron_check(
        "miner",
        "miner: hotkey readable by others",
        NEURON_OK,
        "wallet",
        "chmod 600 $home/wallets/w/hotkeys/default",
        modes={"home/wallets/w/hotkeys/default": 0o644},
    ),
    neuron_check(
        "miner",
        "miner: wallet under ~ not found",
        NEURON_OK.replace("$home/wallets", "~/elsewhere"),
        "wallet",
        "$home/elsewhere/w",
    ),
    neuron_check(
        "validator",
        "validator: negative interval",
        NEURON_OK + "query: {step_interval_seconds: -5}",
        "query.step_interval_seconds",
    ),
    neuron_check(
        "validator",
        "validator: unknown field",
        NEURON_OK + "scoring: {emaa_alpha: 0.1}",
        "scoring.emaa_alpha: unknown field",
    ),
    neuron_check("validator", "validator: YAML syntax error", "chain: {", "invalid YAML"),
    neuron_run(
        "miner",
        "miner: metrics port in use",
        NEURON_OK + "metrics: {port: $port}\naxon: {port: 0}",
        "metrics.port",
        "already in use",
    ),
    neuron_run(
        "miner",
        "miner: unresolvable axon host",
        NEURON_OK + "metrics: {port: 0}\naxon: {host: no-such-host.invalid, port: 0}",
        "axon.host",
        "cannot resolve",
    ),
    neuron_run(
        "validator",
        "validator: unresolvable metrics host",
        NEURON_OK + "metrics: {host: no-such-host.invalid, port: 0}",
        "metrics.host",
        "cannot resolve",
    ),
    # -- simnet scenarios ----------------------------------------------------------------------
    scenario_check("scenario: missing file", None, "file not found"),
    scenario_check("scenario: a directory", DIRECTORY, "is a directory"),
    scenario_check("scenario: YAML syntax error", "subnets: [", "invalid YAML"),
    scenario_check("scenario: not UTF-8", b"name: \xc3\x28\n", "line 1", "UTF-8"),
    scenario_check(
        "scenario: duplicate key", "name: a\nseed: 1\nname: b\n", "duplicate key 'name'"
    ),
    scenario_check("scenario: top level is text", "just words", "expected a mapping"),
    scenario_check(
        "scenario: bad account uri",
        "accounts: [{uri: 'Alice//', tao: 10}]",
        "accounts[0].uri",
        "//Alice",
    ),
    scenario_check(
        "scenario: bad account ss58",
        "accounts: [{ss58: 5Nope, tao: 10}]",
        "accounts[0].ss58",
    ),
    scenario_check(
        "scenario: more neurons than max_uids",
        SUBNET_OK + "    max_uids: 2\n    neurons: [{name: a, role: miner}, {name: b, role: miner},"
        " {name: c, role: miner}]\n",
        "subnets[0]",
        "neurons: 3 neurons do not fit in max_uids 2",
    ),
    scenario_check(
        "scenario: duplicate neuron names",
        SUBNET_OK + "    neurons: [{name: a, role: miner}, {name: a, role: validator}]\n",
        "subnets[0]",
        "neurons[1].name",
    ),
    scenario_check(
        "scenario: stake below the chain's minimum",
        SUBNET_OK + "    neurons: [{name: a, role: validator, stake_tao: 0.000001}]\n",
        "subnets[0].neurons[0]",
        "AmountTooLow",
    ),
    scenario_check("scenario: negative block time", "block_time: -12", "block_time"),
    scenario_check("scenario: unknown field", SUBNET_OK + "    tempoo: 10\n", "subnets[0].tempoo"),
    scenario_check("scenario: wrong type", "subnets: [{netuid: one}]", "subnets[0].netuid"),
    scenario_check(
        "scenario: netuid beyond subtensor's", "subnets: [{netuid: 5000}]", "subnets[0].netuid"
    ),
]


def write_wallet(root: Path) -> None:
    """The layout a neuron loads: a 0600 hotkey and the coldkey's public address."""
    Keyfile(root / "w" / "hotkeys" / "default").set_keypair(HOTKEY, encrypt=False, overwrite=True)
    Keyfile(root / "w" / "coldkeypub.txt").set_keypair(
        Keypair(ss58_address=COLDKEY.ss58_address), encrypt=False, overwrite=True
    )


def write_case(case: Case, tmp: Path, home: Path, port: int) -> dict[str, str]:
    config = tmp / "config.yaml"
    values = {"config": str(config), "home": str(home), "port": str(port), "tmp": str(tmp)}
    write_wallet(home / "wallets")
    for name, text in case.files.items():
        (tmp / name).write_text(Template(text).substitute(values))
    for name, mode in case.modes.items():
        os.chmod(tmp / name, mode)
    if case.config is DIRECTORY:
        config.mkdir()
    elif isinstance(case.config, bytes):
        config.write_bytes(case.config)
    elif isinstance(case.config, str):
        config.write_text(Template(case.config).substitute(values))
    return values


@pytest.fixture
def held_port():
    """A port some other socket is listening on, for the "already in use" cases."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_naming_the_file_and_field_without_a_traceback(case, tmp_path, held_port):
    home = tmp_path / "home"
    home.mkdir()
    values = write_case(case, tmp_path, home, held_port)
    argv = [Template(a).substitute(values) for a in case.argv]
    run = subprocess.run(
        [sys.executable, "-m", "taowatch.cli", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "HOME": str(home)},
        # A guard against a command that serves instead of refusing, not a measurement.
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert values["config"] in run.stderr, output
    for name in case.names:
        assert Template(name).substitute(values) in run.stderr, output
    assert "Traceback" not in output
    assert "Unclosed client session" not in output
