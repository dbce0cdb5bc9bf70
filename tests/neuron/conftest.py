"""Fixtures the neuron tests share: an axon wired as the miner wires it, served in process."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.support.neuron import make_axon


@pytest.fixture
async def served():
    """``serve(**make_axon kwargs)`` returns a started test client, the axon and its metrics;
    every client is closed after the test."""
    clients = []

    async def serve(**kwargs):
        axon, metrics = make_axon(**kwargs)
        client = TestClient(TestServer(axon.app()))
        await client.start_server()
        clients.append(client)
        return client, axon, metrics

    yield serve
    for client in clients:
        await client.close()
