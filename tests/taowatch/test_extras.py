"""A command whose optional extra is missing exits 2 naming the extra, never a traceback.

Each case runs ``taowatch`` in a subprocess whose imports of the extra's packages fail (a
meta-path finder refuses them), as on a host installed without that extra.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from taowatch.extras import NEEDS, extra_packages
from tests.support import REPO

REFUSING = r"""
import importlib.abc, sys
refused = set(sys.argv[1].split(","))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in refused:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Refuse())
from taowatch.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_without(modules: tuple[str, ...], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", REFUSING, ",".join(modules), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


CASES = [
    (command, sub, extra)
    for (command, sub), extras in sorted(NEEDS.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    for extra in extras[:1]
]


def test_every_extra_a_command_needs_is_one_pyproject_declares():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {e for extras in NEEDS.values() for e in extras} <= set(declared)
    assert set(extra_packages()) == set(declared)


@pytest.mark.parametrize(("command", "sub", "extra"), CASES)
def test_a_command_without_its_extra_exits_two_naming_it(command, sub, extra):
    argv = [command, *([sub] if sub else [])]
    if (command, sub) == ("dashboards", "preview"):
        argv += ["--out", "preview-out"]
    run = run_without(extra_packages()[extra], *argv)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"needs the '{extra}' extra" in run.stderr
    assert f"taowatch[{extra}]" in run.stderr
    assert "Traceback" not in run.stderr


def test_dashboards_preview_needs_no_dashboards_extra(tmp_path):
    """Preview reads the committed JSON: without the builders' SDK it gets as far as asking
    Prometheus (here: nobody listening, a clear error)."""
    run = run_without(
        extra_packages()["dashboards"],
        "dashboards",
        "preview",
        "--out",
        str(tmp_path / "out"),
        "--prometheus",
        "http://127.0.0.1:1",
    )
    assert "Traceback" not in run.stderr
    assert "cannot reach Prometheus at http://127.0.0.1:1" in run.stderr


def test_a_command_with_no_extra_runs_while_every_extra_is_missing():
    every = tuple(m for modules in extra_packages().values() for m in modules)
    run = run_without(every, "agent", "--check-config", "agent/agent.example.yaml")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "agent/agent.example.yaml: ok"
