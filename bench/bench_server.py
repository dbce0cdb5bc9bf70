"""How long an SDK ``neurons.all`` of a 256-neuron subnet takes through the simnet server.

Baseline, measured in the same run: the same read in process, straight on ``SimSubstrate``
(no HTTP, no encoding). The difference is what the server and the wire cost. Three served
paths: ``sim://`` (simnet's JSON wire), and the node on ``ws://`` through the SDK's own
``RpcSubstrate`` (JSON-RPC, SCALE, metadata), with the node's SCALE encode and the SDK's
decode of the same result timed alone in process.

    .venv/bin/python bench/bench_server.py [--neurons 256] [--reads 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import bittensor as bt
import yaml

from common.chain import make_client
from simnet.process import running_simnet
from simnet.scenario import World, load_scenario
from simnet.state import Chain
from simnet.substrate import SimSubstrate


def scenario_file(neurons: int) -> Path:
    spec = {
        "name": f"bench-{neurons}",
        "subnets": [
            {
                "netuid": 1,
                "tempo": 100,
                "max_uids": neurons,
                "max_validators": 64,
                "neurons": [
                    {"name": f"v{i}", "role": "validator", "stake_tao": 1000 + i, "every": 50}
                    for i in range(8)
                ]
                + [
                    {"name": f"m{i}", "role": "miner", "quality": (i % 10) / 10}
                    for i in range(neurons - 8)
                ],
            }
        ],
    }
    path = Path(tempfile.mkdtemp(prefix="bench-server-")) / "scenario.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


async def time_reads(client: bt.Client, reads: int) -> list[float]:
    out = []
    for _ in range(reads):
        t0 = time.perf_counter()
        neurons = await client.neurons.all(1)
        out.append(time.perf_counter() - t0)
    assert len(neurons) > 0
    return out


async def scale_costs(chain: Chain, reads: int) -> tuple[list[float], list[float]]:
    """The node's answer to ``get_neurons_lite`` (read + SCALE encode) and the SDK codec's
    decode of it, each alone and in process."""
    from bittensor._transport.codec import RuntimeCodec

    from simnet.node import NODE_SPEC_VERSION
    from simnet.node.answers import Answers, Runtimes
    from simnet.node.metadata import NodeMetadata

    metadata = NodeMetadata(spec_version=NODE_SPEC_VERSION, block_time=chain.block_time)
    answers = Answers(SimSubstrate(chain), Runtimes(metadata))
    codec = RuntimeCodec(metadata.bytes, spec_version=NODE_SPEC_VERSION, transaction_version=1)
    output = codec.runtime_api_map["NeuronInfoRuntimeApi"]["get_neurons_lite"]["output"]
    params = (
        "0x"
        + codec.encode(
            codec.runtime_api_map["NeuronInfoRuntimeApi"]["get_neurons_lite"]["inputs"][0][1], 1
        ).hex()
    )
    encode, decode = [], []
    for _ in range(reads):
        t0 = time.perf_counter()
        raw = await answers.call("NeuronInfoRuntimeApi_get_neurons_lite", params, None)
        t1 = time.perf_counter()
        codec.decode(output, bytes.fromhex(raw[2:]))
        decode.append(time.perf_counter() - t1)
        encode.append(t1 - t0)
    return encode, decode


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


async def main_async(neurons: int, reads: int) -> None:
    path = scenario_file(neurons)
    chain = Chain(block_time=12)
    World(chain, load_scenario(path)).build()
    chain.step(1)
    async with bt.Client("ws://simnet-inproc.invalid", substrate=SimSubstrate(chain)) as local:
        await time_reads(local, 3)  # warm up
        base = await time_reads(local, reads)
    print(f"simnet server, {neurons} neurons, {reads} reads of neurons.all(1)")
    encode, decode = await scale_costs(chain, reads)
    with running_simnet(scenario=path, manual=True) as sim:
        async with make_client(sim.network) as remote:
            got = await remote.neurons.all(1)
            print(f"  subnet holds {len(got)} neurons")
            await time_reads(remote, 3)
            served = await time_reads(remote, reads)
        async with make_client(sim.ws_network) as node:
            assert await node.neurons.all(1) == got
            await time_reads(node, 3)
            over_ws = await time_reads(node, reads)
    b50, b95 = summary(base)
    s50, s95 = summary(served)
    print(f"  {'path':<36}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"  {'in process (baseline)':<36}{b50:>10.2f}{b95:>10.2f}")
    print(f"  {'through the server (sim://)':<36}{s50:>10.2f}{s95:>10.2f}")
    for label, samples in (
        ("through the node (ws://, SDK RPC)", over_ws),
        ("  of which: node read + SCALE encode", encode),
        ("  of which: SDK SCALE decode", decode),
    ):
        p50, p95 = summary(samples)
        print(f"  {label:<36}{p50:>10.2f}{p95:>10.2f}")
    print(
        f"  server / in-process p50: {s50 / b50:.1f}x   target: server p50 < 50 ms "
        f"({'met' if s50 < 50 else 'NOT met'})"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--neurons", type=int, default=256)
    p.add_argument("--reads", type=int, default=50)
    args = p.parse_args()
    asyncio.run(main_async(args.neurons, args.reads))


if __name__ == "__main__":
    main()
