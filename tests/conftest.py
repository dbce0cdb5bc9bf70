"""Shared test setup: an isolated SDK cache, and the e2e marker kept true to the layout.

Helpers that tests import live in ``tests/support/``; fixtures a single component uses live
beside its tests.
"""

import os
import tempfile
from pathlib import Path

import pytest

# The SDK caches token symbols under ~/.bittensor; keep test runs (and the processes they
# start, which inherit the environment) away from a developer's real cache.
_BT_HOME = Path(tempfile.mkdtemp(prefix="taowatch-tests-bt-"))
os.environ["BTCLI_TOKEN_SYMBOLS_CACHE"] = str(_BT_HOME / "token_symbols.json")
os.environ.setdefault("BITTENSOR_RUNTIME_CACHE_DIR", str(_BT_HOME / "runtime-cache"))

E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `-m "not e2e"` must select exactly the in-process folders, so the folder decides.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
        elif item.get_closest_marker("e2e") is not None:
            raise pytest.UsageError(
                f"{item.nodeid} is marked e2e but lives outside tests/e2e/: move the test there"
            )
