"""Fixtures the e2e tests share: the bundled neurons as processes, ended after the test."""

from collections.abc import Iterator

import pytest

from tests.support.neuron_processes import NeuronProcesses, Start


@pytest.fixture
def processes(tmp_path) -> Iterator[Start]:
    """``start(role, name, config)`` runs ``taowatch <role> --config`` and returns the Popen."""
    started = NeuronProcesses(tmp_path)
    yield started.start
    started.stop()
