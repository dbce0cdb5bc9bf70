"""Faults at the wire, as public endpoints produce them, through the SDK's own session:
JSON-RPC rate-limit error frames, sockets dropped mid-request, added latency."""

from __future__ import annotations

import random

import bittensor as bt
import pytest
from bittensor.result import ChainError, ErrorCode, RpcPolicyError

from simnet.node import NODE_SPEC_VERSION as SPEC_VERSION
from simnet.node import node_server
from simnet.server import Faults
from simnet.substrate import SimSubstrate
from tests.simnet.test_node import Node, _fresh_metadata_cache  # noqa: F401  (fixture)


class FaultyNode(Node):
    def __init__(self, chain, faults: Faults):
        super().__init__(chain)
        self.server = node_server(SimSubstrate(chain), spec_version=SPEC_VERSION, faults=faults)
        self.runner = type(self.runner)(self.server.app())


async def test_rate_limit_frames_fail_single_reads_with_their_code_and_the_rest_answer(world):
    faults = Faults(rng=random.Random(7))
    async with FaultyNode(world.chain, faults) as node, bt.Client(node.url) as client:
        expected = await client.query(bt.storage.SubtensorModule.Tempo, [world.netuid])
        faults.error_rate = 0.3
        answers, refusals = [], []
        for _ in range(40):
            try:
                answers.append(await client.query(bt.storage.SubtensorModule.Tempo, [1]))
            except ChainError as error:
                refusals.append(error)
        assert answers and refusals and set(answers) == {expected}
        # The SDK reads both codes public endpoints use (-32029, -32032) as a rate limit.
        assert {error.code for error in refusals} == {ErrorCode.RATE_LIMITED}
        assert {str(error).split(":")[0] for error in refusals} == {
            "Too many requests",  # -32029
            "Rate limit exceeded",  # -32032
        }


async def test_a_socket_dropped_mid_request_is_reconnected_and_the_read_answers(world):
    faults = Faults(rng=random.Random(3))
    async with FaultyNode(world.chain, faults) as node, bt.Client(node.url) as client:
        expected = await client.neurons.all(world.netuid)
        faults.drop_rate = 0.2
        for _ in range(20):
            assert await client.neurons.all(world.netuid) == expected
        assert node.server.dropped > 0
        faults.drop_rate = 0.0
        faults.latency = 0.05
        assert await client.neurons.all(world.netuid) == expected


async def test_a_policy_close_fails_the_read_with_the_endpoints_reason_then_redials(world):
    faults = Faults(rng=random.Random(5))
    async with FaultyNode(world.chain, faults) as node, bt.Client(node.url) as client:
        await client.query(bt.storage.SubtensorModule.Tempo, [world.netuid])
        faults.policy_close_rate = 1.0
        with pytest.raises(RpcPolicyError, match=r"1008.*rate limit policy"):
            await client.query(bt.storage.SubtensorModule.Tempo, [world.netuid])
        assert node.server.policy_closed == 1
        # The SDK's session gives that connection up (no retry behind the caller's back); the
        # next request dials again, and reads once the endpoint stops refusing.
        faults.policy_close_rate = 0.0
        assert await client.query(bt.storage.SubtensorModule.Tempo, [world.netuid]) == 10
        assert node.server.policy_closed == 1
