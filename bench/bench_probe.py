"""The agent's signed probe: cost per probed axon, against an unsigned GET, in one run.

    .venv/bin/python bench/bench_probe.py [--axons 1,16,64] [--probes 640] [--concurrency 16]

A child process (pinned to one core when there are two) serves 64 axons on 64 loopback
ports: the bundled miner's axon (``neuron.axon.Axon`` with its ``ProbeResponder``, probe rate
limit raised) for the signed probe, and a minimal aiohttp 200 responder on 64 more for the
baseline. The parent (the agent's side, on the other core) runs rounds over the first N axons:

* ``probe``    - ``agent.probe.Prober.run_once``: btauth/1 signing, a fresh connection per
  axon (``force_close``), the bounded gather, results and the snapshot swap;
* ``baseline`` - the same gather over a fresh-connection session, an unsigned ``GET /`` to
  the minimal responder: what any reachability check costs.

Per probed axon it prints the agent's CPU time (``process_time``), the wall time of a round
divided by N, and the server's CPU per request (from /proc), with the probe/baseline ratio
measured in this run. Rounds of the two kinds alternate; each side keeps its best of 3.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MINER_URI = "//taowatch/bench/miner"
PROBER_URI = "//taowatch/bench/prober"
PORTS = 64


def serve(first_port: int, ready_fd: int) -> None:
    """Child: 64 bundled-miner axons from first_port, 64 minimal responders after them."""
    from aiohttp import web
    from bittensor.keyfiles import Keypair

    from neuron.admission import PriorityGate, RateLimiter
    from neuron.auth import Verifier
    from neuron.axon import Axon
    from neuron.blacklist import CallerPolicy
    from neuron.metrics import NeuronMetrics
    from neuron.probe import ProbeResponder
    from neuron.task import EchoTask

    miner = Keypair.create_from_uri(MINER_URI).ss58_address
    metrics = NeuronMetrics(role="miner", netuid=1, hotkey=miner)
    verifier = Verifier(miner)
    probe = ProbeResponder(
        own_hotkey=miner,
        netuid=1,
        verifier=verifier,
        limiter=RateLimiter(1e9, 10**9),
        view=lambda: None,
        metrics=metrics,
    )
    axon = Axon(
        task=EchoTask(),
        verifier=verifier,
        policy=CallerPolicy(),
        view=lambda: None,
        gate=PriorityGate(8, 64, 5.0),
        limiter=RateLimiter(1e9, 10**9),
        metrics=metrics,
        max_body_bytes=65536,
        probe=probe,
    )

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    plain = web.Application()
    plain.router.add_get("/", ok)

    async def main() -> None:
        runners = []
        for app, offset in ((axon.app(), 0), (plain, PORTS)):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            for i in range(PORTS):
                await web.TCPSite(runner, "127.0.0.1", first_port + offset + i).start()
            runners.append(runner)
        os.write(ready_fd, b"1")
        await asyncio.Event().wait()

    asyncio.run(main())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _baseline_round(urls: list[str], concurrency: int) -> None:
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(force_close=True, limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str) -> int:
            async with semaphore:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    await resp.content.read(4096)
                    return resp.status

        statuses = await asyncio.gather(*(one(u) for u in urls))
    assert all(s == 200 for s in statuses), statuses


async def measure(n: int, probes: int, concurrency: int, first_port: int, server: int) -> dict:
    from bittensor.keyfiles import Keypair

    from agent.config import ProbeConfig
    from agent.probe import Prober, Target

    miner = Keypair.create_from_uri(MINER_URI).ss58_address
    key = Keypair.create_from_uri(PROBER_URI)
    targets = [Target(1, miner, i, f"127.0.0.1:{first_port + i}") for i in range(n)]
    plain = [f"http://127.0.0.1:{first_port + PORTS + i}/" for i in range(n)]
    config = ProbeConfig(enabled=True, hotkey_file="/unused", max_concurrent=concurrency)
    prober = Prober(config, key, lambda: targets)
    rounds = max(3, probes // n)

    async def probe_round() -> None:
        snap = await prober.run_once()
        assert all(r.up for r in snap.results), [r.status for r in snap.results]

    async def timed(fn) -> tuple[float, float, float]:
        cpu0, wall0, srv0 = time.process_time(), time.perf_counter(), _cpu_seconds(server)
        for _ in range(rounds):
            await fn()
        total = rounds * n
        return (
            (time.process_time() - cpu0) / total,
            (time.perf_counter() - wall0) / total,
            (_cpu_seconds(server) - srv0) / total,
        )

    await probe_round()  # warm both paths: imports, first connections
    await _baseline_round(plain, concurrency)
    best: dict[str, tuple[float, float, float]] = {}
    for _ in range(3):
        for kind, fn in (
            ("probe", probe_round),
            ("baseline", lambda: _baseline_round(plain, concurrency)),
        ):
            got = await timed(fn)
            best[kind] = min(best.get(kind, got), got)
    return {"n": n, "rounds": rounds, **best}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--axons", default="1,16,64")
    parser.add_argument("--probes", type=int, default=640, help="probes per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="probe.max_concurrent")
    parser.add_argument("--first-port", type=int, default=0, help="0: pick a free range")
    args = parser.parse_args()
    sizes = [int(x) for x in args.axons.split(",")]
    if max(sizes) > PORTS:
        parser.error(f"at most {PORTS} axons")
    first = args.first_port or _free_range(2 * PORTS)
    cores = sorted(os.sched_getaffinity(0))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        if len(cores) >= 2:
            os.sched_setaffinity(0, {cores[1]})
        serve(first, write_fd)
        os._exit(0)
    os.close(write_fd)
    if len(cores) >= 2:
        os.sched_setaffinity(0, {cores[0]})
    try:
        if not os.read(read_fd, 1):
            print("bench_probe: the server process failed to start", file=sys.stderr)
            return 1
        print(f"probe vs unsigned GET, fresh connection per axon, concurrency {args.concurrency}")
        print(
            f"{'axons':>5} {'rounds':>6} | {'agent CPU/axon':>22} | {'wall/axon':>22} |"
            f" {'miner CPU/request':>22}"
        )
        print(f"{'':>5} {'':>6} | {'probe  base  ratio':>22} | {'probe  base  ratio':>22} |"
              f" {'probe  base  ratio':>22}")  # fmt: skip
        for n in sizes:
            r = asyncio.run(measure(n, args.probes, args.concurrency, first, pid))
            cols = []
            for i in range(3):
                p, b = r["probe"][i] * 1e6, r["baseline"][i] * 1e6
                cols.append(f"{p:6.0f}µs {b:5.0f}µs {p / b:5.2f}x")
            print(f"{n:>5} {r['rounds']:>6} | " + " | ".join(cols))
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return 0


def _free_range(count: int) -> int:
    import socket

    for start in range(20000, 60000, count):
        try:
            socks = []
            for port in range(start, start + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                socks.append(s)
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return start
    raise RuntimeError("no free port range")


if __name__ == "__main__":
    sys.exit(main())
