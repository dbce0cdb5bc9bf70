"""taowatch installed from its wheel, as the Ansible roles install it, works outside a checkout.

The wheel is built from a copy of this tree and installed with ``--no-deps`` into a fresh
venv in a temporary directory. That venv sees the dev venv's dependencies through a ``.pth``
file naming the dev venv's site-packages; a directory added that way does not run its own
``.pth`` files, so the dev venv's editable install (which would point back at the checkout)
stays invisible, and every command below runs from the installed copy with its cwd outside
the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.support import REPO

NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "var"
)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH and no inherited venv: only what the fresh venv itself can import.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def succeeded(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0


class Installed:
    """A fresh venv holding only the taowatch wheel, and a working directory outside the repo."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.python = self.venv / "bin" / "python"
        self.taowatch = self.venv / "bin" / "taowatch"
        self.cwd = root / "elsewhere"

    def site_packages(self) -> Path:
        found = run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            self.root,
        )
        assert succeeded(found), found.stderr
        return Path(found.stdout.strip())

    def python_says(self, code: str) -> str:
        result = run([str(self.python), "-c", code], self.cwd)
        assert succeeded(result), result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    assert not root.resolve().is_relative_to(REPO)
    # A copy, so a stale build/ in the checkout cannot leak removed modules into the wheel.
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), "."],
        source,
    )
    assert succeeded(built), built.stderr
    (wheel,) = (root / "dist").glob("taowatch-*.whl")

    env = Installed(root)
    made = run([sys.executable, "-m", "venv", "--without-pip", str(env.venv)], root)
    assert succeeded(made), made.stderr
    added = run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env.python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        root,
    )
    assert succeeded(added), added.stderr
    dev_site_packages = sysconfig.get_paths()["purelib"]
    (env.site_packages() / "dev-dependencies.pth").write_text(dev_site_packages + "\n")
    env.cwd.mkdir()
    return env


def test_the_fresh_venv_imports_taowatch_from_the_wheel_not_the_checkout(installed):
    site = installed.site_packages()
    for package in ("taowatch", "alerts", "grafana", "grafana.dashboards.builders"):
        where = Path(installed.python_says(f"import {package}; print({package}.__file__)"))
        assert where.is_relative_to(site), f"{package} imported from {where}"
    # The dependencies do come from the dev venv, through the .pth file.
    yaml_file = Path(installed.python_says("import yaml; print(yaml.__file__)"))
    assert yaml_file.is_relative_to(sysconfig.get_paths()["purelib"])


def test_dashboards_check_passes_on_the_packaged_json(installed):
    result = run([str(installed.taowatch), "dashboards", "check"], installed.cwd)
    assert succeeded(result), result.stderr
    packaged = installed.site_packages() / "grafana" / "dashboards"
    assert result.stdout.strip() == f"dashboards are up to date in {packaged}"


def test_dashboards_check_reads_the_installed_json_and_catches_a_hand_edit(installed, tmp_path):
    # Edits a copy of the installed JSON, so the other tests keep a pristine install.
    copy = tmp_path / "dashboards"
    shutil.copytree(installed.site_packages() / "grafana" / "dashboards", copy)
    subnet = copy / "subnet.json"
    subnet.write_text(subnet.read_text().replace('"Tempo"', '"Tempo (hand-edited)"'))

    result = run(
        [str(installed.taowatch), "dashboards", "--dir", str(copy), "check"], installed.cwd
    )

    assert result.returncode == 1
    assert "subnet.json: differs from its builder" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_alert_generator_check_passes_on_the_packaged_rules(installed):
    result = run([str(installed.python), "-m", "alerts.generate", "--check"], installed.cwd)
    assert succeeded(result), result.stderr
    packaged = installed.site_packages() / "alerts"
    # Every rule file plus the rendered example Alertmanager config.
    generated = len(list((REPO / "alerts" / "rules").glob("*.rules.yaml"))) + 1
    assert result.stdout.strip() == f"alerts: {generated} generated files up to date in {packaged}"


def test_the_alert_generator_renders_rules_for_a_deployment_outside_the_checkout(installed):
    out = installed.cwd / "rendered"
    result = run(
        [
            str(installed.python),
            "-m",
            "alerts.generate",
            "--out",
            str(out),
            "--runbook-base-url",
            "https://runbooks.example/RUNBOOK.md",
        ],
        installed.cwd,
    )
    assert succeeded(result), result.stderr
    committed = sorted(p.name for p in (REPO / "alerts" / "rules").glob("*.rules.yaml"))
    assert sorted(p.name for p in out.iterdir()) == committed
    assert (
        "https://runbooks.example/RUNBOOK.md#alert-name-" in (out / "chain.rules.yaml").read_text()
    )


@pytest.mark.e2e
def test_the_stack_loads_every_packaged_rule_group_into_a_real_prometheus(installed):
    result = run([str(installed.python), "-m", "taowatch.stack", "--check"], installed.cwd)
    assert succeeded(result), result.stdout + result.stderr

    lines = result.stdout.strip().splitlines()
    packaged = installed.site_packages() / "alerts" / "src"
    assert lines[-1].endswith(f"rendered from {packaged}")
    loaded = {line.split(":")[0].removeprefix("group ") for line in lines[:-1]}
    committed = {
        group["name"]
        for path in (REPO / "alerts" / "rules").glob("*.rules.yaml")
        for group in yaml.safe_load(path.read_text())["groups"]
    }
    assert "taowatch.chain" in committed
    assert loaded == committed
    rule_files = {line.rsplit(" from ", 1)[1] for line in lines[:-1]}
    assert rule_files == {p.name for p in (REPO / "alerts" / "rules").glob("*.rules.yaml")}
