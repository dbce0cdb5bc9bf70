"""Fixtures the simnet tests share: a fresh SDK token-symbol cache per test and the small world."""

import pytest

from simnet.testing import small_world


@pytest.fixture(autouse=True)
def _token_cache(tmp_path, monkeypatch):
    # The SDK writes the symbols it reads from the chain to this cache: a test's chain must not
    # answer from another test's.
    monkeypatch.setenv("BTCLI_TOKEN_SYMBOLS_CACHE", str(tmp_path / "symbols.json"))


@pytest.fixture
def world():
    return small_world(block_time=0.25)
