"""Shared test setup. Component-specific fixtures live in their own test modules."""

import os
import tempfile
from pathlib import Path

# The SDK caches token symbols under ~/.bittensor; keep test runs (and the processes they
# start, which inherit the environment) away from a developer's real cache.
_BT_HOME = Path(tempfile.mkdtemp(prefix="taowatch-tests-bt-"))
os.environ["BTCLI_TOKEN_SYMBOLS_CACHE"] = str(_BT_HOME / "token_symbols.json")
os.environ.setdefault("BITTENSOR_RUNTIME_CACHE_DIR", str(_BT_HOME / "runtime-cache"))

REPO = Path(__file__).resolve().parent.parent
