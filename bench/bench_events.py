"""Chain-event cost per poll: storage diffs (what the exporter does) against reading
``System.Events`` for every block since the last poll, both against the plain poll, same run.

World: ``bench_poll.py``'s (M subnets of U neurons, N watched hotkeys) plus C watched
coldkeys; every Substrate call sleeps ``--latency-ms`` (default 2 ms) for an RPC round trip.

* plain poll (baseline): ``ChainPoller.poll()`` with no event watcher;
* storage diffs: the same poll with ``exporters.events.EventWatcher`` (2 ``query_batch`` for
  the coldkeys, 3 for the hotkeys, whatever their number; hyperparameters and churn come from
  the records the poll reads anyway);
* events: the plain poll plus one pinned ``System.Events`` read per block since the last
  poll (the alternative: what a poll must add not to lose events between polls).

Usage: .venv/bin/python bench/bench_events.py [--hotkeys 32] [--coldkeys 4] [--gaps 1,10,100]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bittensor as bt
import structlog

from bench._support import SlowCountingSubstrate
from bench.bench_poll import build_chain, watched
from exporters.chain import ChainPoller, ColdkeyWatch, WatchPlan
from exporters.deregistration import AgentState
from exporters.endpoints import EndpointPool
from exporters.events import EventWatcher
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends, isolate_token_symbol_cache


def poller_over(chain, plan: WatchPlan, latency: float, events: bool):
    sub = SlowCountingSubstrate(SimSubstrate(chain), latency)
    pool = EndpointPool.over(["sim://bench:1"], in_process_backends(every=sub))
    watcher = EventWatcher() if events else None
    return ChainPoller(plan, pool, AgentState(None), events=watcher), sub


async def timed(
    poller: ChainPoller, sub: SlowCountingSubstrate, extra=None
) -> tuple[float, int, float]:
    """(wall seconds, Substrate calls, seconds of it spent inside simnet's own calls)."""
    sub.calls.clear()
    inner = sub.inner_cpu
    t = time.perf_counter()
    assert await poller.poll(), poller.status.last_error
    if extra is not None:
        await extra()
    return time.perf_counter() - t, sum(sub.calls.values()), sub.inner_cpu - inner


async def run(args: argparse.Namespace) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    isolate_token_symbol_cache()
    chain = build_chain(args.subnets, args.uids)
    pairs = watched(chain, args.hotkeys, args.subnets)
    owners = sorted({chain.owner_of(hk) for _, hk in pairs})
    coldkeys = tuple(ColdkeyWatch(ck, tuple(range(1, args.subnets + 1))) for ck in owners)
    coldkeys += tuple(
        ColdkeyWatch(chain.subnet(1).neurons[i].coldkey, (1,))
        for i in range(args.coldkeys - len(coldkeys))
    )
    plan = WatchPlan(hotkeys=tuple(pairs), coldkeys=coldkeys[: args.coldkeys])
    latency = args.latency_ms / 1000
    plain, plain_sub = poller_over(chain, plan, latency, events=False)
    diffs, diffs_sub = poller_over(chain, plan, latency, events=True)
    for p in (plain, diffs):
        assert await p.poll(), p.status.last_error  # connect + block time, once
    reader = bt.Client("ws://simnet-bench.invalid", substrate=plain_sub)
    print(
        f"{len(pairs)} hotkeys and {len(plan.coldkeys)} coldkeys over {args.subnets} subnets of "
        f"{args.uids} uids, {args.latency_ms:g} ms per Substrate call, median of "
        f"{args.rounds} rounds"
    )
    for gap in args.gaps:
        rows: dict[str, tuple[list[float], int]] = {"plain": ([], 0), "diffs": ([], 0)}
        rows["events"] = ([], 0)
        chain_cpu: dict[str, list[float]] = {"plain": [], "diffs": [], "events": []}
        for _ in range(args.rounds):
            chain.step(gap)
            head = chain.head

            async def read_events(head: int = head, gap: int = gap) -> None:
                for block in range(head - gap + 1, head + 1):
                    await reader.query(bt.storage.System.Events, block=block)

            for name, poller, sub, extra in (
                ("plain", plain, plain_sub, None),
                ("diffs", diffs, diffs_sub, None),
                ("events", plain, plain_sub, read_events),
            ):
                if name == "events":
                    plain._head_seen = None  # the same head again: re-read as a new poll
                seconds, calls, inner = await timed(poller, sub, extra)
                chain_cpu[name].append(inner)
                rows[name][0].append(seconds)
                rows[name] = (rows[name][0], calls)
        base_t = statistics.median(rows["plain"][0])
        base_c = rows["plain"][1]
        print(f"  gap {gap:4d} blocks between polls:")
        for name, label in (
            ("plain", "plain poll   "),
            ("diffs", "storage diffs"),
            ("events", "System.Events"),
        ):
            t, c = statistics.median(rows[name][0]), rows[name][1]
            inner = statistics.median(chain_cpu[name])
            print(
                f"    {label}: {c:4d} Substrate calls (+{c - base_c}), {t * 1000:7.1f} ms "
                f"({t / base_t:.2f}x the plain poll), of which simnet answering "
                f"{inner * 1000:.1f} ms"
            )
    await plain.close()
    await diffs.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hotkeys", type=int, default=32)
    p.add_argument("--coldkeys", type=int, default=4)
    p.add_argument("--subnets", type=int, default=8)
    p.add_argument("--uids", type=int, default=64)
    p.add_argument("--latency-ms", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--gaps", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 100])
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
