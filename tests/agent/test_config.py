"""``taowatch agent --check-config`` and the config model: errors name file, field and fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.main import main
from simnet.testing import dev_keypair
from tests.support import REPO

HOTKEY = dev_keypair("Alice").ss58_address
COLDKEY = dev_keypair("Bob").ss58_address


def write(tmp_path: Path, text: str, name: str = "agent.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def check(path: Path, capsys) -> tuple[int, str]:
    code = main(["--check-config", str(path)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_example_config_is_valid(tmp_path, capsys):
    example = REPO / "agent" / "agent.example.yaml"
    # token_file is relative to the config; the example's must exist for the check.
    copy = tmp_path / "agent.yaml"
    shutil.copy(example, copy)
    code, out = check(copy, capsys)
    assert code == 0, out
    assert out.strip().endswith(": ok")


def test_a_valid_config_exits_0(tmp_path, capsys):
    path = write(
        tmp_path,
        f"""
chain: {{network: "sim://127.0.0.1:9955", fallback_networks: ["sim://127.0.0.1:9956"]}}
watch:
  - {{netuid: 1, hotkeys: [{HOTKEY}]}}
  - {{coldkey: {COLDKEY}}}
export_all_neurons: [1]
state_file: state/agent.json
""",
    )
    assert check(path, capsys)[0] == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f"watch: [{{netuid: 1, hotkeys: [{HOTKEY}, 5NotAnAddress]}}]",
            "watch[0].hotkeys[1]: Value error, not a valid Bittensor ss58 address",
        ),
        (
            "watch: [{coldkey: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ0}]",
            "watch[0].coldkey: Value error, not a valid Bittensor ss58 address",
        ),
        (
            f"watch: [{{netuid: 1, hotkeys: [{HOTKEY}]}}]\npoll: {{finality_stale_blocks: 0}}",
            "poll.finality_stale_blocks: Input should be greater than 0",
        ),
        (
            f"watch: [{{netuid: 1, hotkeys: [{HOTKEY}]}}]\npoll: {{intervall_seconds: 3}}",
            "poll.intervall_seconds: unknown field; remove it or check its spelling",
        ),
        (
            f"chain: {{network: 'http://x'}}\nwatch: [{{netuid: 1, hotkeys: [{HOTKEY}]}}]",
            "chain.network: Value error, 'http://x' is not a chain",
        ),
        ("listen: {port: 9946}", "nothing to watch"),
        (
            f"watch: [{{netuid: 1, hotkeys: [{HOTKEY}]}}]\ninflux: {{enabled: true, org: o}}",
            "influx: Value error, influx is enabled but bucket, token_file is not set",
        ),
        (
            f"watch: [{{netuid: 1, coldkey: {COLDKEY}}}]",
            "watch[0]: Value error, a watch entry has either coldkey",
        ),
        ("watch: [netuid: 1", "line 1"),
    ],
)
def test_a_bad_config_exits_2_naming_the_file_and_field(tmp_path, capsys, body, expected):
    path = write(tmp_path, body)
    code, out = check(path, capsys)
    assert code == 2
    assert f"{path}: " in out
    assert expected in out
    assert "Traceback" not in out


def test_an_unreadable_influx_token_file_is_a_config_error(tmp_path, capsys):
    path = write(
        tmp_path,
        f"""
watch: [{{netuid: 1, hotkeys: [{HOTKEY}]}}]
influx: {{enabled: true, org: o, bucket: b, token_file: missing-token}}
""",
    )
    code, out = check(path, capsys)
    assert code == 2
    assert "influx.token_file" in out and "missing-token" in out


def test_the_cli_reports_a_bad_address_without_a_traceback(tmp_path):
    path = write(tmp_path, "watch: [{netuid: 1, hotkeys: [nope]}]")
    run = subprocess.run(
        [sys.executable, "-m", "taowatch.cli", "agent", "--check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert run.returncode == 2
    assert "watch[0].hotkeys[0]" in run.stderr
    assert "Traceback" not in run.stderr


def test_before_any_endpoint_answers_failed_polls_retry_soon_and_back_off_to_mainnet_pace():
    from exporters.service import DEFAULT_INTERVAL, FIRST_RETRY_SECONDS, poll_interval

    waits = [poll_interval(None, None, failures) for failures in range(1, 8)]
    assert waits[0] == FIRST_RETRY_SECONDS
    assert waits == sorted(waits) and waits[-1] == DEFAULT_INTERVAL


def test_a_known_block_time_or_a_configured_interval_sets_the_cadence_whatever_the_failures():
    from exporters.service import poll_interval

    assert poll_interval(None, 0.25, failures_in_a_row=9) == 0.25
    assert poll_interval(5.0, None, failures_in_a_row=9) == 5.0


def test_check_config_also_reads_the_config_flag_like_every_other_command(tmp_path, capsys):
    path = write(tmp_path, f"watch: [{{netuid: 1, hotkeys: [{HOTKEY}]}}]")
    assert main(["--config", str(path), "--check-config"]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"
    assert main(["--check-config"]) == 2
    assert "--check-config needs a FILE" in capsys.readouterr().err
