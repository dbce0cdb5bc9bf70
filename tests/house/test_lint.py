"""The code stays as ruff wants it: lint findings and unformatted files fail the build."""

import subprocess
import sys

from tests.support import REPO


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_ruff_finds_nothing_to_fix():
    run = ruff("check", ".")
    assert run.returncode == 0, run.stdout[-4000:]


def test_every_python_file_is_formatted():
    run = ruff("format", "--check", ".")
    assert run.returncode == 0, run.stdout[-4000:]
