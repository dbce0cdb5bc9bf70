"""Whole-network poll: the agent exporting every neuron of M subnets of 256, against the naive
SDK loop, in the same run, with a public endpoint's round trip on every Substrate call.

World: simnet's generated ``scale:`` scenario (128 subnets x 256 neurons = 32 768 neurons).

Part 1, in process (one ``SimSubstrate`` shared by both sides, ``--latency-ms`` slept in every
Substrate call, each call counted), for each M of ``--curve``:

* naive: for each subnet, one after another, ``neurons.all(netuid)`` and a default
  ``subnets.metagraph(netuid)``, each at the head (what an SDK user would write);
* agent: ``ChainPoller.poll()`` with ``export_all_neurons`` on the M subnets (one pinned
  block, ``neurons.all`` + ``metagraph(commitments=False)`` per subnet, at most
  ``--max-concurrent`` subnets at once).

  CPU per poll is the process CPU over the poll minus the CPU spent inside simnet's own
  calls (measured in the same wrapper), i.e. the SDK's and the agent's share. The render is
  ``ChainCollector.families()`` + the fast text formatter; the first gzip scrape is what
  ``/metrics`` does for a new snapshot (render and gzip level 1 streamed, once per snapshot),
  the cached one what every later scrape of that snapshot does.

Part 2, served (``--served``): a simnet server in another process with the same world and
``--latency-ms`` injected as its latency fault, and a real ``taowatch agent`` process
exporting all M subnets; ``/metrics`` is scraped over HTTP (gzip), RSS is the agent's
VmHWM, CPU per poll its CPU time over its polls.

Usage: .venv/bin/python bench/bench_network.py [--curve 8,32,128] [--latency-ms 50] [--served]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bittensor as bt  # noqa: E402
import structlog  # noqa: E402
import yaml  # noqa: E402

from bench._support import SlowCountingSubstrate, rss_mb, start_agent  # noqa: E402
from exporters.chain import ChainPoller, WatchPlan  # noqa: E402
from exporters.collector import ChainCollector  # noqa: E402
from exporters.deregistration import DeregistrationTracker  # noqa: E402
from exporters.endpoints import EndpointPool  # noqa: E402
from exporters.exposition import SnapshotRenders, render_families  # noqa: E402
from simnet.scenario import Scenario, World  # noqa: E402
from simnet.state import Chain  # noqa: E402
from simnet.substrate import SimSubstrate  # noqa: E402
from simnet.testing import in_process_backends, isolate_token_symbol_cache  # noqa: E402

UIDS = 256


def scenario(subnets: int) -> Scenario:
    return Scenario(name="network", scale={"subnets": subnets, "neurons": UIDS, "tempo": 360})


def build_world(subnets: int) -> tuple[Chain, float]:
    started = time.perf_counter()
    chain = Chain(block_time=12.0)
    World(chain, scenario(subnets)).build()
    chain.step(2)
    return chain, time.perf_counter() - started


async def naive_poll(c: bt.Client, netuids: list[int]) -> int:
    neurons = 0
    for netuid in netuids:
        neurons += len(await c.neurons.all(netuid))
        assert await c.subnets.metagraph(netuid) is not None
    return neurons


async def careful_poll(c: bt.Client, netuids: list[int]) -> int:
    """What a careful user writes: one pinned block, the same two reads per subnet, all at
    once."""
    view = await c.at()
    reads = [view.neurons.all(n) for n in netuids]
    reads += [view.subnets.metagraph(n, commitments=False) for n in netuids]
    results = await asyncio.gather(*reads)
    return sum(len(r) for r in results[: len(netuids)])


async def sdk_loops(network: str, netuids: list[int]) -> None:
    """The two baselines, timed through the same endpoint the agent reads."""
    from common.chain import make_client

    async with make_client(network) as client:
        t0 = time.perf_counter()
        naive = await naive_poll(client, netuids)
        t1 = time.perf_counter()
        careful = await careful_poll(client, netuids)
        t2 = time.perf_counter()
    assert naive == careful
    print(
        f"  SDK loops through {network.split(':')[0]}:// ({naive} neurons): "
        f"naive {t1 - t0:.2f} s, careful (pinned, concurrent) {t2 - t1:.2f} s"
    )


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} (1 / 5 min) on {os.cpu_count()} cores"


async def in_process(args: argparse.Namespace, chain: Chain) -> None:
    latency = args.latency_ms / 1000
    naive_sub = SlowCountingSubstrate(SimSubstrate(chain), latency)
    naive = bt.Client("ws://simnet-bench.invalid", substrate=naive_sub)
    await naive.connect()
    print(
        "\n| subnets | neurons | naive: Substrate calls | naive wall | agent: SDK calls "
        "| agent: Substrate calls | agent wall | agent CPU | series | text | render "
        "| first gzip scrape | cached gzip scrape | wall ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in args.curve:
        netuids = list(range(1, m + 1))
        agent_sub = SlowCountingSubstrate(SimSubstrate(chain), latency)
        pool = EndpointPool.over(["sim://bench:1"], in_process_backends(every=agent_sub))
        poller = ChainPoller(
            WatchPlan(export_all=frozenset(netuids)),
            pool,
            DeregistrationTracker(None),
            timeout=120,
            max_concurrent_subnets=args.max_concurrent,
        )
        poller.start()
        assert await poller.poll(), poller.status.last_error  # connect + block time, once
        watcher = pool.endpoints[0].finality
        chain.step()
        deadline = time.monotonic() + 30
        while watcher.latest != chain.finalized:
            assert time.monotonic() < deadline, "the finality subscription delivered nothing"
            await asyncio.sleep(0.01)

        naive_times, agent_times, agent_cpu = [], [], []
        for r in range(args.rounds):
            chain.step()
            if r < args.naive_rounds:
                naive_sub.calls.clear()
                t = time.perf_counter()
                assert await naive_poll(naive, netuids) == m * UIDS
                naive_times.append(time.perf_counter() - t)
                naive_calls = Counter(naive_sub.calls)
            agent_sub.calls.clear()
            object.__setattr__(agent_sub, "inner_cpu", 0.0)
            cpu, t = time.process_time(), time.perf_counter()
            assert await poller.poll(), poller.status.last_error
            agent_times.append(time.perf_counter() - t)
            agent_cpu.append(time.process_time() - cpu - agent_sub.inner_cpu)
            agent_calls = Counter(agent_sub.calls)
            assert sum(len(s.neurons) for s in poller.snapshot.subnets.values()) == m * UIDS
        collector = ChainCollector(poller)
        renders, zipped, cached = [], [], []
        snapshot = poller.snapshot
        for _ in range(3):
            t = time.perf_counter()
            families = collector.families()
            text = render_families(families, "text").encode()
            renders.append(time.perf_counter() - t)
            # A fresh snapshot's first gzip scrape (render and compress streamed), then a
            # second scraper's, served from the cache.
            snapshot_renders = SnapshotRenders()
            part = partial(collector.snapshot_families, snapshot)
            t = time.perf_counter()
            body = snapshot_renders.gzip(snapshot, part, "text", b"")
            zipped.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert snapshot_renders.gzip(snapshot, part, "text", b"") == body
            cached.append(time.perf_counter() - t)
        series = sum(sum(v is not None for v in f.values) for f in families)
        await poller.close()
        assert "finalized_block_number" not in agent_calls, dict(agent_calls)
        n_t, a_t = statistics.median(naive_times), statistics.median(agent_times)
        print(
            f"| {m} | {m * UIDS} | {sum(naive_calls.values())} | {n_t:.2f} s "
            f"| {2 + 2 * m} | {sum(agent_calls.values())} | **{a_t:.2f} s** "
            f"| {statistics.median(agent_cpu):.2f} s | {series} | {len(text) / 1e6:.1f} MB "
            f"| {statistics.median(renders) * 1000:.0f} ms "
            f"| {statistics.median(zipped) * 1000:.0f} ms ({len(body) / 1e6:.2f} MB) "
            f"| {statistics.median(cached) * 1000:.0f} ms | {n_t / a_t:.1f}x |",
            flush=True,
        )
        print(f"    naive calls {dict(naive_calls)}; agent calls {dict(agent_calls)}")


def served(args: argparse.Namespace) -> None:
    from simnet.process import running_simnet
    from simnet.remote import SimAdmin

    m = max(args.curve)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        path = workdir / "network.yaml"
        path.write_text(
            yaml.safe_dump(
                {"name": "network", "scale": {"subnets": m, "neurons": UIDS, "tempo": 360}}
            )
        )
        started = time.perf_counter()
        with running_simnet(scenario=path, block_time=12.0, startup_timeout=600) as sim:
            print(
                f"\nserved: simnet server up in {time.perf_counter() - started:.1f} s; "
                f"the agent reads through {args.via}://"
            )

            async def faults() -> None:
                async with SimAdmin(sim.host, sim.port) as admin:
                    await admin.set_faults(latency=args.latency_ms / 1000)

            asyncio.run(faults())
            network = sim.ws_network if args.via == "ws" else sim.network
            asyncio.run(sdk_loops(network, list(range(1, m + 1))))
            port = 9900 + os.getpid() % 90
            config = {
                "chain": {
                    "network": network,
                    "timeout_seconds": 60,
                },
                "listen": {"port": port},
                "poll": {
                    "interval_seconds": 12,
                    "timeout_seconds": 60,
                    "max_concurrent_subnets": args.max_concurrent,
                },
                "export_all_neurons": list(range(1, m + 1)),
                "log": {"level": "warning"},
            }
            proc = start_agent(config, workdir / "agent.yaml")
            try:
                scrape_served(proc, port, args.served_seconds)
            finally:
                proc.terminate()
                proc.wait(30)


def scrape_served(proc: subprocess.Popen, port: int, seconds: float) -> None:
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + seconds
    scrapes, sizes, durations, polls = [], [], [], []
    while time.monotonic() < deadline:
        time.sleep(3)
        req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        t = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
        except OSError:
            continue
        elapsed = time.perf_counter() - t
        text = gzip.decompress(raw).decode()
        values = {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith(("bittensor_exporter_", "process_cpu_seconds_total"))
            and "{" not in line.split()[0]
        }
        if values.get("bittensor_exporter_up") != 1.0:
            continue
        scrapes.append(elapsed)
        sizes.append((len(raw), len(text)))
        durations.append(values["bittensor_exporter_poll_duration_seconds"])
        polls.append(
            (values["bittensor_exporter_polls_total"], values["process_cpu_seconds_total"])
        )
    rss, hwm = rss_mb(proc.pid)
    assert len(polls) >= 2, "the agent did not poll successfully twice"
    (p0, c0), (p1, c1) = polls[0], polls[-1]
    cpu = (c1 - c0) / (p1 - p0) if p1 > p0 else float("nan")
    print(
        f"served agent: {len(scrapes)} scrapes over {seconds:g} s, {p1 - p0:.0f} polls between "
        f"the first and last"
    )
    print(
        f"  poll duration median {statistics.median(durations):.2f} s "
        f"(max {max(durations):.2f} s); agent CPU per poll (incl. its scrapes) {cpu:.2f} s"
    )
    print(
        f"  served scrape (gzip) median {statistics.median(scrapes) * 1000:.0f} ms "
        f"(max {max(scrapes) * 1000:.0f} ms), {sizes[-1][0] / 1e6:.2f} MB on the wire, "
        f"{sizes[-1][1] / 1e6:.1f} MB of text"
    )
    print(f"  agent RSS {rss:.0f} MB, peak {hwm:.0f} MB (target < 400 MB)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--curve", type=lambda s: [int(x) for x in s.split(",")], default=[8, 32, 128])
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--max-concurrent", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--naive-rounds", type=int, default=1)
    p.add_argument("--served", action="store_true")
    p.add_argument("--served-seconds", type=float, default=90)
    p.add_argument(
        "--via",
        choices=["sim", "ws"],
        default="sim",
        help="served: the agent reads through sim:// or through the node (ws://, the SDK's RPC)",
    )
    p.add_argument("--skip-in-process", action="store_true")
    args = p.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    isolate_token_symbol_cache()
    print(f"{load_note()}; {args.latency_ms:g} ms per Substrate call")
    if not args.skip_in_process:
        chain, setup = build_world(max(args.curve))
        print(f"world: {max(args.curve)} x {UIDS} neurons built in {setup:.1f} s")
        asyncio.run(in_process(args, chain))
        print(load_note())
    if args.served:
        served(args)
        print(load_note())


if __name__ == "__main__":
    main()
