"""Soak: a real miner (fd limit 1,024) under the connection attack mix, against a baseline
without attack in the same run. Loopback only; stops by itself.

    .venv/bin/python bench/soak_miner_attack.py [--seconds 30] [--nofile 1024]

Phases: baseline (fresh signed requests only), then the same requests while 2,000 idle,
200 slow-header and 200 slow-body connections are held and reopened when dropped. Prints per
phase: requests, served ratio, 5xx count (503 included), the miner's RSS and log growth.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.miner_attack import (  # noqa: E402
    Attack,
    fresh_requests,
    raise_own_fd_limit,
    running_miner,
)
from tests.support.waiting import eventually  # noqa: E402


async def phase(miner, seconds: float) -> dict:
    log0 = miner.log_bytes()
    statuses: list[int] = []
    peak_rss = miner.rss_bytes()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        statuses += await fresh_requests(miner.port, 5, gap=0.05)
        peak_rss = max(peak_rss, miner.rss_bytes())
    return {
        "requests": len(statuses),
        "served": sum(s == 200 for s in statuses) / max(len(statuses), 1),
        "5xx": sum(s >= 500 for s in statuses),
        "no_answer": sum(s == 0 for s in statuses),
        "peak_rss_mb": peak_rss / 1e6,
        "log_growth_bytes": miner.log_bytes() - log0,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase")
    parser.add_argument("--nofile", type=int, default=1024, help="the miner's RLIMIT_NOFILE")
    args = parser.parse_args()
    raise_own_fd_limit(4096)
    with tempfile.TemporaryDirectory(prefix="soak-miner-") as tmp:
        async with running_miner(Path(tmp), nofile=args.nofile) as miner:

            async def answers() -> bool:
                return (await fresh_requests(miner.port, 1, gap=0))[0] == 200

            await eventually(answers, timeout=120, what="the miner serving")
            results = {"baseline": await phase(miner, args.seconds)}
            stop = asyncio.Event()
            attack = Attack(miner.port)
            attack.start(stop)
            # Past the opening burst: every attacker connection dropped and reopened once.
            await eventually(lambda: attack.connects >= 4800, timeout=120, what="full attack")
            results["attack"] = await phase(miner, args.seconds)
            stop.set()
            await attack.wait()
            results["attack"]["attacker_connects"] = attack.connects
            results["attack"]["dropped_by_miner"] = attack.closed_by_server
            alive = miner.process.poll() is None
    for name, r in results.items():
        print(
            f"{name:9s} "
            + "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
            )
        )
    print(f"miner alive at the end: {alive}")
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
