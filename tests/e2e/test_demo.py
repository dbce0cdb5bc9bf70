"""`taowatch demo` brings up simnet, the agent, miners and a validator, and stops by itself."""

import random
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from simnet.scenario import neuron_coldkey, neuron_keypair
from tests.support import REPO

# Every port the demo opens, before the offset (simnet, agent, validator, miners' axons and
# metrics).
DEMO_PORTS = (9955, 9946, 9948, 8091, 8092, 8093, 9947, 9957, 9967)
STACK_PORTS = (*DEMO_PORTS, 9090, 9093, 9097)  # with --stack: Prometheus, Alertmanager, receiver
# Late enough that the agent has polled the take before it changes (onboarding takes a few
# dozen blocks), early enough for the run's window.
EVENT_BLOCK = 150


def free_offset(ports: tuple[int, ...] = DEMO_PORTS) -> int:
    """An offset under which every demo port is free now, so the test runs beside anything."""
    for _ in range(50):
        offset = random.randrange(10_000, 50_000, 100)
        if all(_free(port + offset) for port in ports):
            return offset
    raise RuntimeError("no free port range for the demo")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_demo_runs_every_component_and_stops_cleanly_after_its_duration(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "taowatch.cli",
            "demo",
            "--duration",
            "30",
            "--progress-every",
            "3",
            "--workdir",
            str(tmp_path),
            "--port-offset",
            str(free_offset()),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-3000:]
    for component in ("simnet", "agent", "miner-good-1", "miner-poor", "validator"):
        assert f"stopping {component}" in out
    assert "deleted the coldkeys" in out
    # No status line before the agent has polled: the first one already carries its verdict.
    status = [line for line in out.splitlines() if "] chain head " in line]
    assert status and "agent up=1" in status[0], out[-3000:]
    assert "waiting for the agent's first poll" in out.split(status[0])[0]
    # The chain's verdict, as the agent exports it, reached the progress lines.
    assert "miner-good-1 incentive=" in out
    assert "validator vtrust=" in out
    # The validator's own weights story: commits it made and reveals it saw the chain make.
    assert "validator commits=" in out and " reveals=" in out
    # The agent probes the demo's miners, with a probe key of its own (owner-only file).
    probe = yaml.safe_load((tmp_path / "agent.yaml").read_text())["probe"]
    assert probe["enabled"] is True
    assert (Path(probe["hotkey_file"]).stat().st_mode & 0o777) == 0o600
    # Servers hold hotkeys only: no coldkey private key file is left in the demo's wallets.
    assert not list((tmp_path / "wallets").glob("*/coldkey"))
    assert list((tmp_path / "wallets").glob("*/coldkeypub.txt"))


def early_events_world(tmp_path) -> str:
    """The default world with its governance events moved into the demo's first minute."""
    world = yaml.safe_load((REPO / "simnet" / "scenarios" / "default.yaml").read_text())
    world["events"] = [
        {"at": EVENT_BLOCK, "take": {"hotkey": "sim-validator-c", "percent": 9}},
        {
            "at": EVENT_BLOCK + 10,
            "coldkey_swap": {
                "coldkey": "sim-validator-c",
                "action": "announce",
                "new_coldkey": "//Ferdie",
            },
        },
    ]
    path = tmp_path / "early-events.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    return str(path)


def test_the_demo_stack_prints_each_chain_event_with_its_receiver_and_old_and_new_values(
    tmp_path,
):
    offset = free_offset(STACK_PORTS)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "taowatch.cli",
            "demo",
            "--stack",
            "--scenario",
            early_events_world(tmp_path),
            "--duration",
            "75",
            "--progress-every",
            "5",
            "--workdir",
            str(tmp_path / "run"),
            "--port-offset",
            str(offset),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-3000:]
    events = [line for line in out.splitlines() if line.startswith("event ")]
    validator_c = neuron_keypair("sim-validator-c").ss58_address
    coldkey_c = neuron_coldkey("sim-validator-c").ss58_address
    # One line per receiver: the take is a warning (Slack), the swap critical (both).
    takes = [line for line in events if "BittensorDelegateTakeChanged" in line]
    assert len(takes) == 1, out[-3000:]
    assert f"slack      BittensorDelegateTakeChanged  take of {validator_c}: 18% -> 9%" in takes[0]
    swaps = [line for line in events if "BittensorColdkeySwapAnnounced" in line]
    assert sorted(line.split()[2] for line in swaps) == ["pagerduty", "slack"], out[-3000:]
    assert all(f"{coldkey_c} -> coldkey hashing to" in line for line in swaps)
    assert all(line.endswith("[critical]") for line in swaps)
    # Every notification is one line: no payload, no continuation lines, no escaped newlines.
    receivers = ("slack", "pagerduty", "heartbeat")
    pages = [line for line in out.splitlines() if line[9:].split(" ", 1)[0] in receivers]
    assert pages, out[-3000:]
    assert "\\n" not in out and '"routing_key"' not in out
    continuation = [
        line for line in out.splitlines() if line.startswith(" " * 20) and "heartbeat" not in line
    ]
    assert continuation == [], continuation
