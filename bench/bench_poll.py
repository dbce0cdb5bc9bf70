"""Poll cost: the agent's pinned-block poll vs the obvious per-hotkey SDK loop, same run.

World: an in-process simnet chain (SimSubstrate) with M subnets of U neurons; N watched
hotkeys spread evenly over the subnets. Every Substrate call sleeps ``--latency-ms``
(default 2 ms) to model one RPC round trip, and is counted.

* naive: for each hotkey, ``client.neurons.uid(hk, netuid)`` then a default
  ``client.subnets.metagraph(netuid)`` (with commitments), one after another;
* agent: ``ChainPoller.poll()`` (head probe, one pinned block, ``neurons.all`` +
  ``metagraph(commitments=False)`` per subnet and the four chain-wide reads of
  ``exporters/economics.py``, concurrently), with its finality watcher
  running as in the agent: the finalized head arrives by subscription, not per poll.

Usage: .venv/bin/python bench/bench_poll.py [--hotkeys 32] [--subnets 8] [--uids 64]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bittensor as bt
import structlog

from bench._support import SlowCountingSubstrate
from exporters.chain import ChainPoller, WatchPlan
from exporters.deregistration import AgentState
from exporters.endpoints import EndpointPool
from simnet.state import RAO_PER_TAO, Chain
from simnet.subnets import legacy_rules
from simnet.substrate import SimSubstrate
from simnet.testing import dev_keypair, in_process_backends, isolate_token_symbol_cache


def build_chain(subnets: int, uids: int) -> tuple[Chain, list[tuple[int, str]]]:
    chain = Chain(block_time=12.0)
    owner = dev_keypair("Alice")
    chain.fund(owner.ss58_address, 10**9 * RAO_PER_TAO)
    for netuid in range(1, subnets + 1):
        chain.create_subnet(
            netuid,
            tempo=100,
            max_uids=uids,
            owner_coldkey=owner.ss58_address,
            owner_hotkey=dev_keypair(f"Owner{netuid}").ss58_address,
            **legacy_rules(),
        )
        for i in range(uids - 1):
            hk = dev_keypair(f"n{netuid}-{i}").ss58_address
            chain.register(netuid, hk, owner.ss58_address, burn=False)
    chain.step(2)
    return chain


def watched(chain: Chain, hotkeys: int, subnets: int) -> list[tuple[int, str]]:
    per = max(1, hotkeys // subnets)
    out = []
    for netuid in range(1, subnets + 1):
        sn = chain.subnet(netuid)
        out += [(netuid, n.hotkey) for n in sn.neurons[1 : per + 1]]
    return out[:hotkeys]


def client(chain: Chain, latency: float) -> tuple[bt.Client, SlowCountingSubstrate]:
    sub = SlowCountingSubstrate(SimSubstrate(chain), latency)
    return bt.Client("ws://simnet-bench.invalid", substrate=sub), sub


async def naive_poll(c: bt.Client, pairs: list[tuple[int, str]]) -> int:
    found = 0
    for netuid, hk in pairs:
        uid = await c.neurons.uid(hk, netuid)
        mg = await c.subnets.metagraph(netuid)
        if uid is not None and mg is not None:
            found += 1
    return found


async def run(args: argparse.Namespace) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    isolate_token_symbol_cache()
    chain = build_chain(args.subnets, args.uids)
    pairs = watched(chain, args.hotkeys, args.subnets)
    latency = args.latency_ms / 1000

    naive_client, naive_sub = client(chain, latency)
    await naive_client.connect()
    agent_sub = SlowCountingSubstrate(SimSubstrate(chain), latency)
    pool = EndpointPool.over(["sim://bench:1"], in_process_backends(every=agent_sub))
    poller = ChainPoller(WatchPlan(hotkeys=tuple(pairs)), pool, AgentState(None))
    poller.start()
    assert await poller.poll(), poller.status.last_error  # connect + block time, once
    watcher = pool.endpoints[0].finality
    chain.step()
    deadline = time.monotonic() + 30
    while watcher.latest != chain.finalized:  # subscribed and delivering
        assert time.monotonic() < deadline, "the finality subscription delivered nothing"
        await asyncio.sleep(0.01)

    naive_times, agent_times = [], []
    naive_calls: Counter = Counter()
    agent_calls: Counter = Counter()
    for _ in range(args.rounds):
        chain.step()
        naive_sub.calls.clear()
        t = time.perf_counter()
        assert await naive_poll(naive_client, pairs) == len(pairs)
        naive_times.append(time.perf_counter() - t)
        naive_calls = Counter(naive_sub.calls)

        agent_sub.calls.clear()
        t = time.perf_counter()
        assert await poller.poll(), poller.status.last_error
        agent_times.append(time.perf_counter() - t)
        agent_calls = Counter(agent_sub.calls)
        assert sum(w.registered for w in poller.snapshot.watched) == len(pairs)
    await poller.close()
    assert "finalized_block_number" not in agent_calls, dict(agent_calls)

    n_total, a_total = sum(naive_calls.values()), sum(agent_calls.values())
    # Agent: client.block() + the mechanism counts + (neurons.all + metagraph) per subnet
    # (the bench's subnets run one mechanism each) + 4 chain-wide reads (all dynamic info,
    # three maps); at(head) is the memo.
    n_sdk, a_sdk = 2 * len(pairs), 2 * args.subnets + 2 + 4
    n_t, a_t = statistics.median(naive_times), statistics.median(agent_times)
    print(
        f"poll of {len(pairs)} hotkeys over {args.subnets} subnets of {args.uids} uids, "
        f"{args.latency_ms:g} ms per Substrate call (in-process simnet), "
        f"median of {args.rounds} rounds"
    )
    print(
        f"  naive SDK loop : {n_sdk:4d} SDK calls, {n_total:4d} Substrate calls "
        f"{dict(naive_calls)}, {n_t * 1000:8.1f} ms"
    )
    print(
        f"  agent poll     : {a_sdk:4d} SDK calls, {a_total:4d} Substrate calls "
        f"{dict(agent_calls)}, {a_t * 1000:8.1f} ms"
    )
    print(
        f"  ratio          : {n_sdk / a_sdk:.1f}x fewer SDK calls, "
        f"{n_total / a_total:.1f}x fewer Substrate calls, {n_t / a_t:.1f}x less wall time"
    )
    budget = 2 * args.subnets + 2 + 4  # per subnet, head, mechanism counts, chain-wide
    per_subnet = (agent_calls["runtime_call"] - 1) / args.subnets
    print(
        f"  agent runtime calls per subnet: {per_subnet:g} (budget 2, besides the one "
        f"get_all_dynamic_info); SDK calls {a_sdk} = 2x{args.subnets} + head + mechanism "
        f"counts + 4 chain-wide "
        f"(budget {budget}); "
        f"finalized head by subscription: {watcher.subscriptions} subscription, "
        f"0 calls per poll"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hotkeys", type=int, default=32)
    p.add_argument("--subnets", type=int, default=8)
    p.add_argument("--uids", type=int, default=64)
    p.add_argument("--latency-ms", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
