"""`taowatch demo` brings up simnet, the agent, miners and a validator, and stops by itself."""

import random
import socket
import subprocess
import sys

# Every port the demo opens, before the offset (simnet, agent, validator, miners' axons and
# metrics).
DEMO_PORTS = (9955, 9946, 9948, 8091, 8092, 8093, 9947, 9957, 9967)


def free_offset() -> int:
    """An offset under which every demo port is free now, so the test runs beside anything."""
    for _ in range(50):
        offset = random.randrange(10_000, 50_000, 100)
        if all(_free(port + offset) for port in DEMO_PORTS):
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
    # The chain's verdict, as the agent exports it, reached the progress lines.
    assert "miner-good-1 incentive=" in out
    assert "validator vtrust=" in out
    # The validator's own weights story: commits it made and reveals it saw the chain make.
    assert "validator commits=" in out and " reveals=" in out
    # Servers hold hotkeys only: no coldkey private key file is left in the demo's wallets.
    assert not list((tmp_path / "wallets").glob("*/coldkey"))
    assert list((tmp_path / "wallets").glob("*/coldkeypub.txt"))
