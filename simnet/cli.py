"""``taowatch simnet``: serve the simulated chain, or drive a running one."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from common.metric_names import SIMNET_PORT

FAST_BLOCK_TIME = 0.25
DEFAULT_NETWORK = f"sim://127.0.0.1:{SIMNET_PORT}"


class NodePortTaken(OSError):
    """The node's WebSocket port (``--ws-port``) could not be bound."""


def _upgrade(text: str) -> tuple[int, int]:
    block, sep, spec = text.partition(":")
    if not sep or not block.isdigit() or not spec.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected BLOCK:SPEC, e.g. 200:476")
    return int(block), int(spec)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="taowatch simnet", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the chain as a server on loopback")
    s.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=SIMNET_PORT, help=f"default {SIMNET_PORT}; 0 = any")
    s.add_argument(
        "--ws-port",
        type=int,
        default=9944,
        help="the Substrate JSON-RPC node (WebSocket and HTTP POST) any Bittensor tool can use: "
        "ws://HOST:PORT; default 9944; 0 = any; -1 = off",
    )
    s.add_argument(
        "--spec-version",
        type=int,
        default=475,
        help="the runtime the node serves (default 475); an older one lacks later items",
    )
    s.add_argument(
        "--upgrade-at",
        type=_upgrade,
        metavar="BLOCK:SPEC",
        help="a runtime upgrade the node applies from BLOCK on (spec version and metadata)",
    )
    s.add_argument("--scenario", default="default", help="scenario YAML file, or 'default'")
    s.add_argument(
        "--genesis-nonce",
        help="servers given the same nonce (and scenario) hash blocks alike: one chain behind "
        "two URLs; default: a fresh nonce per start, so a restart is another chain",
    )
    s.add_argument(
        "--check-config",
        action="store_true",
        help="validate the scenario, print what it would build, then exit: 0 when valid, "
        "2 with file: field: message otherwise",
    )
    speed = s.add_mutually_exclusive_group()
    speed.add_argument("--block-time", type=float, help="seconds per block (scenario's otherwise)")
    speed.add_argument("--fast", action="store_true", help=f"{FAST_BLOCK_TIME} s blocks")
    speed.add_argument("--manual", action="store_true", help="no clock: blocks advance via admin")
    s.add_argument(
        "--ready-file", type=Path, help="write {host, port, ws_port, pid} here once listening"
    )
    s.add_argument("--log-level", default="info")
    s.add_argument("--log-format", choices=["plain", "json"], default="plain")

    f = sub.add_parser("fund", help="give an account free balance")
    f.add_argument("ss58", help="the account's ss58 address")
    f.add_argument("--tao", type=float, required=True, help="amount in TAO")
    f.add_argument("--network", default=DEFAULT_NETWORK, help=f"default {DEFAULT_NETWORK}")

    st = sub.add_parser(
        "status", help="show a running simnet's head, halt state, faults and runtime"
    )
    st.add_argument("--network", default=DEFAULT_NETWORK, help=f"default {DEFAULT_NETWORK}")

    fl = sub.add_parser("faults", help="inject RPC faults into a running simnet (0 clears)")
    fl.add_argument("--error-rate", type=float, default=0.0)
    fl.add_argument("--latency", type=float, default=0.0, help="seconds added per call")
    fl.add_argument("--drop-rate", type=float, default=0.0)
    fl.add_argument(
        "--policy-close-rate",
        type=float,
        default=0.0,
        help="share of the node's frames answered by a 1008 (policy) socket close",
    )
    fl.add_argument("--network", default=DEFAULT_NETWORK, help=f"default {DEFAULT_NETWORK}")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return asyncio.run(_drive(args))


def _admin(network: str):
    from common.chain import NetworkError
    from simnet.remote import SimAdmin, parse_sim

    try:
        sim = parse_sim(network)
    except NetworkError as exc:
        raise SystemExit(f"taowatch simnet: {exc}") from None
    if sim is None:
        raise SystemExit(f"taowatch simnet: --network must be sim://HOST:PORT, got {network!r}")
    return SimAdmin(sim.host, sim.port)


async def _drive(args) -> int:
    from bittensor.result import BittensorError

    async with _admin(args.network) as admin:
        try:
            if args.command == "fund":
                from bittensor import keyfiles

                try:
                    keyfiles.Keypair(ss58_address=args.ss58)
                except Exception:
                    print(
                        f"taowatch simnet fund: {args.ss58!r} is not an ss58 address",
                        file=sys.stderr,
                    )
                    return 2
                rao = await admin.fund(args.ss58, args.tao)
                print(f"funded {args.ss58} with {rao / 1e9:g} TAO")
            elif args.command == "status":
                print(json.dumps(await admin.status(), indent=2))
            elif args.command == "faults":
                print(
                    json.dumps(
                        await admin.set_faults(
                            args.error_rate, args.latency, args.drop_rate, args.policy_close_rate
                        )
                    )
                )
        except BittensorError as exc:
            print(f"taowatch simnet {args.command}: {exc}", file=sys.stderr)
            return 1
    return 0


def _serve(args) -> int:
    from common.config import ConfigError
    from common.logs import setup_logging

    setup_logging(args.log_level, args.log_format)
    from simnet.scenario import load_scenario, scenario_path

    source = str(scenario_path(args.scenario))
    try:
        scenario = load_scenario(args.scenario)
        block_time = FAST_BLOCK_TIME if args.fast else (args.block_time or scenario.block_time)
        if block_time <= 0:
            print("taowatch simnet serve: --block-time must be > 0 seconds", file=sys.stderr)
            return 2
        if args.check_config:
            # Built for real on a throwaway chain: some refusals only the chain can make.
            _check_world(scenario, source, block_time)
            print(describe(scenario, args.scenario, block_time))
            return 0
        asyncio.run(
            serve(
                scenario,
                args.host,
                args.port,
                block_time,
                args.manual,
                args.ready_file,
                args.genesis_nonce,
                source=source,
                ws_port=args.ws_port,
                spec_version=args.spec_version,
                upgrade=args.upgrade_at,
            )
        )
    except NodePortTaken as exc:
        print(
            f"taowatch simnet serve: cannot listen on {args.host}:{args.ws_port} for the node: "
            f"{exc.strerror}; pick another --ws-port (0 = any, -1 = no node) or stop what holds it",
            file=sys.stderr,
        )
        return 2
    except ConfigError as exc:
        print(f"taowatch simnet serve: invalid scenario\n{exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"taowatch simnet serve: cannot listen on {args.host}:{args.port}: {exc.strerror}; "
            "pick another --port or stop what holds it",
            file=sys.stderr,
        )
        return 1
    return 0


def describe(scenario, source: str, block_time: float) -> str:
    """What serving ``scenario`` would build, in a few lines an operator can check."""
    lines = [
        f"{source}: ok: scenario {scenario.name!r}, {block_time:g} s blocks, seed {scenario.seed}",
        f"  {len(scenario.accounts)} funded accounts",
    ]
    if (root := scenario.root) is not None:
        lines.append(
            f"  root subnet 0: tao_weight {root.tao_weight:g}, "
            f"{sum(s.tao for s in root.stakes):g} TAO staked on {len(root.stakes)} hotkeys"
        )
    if (em := scenario.emission) is not None:
        lines.append(
            f"  block emission: {em.tao_per_block:g} TAO per block, shared by EMA price, gated"
        )
    for spec in scenario.subnets:
        roles = [n.role for n in spec.neurons]
        rules = ["Yuma3" if spec.yuma3 else "original Yuma"]
        rules += ["commit-reveal"] if spec.commit_reveal else []
        rules += ["moving burn"] if spec.min_burn_tao is not None else []
        lines.append(
            f"  subnet {spec.netuid}: tempo {spec.tempo}, max_uids {spec.max_uids}, "
            f"{roles.count('validator')} simulated validators, {roles.count('miner')} miners, "
            f"{', '.join(rules)}"
        )
    if (sc := scenario.scale) is not None:
        last = sc.first_netuid + sc.subnets - 1
        lines.append(
            f"  generated subnets {sc.first_netuid}..{last}: {sc.subnets} x {sc.neurons} "
            f"neurons, {sc.validators} simulated validators each, tempo {sc.tempo}"
        )
    for ev in sorted(scenario.events, key=lambda e: e.at):
        lines.append(f"  block {ev.at}: {ev.kind}")
    return "\n".join(lines)


def _check_world(scenario, source: str, block_time: float) -> None:
    """Build the scenario's genesis on a throwaway chain; raises ``ConfigError``."""
    from simnet.scenario import World
    from simnet.state import Chain

    chain = Chain(block_time=block_time, seed=scenario.seed, genesis_nonce="check-config")
    World(chain, scenario, source=source).build()


async def serve(
    scenario,
    host: str,
    port: int,
    block_time: float,
    manual: bool,
    ready_file,
    genesis_nonce=None,
    *,
    source: str = "scenario",
    ws_port: int = -1,
    spec_version: int = 475,
    upgrade: tuple[int, int] | None = None,
):
    import gc
    import secrets

    import structlog
    from aiohttp import web

    from simnet.clock import BlockClock
    from simnet.server import SimnetServer
    from simnet.state import Chain
    from simnet.substrate import SimSubstrate

    log = structlog.get_logger("simnet")
    # A fresh nonce per start: a restarted simnet on the same port is a different chain.
    nonce = f"{scenario.name}:{scenario.seed}:{genesis_nonce or secrets.token_hex(8)}"
    chain = Chain(block_time=block_time, seed=scenario.seed, genesis_nonce=nonce)
    substrate = SimSubstrate(chain)
    server = SimnetServer(substrate)
    from simnet.scenario import World

    def apply_faults(spec) -> None:
        f = server.faults
        f.error_rate = spec.error_rate if spec else 0.0
        f.latency = spec.latency if spec else 0.0
        f.drop_rate = spec.drop_rate if spec else 0.0
        f.policy_close_rate = spec.policy_close_rate if spec else 0.0

    server.world = World(chain, scenario, on_faults=apply_faults, source=source).build()
    # Genesis (a world of 72 subnets is ~200k objects) never becomes garbage: keep it out of
    # every full collection, or each one pauses block production for 100+ ms.
    gc.freeze()
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    node_runner, ws_bound = None, None
    if ws_port >= 0:
        from simnet.node import node_server

        node = node_server(
            substrate, spec_version=spec_version, upgrade=upgrade, faults=server.faults
        )
        node_runner = web.AppRunner(node.app(), access_log=None)
        await node_runner.setup()
        try:
            await web.TCPSite(node_runner, host, ws_port).start()
        except OSError as exc:
            await runner.cleanup()
            await node_runner.cleanup()
            raise NodePortTaken(exc.errno, exc.strerror) from exc
        ws_bound = node_runner.addresses[0][1]
    clock = None if manual else BlockClock(chain)
    if clock:
        clock.start()
    log.info(
        "serving",
        network=f"sim://{host}:{bound_port}",
        node=f"ws://{host}:{ws_bound}" if ws_bound else "off",
        block_time=block_time,
        scenario=scenario.name,
        clock="manual" if manual else "running",
    )
    if ready_file:
        _write_ready(ready_file, host, bound_port, ws_bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        last_report = chain.head
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=10)
            except TimeoutError:
                if chain.head != last_report:
                    log.info(
                        "progress", head=chain.head, halted=chain.halted, rpc_calls=server.calls
                    )
                    last_report = chain.head
    finally:
        log.info("stopping", head=chain.head)
        if clock:
            await clock.stop()
        await runner.cleanup()
        if node_runner is not None:
            await node_runner.cleanup()


def _write_ready(path: Path, host: str, port: int, ws_port: int | None = None) -> None:
    import os

    # Written then renamed, so a waiting process never reads half a file.
    tmp = Path(str(path) + ".tmp")
    ready = {"host": host, "port": port, "ws_port": ws_port, "pid": os.getpid()}
    tmp.write_text(json.dumps(ready))
    tmp.replace(path)
