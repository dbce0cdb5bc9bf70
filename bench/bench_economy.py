"""The chain-wide reads of ``exporters/economics.py`` against the per-subnet alternative.

World: an in-process simnet chain of M subnets; every Substrate call sleeps ``--latency-ms``
(default 2 ms) for an RPC round trip and is counted. Both sides read at one pinned block and
run their calls concurrently, as the poller does:

* chain-wide (what the exporter does): ``get_all_dynamic_info`` + ``query_map`` of the ten
  per-subnet switches (``Yuma3On``, ``SubnetEpochConsensus``, ``MinNonImmuneUids``,
  ``ImmuneOwnerUidsLimit``, ``SubnetEmissionEnabled``, ``MinerBurned`` and the four of
  ``exporters/storage_switches.py``) + the gate's three values: 14 calls whatever M;
* per subnet (baseline): ``get_dynamic_info`` + the ten ``query`` reads for each of the M
  subnets, and the gate's three values once: 11M + 3 calls (a subnet's distance to the bar
  needs every subnet's price, so M is all subnets).

Usage: .venv/bin/python bench/bench_economy.py [--subnets 8 64 128] [--latency-ms 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bittensor as bt

from bench._support import SlowCountingSubstrate
from exporters.economics import fixed_of, fold_chain_wide, read_chain_wide
from exporters.emission_gate import GateState
from exporters.storage_switches import READ
from simnet.state import RAO_PER_TAO, Chain
from simnet.substrate import SimSubstrate
from simnet.testing import dev_keypair, isolate_token_symbol_cache


def build_chain(subnets: int) -> Chain:
    chain = Chain(block_time=12.0)
    chain.create_root()
    owner = dev_keypair("Alice").ss58_address
    for netuid in range(1, subnets + 1):
        chain.create_subnet(
            netuid,
            owner_coldkey=owner,
            tao_in_rao=round(1000 * (1 + netuid % 17) * RAO_PER_TAO),
            alpha_in_rao=4000 * RAO_PER_TAO,
        )
    chain.step()
    return chain


PER_SUBNET = (
    "Yuma3On",
    "SubnetEpochConsensus",
    "MinNonImmuneUids",
    "ImmuneOwnerUidsLimit",
    "SubnetEmissionEnabled",
    "MinerBurned",
    *(s.item for s in READ),
)


async def per_subnet(snap, netuids: list[int]):
    storage = bt.storage.SubtensorModule
    api = bt.runtime_api.SubnetInfoRuntimeApi

    async def one(n: int):
        return await asyncio.gather(
            snap.runtime(api.get_dynamic_info, [n]),
            *(snap.query(getattr(storage, item), [n]) for item in PER_SUBNET),
        )

    rows, bar, exponent, rank = await asyncio.gather(
        asyncio.gather(*(one(n) for n in netuids)),
        snap.query(storage.EmissionGateBar),
        snap.query(storage.EmissionGateExponent),
        snap.query(storage.EmissionBarRank),
    )

    def column(item: str) -> list:
        i = PER_SUBNET.index(item) + 1
        return [(n, r[i]) for n, r in zip(netuids, rows, strict=True)]

    gate = GateState(bar=fixed_of(bar, 64), exponent=fixed_of(exponent, 64), bar_rank=int(rank))
    wide = fold_chain_wide(
        [d for d, *_ in rows],
        column("Yuma3On"),
        column("SubnetEpochConsensus"),
        column("MinNonImmuneUids"),
        column("SubnetEmissionEnabled"),
        column("MinerBurned"),
        gate,
    )
    switches = {s.item: {n: s.decode(v) for n, v in column(s.item)} for s in READ}
    limits = {n: int(v) for n, v in column("ImmuneOwnerUidsLimit")}
    return replace(
        wide,
        immune_owner_uids_limit=MappingProxyType(limits),
        switches=MappingProxyType(switches),
    )


async def measure(subnets: int, latency: float, rounds: int) -> None:
    chain = build_chain(subnets)
    sub = SlowCountingSubstrate(SimSubstrate(chain), latency)
    client = bt.Client("ws://simnet-bench.invalid", substrate=sub)
    await client.connect()
    snap = await client.at(chain.head)
    netuids = chain.netuids
    wide_t, base_t = [], []
    for _ in range(rounds):
        sub.calls.clear()
        t = time.perf_counter()
        wide = await read_chain_wide(snap)
        wide_t.append(time.perf_counter() - t)
        wide_calls = sum(sub.calls.values())
        sub.calls.clear()
        t = time.perf_counter()
        base = await per_subnet(snap, netuids)
        base_t.append(time.perf_counter() - t)
        base_calls = sum(sub.calls.values())
        assert wide == base, "both ways must read the same standings and switches"
    w, b = statistics.median(wide_t), statistics.median(base_t)
    print(
        f"  {subnets:4d} subnets: chain-wide {wide_calls:4d} calls {w * 1000:7.1f} ms | "
        f"per subnet {base_calls:4d} calls {b * 1000:7.1f} ms | "
        f"{base_calls / wide_calls:5.1f}x fewer calls, {b / w:5.1f}x less wall time"
    )


async def run(args: argparse.Namespace) -> None:
    isolate_token_symbol_cache()
    print(
        f"chain-wide reads vs per-subnet reads, {args.latency_ms:g} ms per Substrate call "
        f"(in-process simnet), median of {args.rounds} rounds"
    )
    for m in args.subnets:
        await measure(m, args.latency_ms / 1000, args.rounds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subnets", type=int, nargs="+", default=[8, 64, 128])
    p.add_argument("--latency-ms", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
