"""A real miner process with a file-descriptor limit of 1,024 keeps serving fresh validator
connections through 2,000 idle and 400 slow-loris connections that reconnect whenever the
miner drops them, and its log stays small."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.support.miner_attack import Attack, fresh_requests, raise_own_fd_limit, running_miner
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

NOFILE = 1024  # the usual default soft limit: the one that locked validators out


async def test_fresh_validators_are_served_through_2000_idle_and_400_slow_loris_connections(
    tmp_path,
):
    raise_own_fd_limit(4096)
    async with running_miner(tmp_path, nofile=NOFILE) as miner:

        async def answers() -> bool:
            return (await fresh_requests(miner.port, 1, gap=0))[0] == 200

        await eventually(answers, timeout=60, what="the miner serving after its first sync")
        log_before = miner.log_bytes()

        stop = asyncio.Event()
        attack = Attack(miner.port, idle=2000, slow_header=200, slow_body=200)
        attack.start(stop)
        # Past the opening burst: every attacker connection has been dropped and reopened once.
        await eventually(lambda: attack.connects >= 4800, timeout=90, what="the attack in full")
        statuses = await fresh_requests(miner.port, 40)
        stop.set()
        await attack.wait()

        served = sum(s == 200 for s in statuses) / len(statuses)
        assert served >= 0.95, f"served {served:.0%}: {statuses}"
        assert not [s for s in statuses if s >= 500 and s != 503], statuses
        assert miner.log_bytes() - log_before < 1_000_000
        # The miner dropped idle and slow connections rather than being held by them.
        assert attack.closed_by_server > 0
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{miner.metrics_port}/metrics") as resp,
        ):
            text = await resp.text()
        assert "bittensor_axon_max_connections{" in text
        assert miner.process.poll() is None
