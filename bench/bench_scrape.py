"""/metrics with export_all_neurons on 16 subnets x 256 neurons vs labelled Gauges, same run.

The agent polls an in-process simnet chain once; then, over real HTTP on loopback:

* agent: its /metrics handler (collector -> fresh metric families -> exposition, rendered
  once per poll result and served from that render until the next poll);
* baseline: the same series (same names, labels, values) held in labelled prometheus-client
  ``Gauge`` children, served by prometheus-client's own aiohttp handler, which renders the
  registry on every scrape.

Both are measured without and with ``Accept-Encoding: gzip``. The agent's first scrape after
a poll pays the render ("cold"); later scrapes of the same poll are "warm".

Usage: .venv/bin/python bench/bench_scrape.py [--subnets 16] [--uids 256] [--scrapes 5]
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

import aiohttp
import bittensor as bt
import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.exposition import choose_encoder

from agent.app import EXPOSITION_KEY, POLLER_KEY, create_app
from agent.config import AgentConfig
from simnet.state import RAO_PER_TAO, Chain
from simnet.substrate import SimSubstrate
from simnet.testing import dev_keypair, isolate_token_symbol_cache


def build_chain(subnets: int, uids: int) -> Chain:
    chain = Chain(block_time=12.0)
    owner = dev_keypair("Alice").ss58_address
    chain.fund(owner, 10**9 * RAO_PER_TAO)
    for netuid in range(1, subnets + 1):
        chain.create_subnet(
            netuid, tempo=100, max_uids=uids, owner_coldkey=owner, owner_hotkey=owner
        )
        for i in range(uids - 1):
            # Distinct, valid-looking hotkeys without deriving 4096 keypairs.
            hk = bt.keyfiles.Keypair(
                public_key=(netuid * 100_000 + i).to_bytes(32, "big")
            ).ss58_address
            chain.register(netuid, hk, owner, burn=False)
    chain.step(2)
    return chain


def gauge_registry(chain_registry: CollectorRegistry) -> tuple[CollectorRegistry, int]:
    """The same series as the agent's chain collector, held in labelled Gauges."""
    registry = CollectorRegistry()
    series = 0
    for family in chain_registry.collect():
        if not family.name.startswith("bittensor_"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            labels = sorted(sample.labels)
            key = (sample.name, tuple(labels))
            gauge = _gauges.get(key)
            if gauge is None:
                gauge = _gauges[key] = Gauge(
                    sample.name, family.documentation, labels, registry=registry
                )
            (gauge.labels(**sample.labels) if labels else gauge).set(sample.value)
            series += 1
    return registry, series


_gauges: dict = {}


async def timed_get(http: aiohttp.ClientSession, url: str, gzip: bool) -> tuple[float, int]:
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    t = time.perf_counter()
    async with http.get(url, headers=headers, auto_decompress=False) as resp:
        body = await resp.read()
        assert resp.status == 200
    return time.perf_counter() - t, len(body)


async def run(args: argparse.Namespace) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    isolate_token_symbol_cache()
    t = time.perf_counter()
    chain = build_chain(args.subnets, args.uids)
    print(f"built {args.subnets}x{args.uids} chain in {time.perf_counter() - t:.1f}s")
    client = bt.Client("ws://simnet-bench.invalid", substrate=SimSubstrate(chain))
    cfg = AgentConfig.model_validate(
        {
            "chain": {"network": "sim://127.0.0.1:1"},
            "poll": {"interval_seconds": 3600},
            "export_all_neurons": list(range(1, args.subnets + 1)),
        }
    )
    app = create_app(cfg, client_factory=lambda _n: client, process_metrics=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    agent_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/metrics"
    poller = app[POLLER_KEY]
    t = time.perf_counter()
    while poller.snapshot is None:  # noqa: ASYNC110 (the start-up poll runs in the scheduler)
        await asyncio.sleep(0.01)
    print(f"agent poll of {args.subnets} subnets: {time.perf_counter() - t:.2f}s")

    from agent.app import REGISTRY_KEY

    baseline, series = gauge_registry(app[REGISTRY_KEY])
    base_app = web.Application()
    base_app.router.add_get("/metrics", make_aiohttp_handler(baseline))
    base_runner = web.AppRunner(base_app)
    await base_runner.setup()
    base_site = web.TCPSite(base_runner, "127.0.0.1", 0)
    await base_site.start()
    base_url = f"http://127.0.0.1:{base_site._server.sockets[0].getsockname()[1]}/metrics"
    print(f"series: {series} ({args.subnets} subnets x {args.uids} neurons)")

    exposition = app[EXPOSITION_KEY]
    async with aiohttp.ClientSession() as http:
        for gzip in (False, True):
            cold = []
            warm = []
            size = 0
            await timed_get(http, agent_url, gzip)  # a scraper of this format exists now
            for _ in range(args.scrapes):
                # Cold: what one render of a new poll result costs (now done after the
                # poll, off the scrape path, for formats scraped recently).
                encoder, _ = choose_encoder("")
                t = time.perf_counter()
                await asyncio.to_thread(exposition.render_uncached, encoder, gzip)
                cold.append(time.perf_counter() - t)
                await poller.poll()
                await exposition.settled()  # the after-poll render, off the scrape path
                renders = exposition.renders
                dt, size = await timed_get(http, agent_url, gzip)
                assert exposition.renders == renders  # served from the after-poll render
                warm.append(dt)
            base = [(await timed_get(http, base_url, gzip)) for _ in range(args.scrapes)]
            b = statistics.median(x for x, _ in base)
            c, w = statistics.median(cold), statistics.median(warm)
            label = "gzip" if gzip else "identity"
            print(
                f"  [{label:8s}] baseline Gauges {b * 1000:7.1f} ms ({base[0][1] / 1e6:.1f} MB) | "
                f"agent render {c * 1000:7.1f} ms ({b / c:.1f}x) | agent scrape {w * 1000:7.1f} ms "
                f"({b / w:.1f}x) ({size / 1e6:.1f} MB)"
            )
    await runner.cleanup()
    await base_runner.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subnets", type=int, default=16)
    p.add_argument("--uids", type=int, default=256)
    p.add_argument("--scrapes", type=int, default=5)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
