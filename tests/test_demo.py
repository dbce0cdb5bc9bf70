"""`taowatch demo` brings up simnet, the agent, miners and a validator, and stops by itself."""

import subprocess
import sys


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
            "21000",
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
    # Servers hold hotkeys only: no coldkey private key file is left in the demo's wallets.
    assert not list((tmp_path / "wallets").glob("*/coldkey"))
    assert list((tmp_path / "wallets").glob("*/coldkeypub.txt"))
