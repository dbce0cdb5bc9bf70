"""The poller as a service, with no web application around it."""

from __future__ import annotations

import pytest

from exporters.chain import WatchPlan
from exporters.service import FIRST_RETRY_SECONDS, PollService
from simnet.testing import small_world
from tests.support.exporters import make_poller
from tests.support.waiting import eventually


@pytest.fixture
def world():
    return small_world(validators=1, miners=2)


def plan_for(world) -> WatchPlan:
    return WatchPlan(hotkeys=((1, world.miners[0].hotkey.ss58_address),))


async def test_the_service_polls_from_start_to_stop_and_hands_each_snapshot_to_its_listeners(
    world,
):
    poller, sub, _ = make_poller(world.chain, plan_for(world))
    seen: list[int] = []

    async def listener(snapshot) -> None:
        seen.append(snapshot.block)

    service = PollService(poller, interval_seconds=3600, listeners=(listener,))
    service.start()
    try:
        await eventually(lambda: seen, what="the start-up poll's snapshot")
        assert seen == [world.chain.head]
        assert poller.status.interval == 3600
        assert sub.open_streams == 1  # the finality subscription runs while it does
    finally:
        await service.stop()
    await eventually(lambda: sub.open_streams == 0, what="the subscription closed")


async def test_failed_polls_back_off_until_the_chain_tells_its_block_time(world):
    poller, sub, _ = make_poller(world.chain, plan_for(world))
    service = PollService(poller)
    sub.fail = ConnectionError("no chain yet")
    assert not await service.poll_once()
    assert poller.status.interval == FIRST_RETRY_SECONDS
    assert not await service.poll_once()
    assert poller.status.interval == 2 * FIRST_RETRY_SECONDS
    sub.fail = None
    assert await service.poll_once()
    assert poller.status.interval == world.chain.block_time


async def test_a_failing_listener_does_not_stop_the_others(world):
    poller, _, _ = make_poller(world.chain, plan_for(world))
    seen: list[int] = []

    async def broken(snapshot) -> None:
        raise RuntimeError("a listener bug")

    async def listener(snapshot) -> None:
        seen.append(snapshot.block)

    service = PollService(poller, interval_seconds=60, listeners=(broken, listener))
    assert await service.poll_once()
    assert seen == [world.chain.head]
