"""House rules every package keeps: no module-level mutable state, and small rooms.

A dict or list at module level is state that every caller in the process shares and any of
them can change; constant tables are tuples, frozensets or read-only mappings instead. A
module past a few hundred lines holds more than one concern, and the next feature lands in it.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess

from tests.support import REPO

PACKAGES = ("common", "simnet", "exporters", "agent", "neuron", "alerts", "grafana", "taowatch")
MUTABLE = (dict, list, set, bytearray)
LONGEST_MODULE_LINES = 600


def package_modules():
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            yield importlib.import_module(info.name)


def test_no_module_holds_mutable_state_at_module_level():
    found = [
        f"{module.__name__}.{name} ({type(value).__name__})"
        for module in package_modules()
        for name, value in vars(module).items()
        if not name.startswith("__") and isinstance(value, MUTABLE)
    ]
    assert found == []


def test_the_walk_sees_every_package_module():
    names = {module.__name__ for module in package_modules()}
    assert {"common.chain", "simnet.ledger", "exporters.collector", "taowatch.stack"} <= names


def test_no_source_file_outside_tests_is_longer_than_a_room():
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    long = {
        path: lines
        for path in tracked
        if not path.startswith("tests/")
        and (lines := len((REPO / path).read_text().splitlines())) > LONGEST_MODULE_LINES
    }
    assert long == {}
