"""/metrics with export_all_neurons on 16 subnets x 256 neurons vs labelled Gauges, same run.

The agent polls an in-process simnet chain once. Then, with no cache anywhere:

* render: one full render of the same series, median of N, in three ways —
  - baseline: the series held in labelled prometheus-client ``Gauge`` children, rendered by
    prometheus-client (``generate_latest``; OpenMetrics: its ``generate_latest``);
  - collector: the agent's ``ChainCollector`` (fresh metric families from the snapshot)
    rendered by prometheus-client, the path the agent used before its own formatter;
  - agent: what ``/metrics`` does now (``Exposition.body``: ``exporters.exposition``
    writes the chain families straight from the snapshot);
* scrape: wall time of a GET over real HTTP on loopback, agent ``/metrics`` vs the Gauges
  served by prometheus-client's own aiohttp handler, identity and gzip. The agent renders
  a snapshot once and serves the cached part to later scrapes of it, so a poll runs
  between scrapes to measure a render each time.

Usage: .venv/bin/python bench/bench_scrape.py [--subnets 16] [--uids 256] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import bittensor as bt
import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as om_generate_latest

from agent.app import EXPOSITION_KEY, POLLER_KEY, REGISTRY_KEY, create_app
from agent.config import AgentConfig
from agent.startup import read_startup
from exporters.collector import ChainCollector
from exporters.scrape import Exposition
from simnet.state import RAO_PER_TAO, Chain
from simnet.subnets import legacy_rules
from simnet.substrate import SimSubstrate
from simnet.testing import dev_keypair, in_process_backends, isolate_token_symbol_cache


def build_chain(subnets: int, uids: int) -> Chain:
    chain = Chain(block_time=12.0)
    owner = dev_keypair("Alice").ss58_address
    chain.fund(owner, 10**9 * RAO_PER_TAO)
    for netuid in range(1, subnets + 1):
        chain.create_subnet(
            netuid,
            tempo=100,
            max_uids=uids,
            owner_coldkey=owner,
            owner_hotkey=owner,
            **legacy_rules(),
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


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/metrics"


async def run(args: argparse.Namespace) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    isolate_token_symbol_cache()
    t = time.perf_counter()
    chain = build_chain(args.subnets, args.uids)
    print(f"built {args.subnets}x{args.uids} chain in {time.perf_counter() - t:.1f}s")
    substrate = SimSubstrate(chain)
    cfg = AgentConfig.model_validate(
        {
            "chain": {"network": "sim://127.0.0.1:1"},
            "poll": {"interval_seconds": 3600},
            "export_all_neurons": list(range(1, args.subnets + 1)),
        }
    )
    cfg = cfg
    app = create_app(
        cfg,
        read_startup(cfg, backends=in_process_backends(every=substrate)),
        process_metrics=False,
    )
    runner, agent_url = await serve(app)
    poller = app[POLLER_KEY]
    t = time.perf_counter()
    while poller.snapshot is None:  # noqa: ASYNC110 (the start-up poll runs in the scheduler)
        await asyncio.sleep(0.01)
    print(f"agent poll of {args.subnets} subnets: {time.perf_counter() - t:.2f}s")

    registry = app[REGISTRY_KEY]
    baseline, series = gauge_registry(registry)
    base_app = web.Application()
    base_app.router.add_get("/metrics", make_aiohttp_handler(baseline))
    base_runner, base_url = await serve(base_app)
    print(f"series: {series} ({args.subnets} subnets x {args.uids} neurons)")

    exposition = app[EXPOSITION_KEY]
    agent_text, _ = exposition.body("")
    assert agent_text == generate_latest(registry), "fast formatter differs from prometheus-client"
    print(f"exposition: {len(agent_text) / 1e6:.1f} MB, identical to prometheus-client's render")

    collector = ChainCollector(poller)
    print(f"render, no cache (median of {args.repeat}):")
    for label, accept, base_fn in (
        ("text 0.0.4", "", lambda: generate_latest(baseline)),
        (
            "OpenMetrics",
            "application/openmetrics-text; version=1.0.0",
            lambda: om_generate_latest(baseline),
        ),
    ):
        encoder, _ = choose_encoder(accept)
        b = median_time(base_fn, args.repeat)
        c = median_time(lambda encoder=encoder: encoder(registry), args.repeat)
        # A new Exposition per render: /metrics renders a snapshot once and caches it.
        a = median_time(
            lambda accept=accept: Exposition(collector, CollectorRegistry(), registry).body(accept),
            args.repeat,
        )
        print(
            f"  [{label:11s}] baseline Gauges {b * 1000:7.1f} ms | collector via prometheus-client "
            f"{c * 1000:7.1f} ms ({b / c:.1f}x) | agent formatter {a * 1000:6.1f} ms ({b / a:.1f}x)"
        )

    print(f"served scrape over loopback HTTP, every one rendered (median of {args.repeat}):")
    async with aiohttp.ClientSession() as http:
        for gzip in (False, True):
            agent, base = [], []
            size = base_size = 0
            for _ in range(args.repeat):
                chain.step()
                await poller.poll()
                renders = exposition.renders
                dt, size = await timed_get(http, agent_url, gzip)
                assert exposition.renders == renders + 1  # rendered for this scrape
                agent.append(dt)
                dt, base_size = await timed_get(http, base_url, gzip)
                base.append(dt)
            b, w = statistics.median(base), statistics.median(agent)
            label = "gzip" if gzip else "identity"
            print(
                f"  [{label:8s}] baseline Gauges {b * 1000:7.1f} ms ({base_size / 1e6:.2f} MB) | "
                f"agent {w * 1000:7.1f} ms ({b / w:.1f}x) ({size / 1e6:.2f} MB)"
            )
    await runner.cleanup()
    await base_runner.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subnets", type=int, default=16)
    p.add_argument("--uids", type=int, default=256)
    p.add_argument("--repeat", type=int, default=5)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
