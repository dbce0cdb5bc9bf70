"""Helpers the tests import by name (``from tests.support.waiting import eventually``).

Fixtures live in conftest.py files; what is here is plain code that several test packages
share, kept out of ``test_*`` modules so that pytest never collects it.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The checkout the tests run from, whatever folder a test module sits in."""
