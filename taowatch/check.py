"""``taowatch check``: how are my neurons, in one command.

One poll through the agent's own exporter code (the watch plan the agent would build from the
same watch entry, its endpoint pool and poller), with no Prometheus, no listener and no state
file, then a table per neuron (:mod:`taowatch.check_report`). Exit codes: 0 every watched
neuron is registered, 1 one is not (or a coldkey has none), 2 bad input, 3 no chain answered.

    taowatch check --coldkey 5F...                    # every subnet the coldkey is on, finney
    taowatch check --hotkey 5G... --netuid 1 --json   # one subnet, for scripts
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, TypeVar

EXIT_UNREGISTERED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

# Progress lines on stderr while a poll takes longer than this (a slow public endpoint's
# first connection reads the runtime metadata).
PROGRESS_EVERY_SECONDS = 3.0

T = TypeVar("T")


@dataclass(frozen=True)
class Polled:
    """One poll's outcome: the snapshot (None when it failed) and why it failed."""

    snapshot: Any
    error: str | None
    # Hotkeys asked for without a netuid that the chain lists on no subnet.
    nowhere: tuple[str, ...] = ()


async def poll_once(
    config: Any, *, backends: Any = None, find_subnets_of: Sequence[str] = ()
) -> Polled:
    """The one seam to the exporter: build what the agent builds from ``config`` (an
    ``AgentConfig``) and poll once. ``find_subnets_of`` are hotkeys to look up on every
    subnet first (the exporter looks up a coldkey's, not a lone hotkey's)."""
    from agent.app import build_plan
    from common.chain import SubstrateBackends
    from exporters.chain import ChainPoller
    from exporters.deregistration import DeregistrationTracker
    from exporters.endpoints import EndpointPool

    log = quiet_logger()
    pool = EndpointPool.over(
        [config.chain.network, *config.chain.fallback_networks],
        backends or SubstrateBackends.installed(),
        timeout=config.chain.timeout_seconds,
        logger=log,
    )
    plan = build_plan(config)
    nowhere: list[str] = []
    try:
        if find_subnets_of:
            await pool.probe()
            ep = pool.active
            if ep is None:
                reasons = "; ".join(f"{e.label}: {e.last_error}" for e in pool.endpoints)
                return Polled(None, f"no endpoint answered: {reasons}")
            try:
                at = await ep.client.at(ep.head)
                found = await asyncio.gather(
                    *(at.neurons.netuids_for_hotkey(hk) for hk in find_subnets_of)
                )
            except Exception as exc:
                return Polled(None, f"{ep.label}: looking up the hotkeys' subnets: {exc}")
            pairs = [
                (int(n), hk) for hk, ns in zip(find_subnets_of, found, strict=True) for n in ns
            ]
            nowhere = [hk for hk, ns in zip(find_subnets_of, found, strict=True) if not ns]
            plan = replace(plan, hotkeys=tuple(dict.fromkeys((*plan.hotkeys, *pairs))))
        poller = ChainPoller(
            plan,
            pool,
            DeregistrationTracker(None, logger=log),
            timeout=config.poll.timeout_seconds,
            logger=log,
        )
        await poller.poll()
        return Polled(poller.snapshot, poller.status.last_error, tuple(nowhere))
    finally:
        await pool.close()


def quiet_logger() -> Any:
    """The exporter's logger for one poll: errors only, on stderr, so stdout stays the
    report (``--json`` parses); a failed poll is reported by the command itself."""
    import logging

    import structlog

    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )


async def with_progress(
    work: Awaitable[T],
    what: str,
    write: Callable[[str], Any],
    *,
    every: float = PROGRESS_EVERY_SECONDS,
    prog: str = "taowatch check",
) -> T:
    """Await ``work``, writing a line every ``every`` seconds until it is done."""
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    while True:
        done, _ = await asyncio.wait({task}, timeout=every)
        if done:
            return task.result()
        write(f"{prog}: still waiting for {what} ({time.monotonic() - started:.0f} s)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="taowatch check",
        description="Poll the chain once and show your neurons: scores, stake, weights age, "
        "immunity, pruning position and the subnet's emission standing; values past an alert "
        "threshold (alerts/thresholds.yaml) are marked with !.",
    )
    p.add_argument(
        "--network", default="finney", help="finney (default), test, ws(s)://..., sim://..."
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--coldkey", metavar="SS58", help="every hotkey of this coldkey")
    who.add_argument("--hotkey", metavar="SS58", nargs="+", help="these hotkeys")
    p.add_argument(
        "--netuid",
        type=int,
        action="append",
        metavar="N",
        help="only this subnet (repeatable); default: every subnet the keys are on",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="bound on the whole poll (default 60; a first connection reads the metadata)",
    )
    return p


_FLAG_OF: Mapping[str, str] = MappingProxyType(
    {
        "coldkey": "--coldkey",
        "hotkeys": "--hotkey",
        "netuid": "--netuid",
        "netuids": "--netuid",
        "network": "--network",
        "timeout_seconds": "--timeout",
    }
)


def build_config(args: argparse.Namespace) -> Any:
    """The agent config this check stands for; its errors name the flag."""
    from pydantic import ValidationError

    from agent.config import AgentConfig

    if args.coldkey is not None:
        entry: dict[str, Any] = {"coldkey": args.coldkey}
        if args.netuid:
            entry["netuids"] = args.netuid
        watch = [entry]
    elif args.netuid:
        watch = [{"netuid": n, "hotkeys": args.hotkey} for n in args.netuid]
    else:
        watch = []
    data: dict[str, Any] = {
        "chain": {"network": args.network, "timeout_seconds": args.timeout},
        "poll": {"timeout_seconds": args.timeout},
        "watch": watch,
    }
    if not watch:
        # Hotkeys without a netuid: found on every subnet before the poll; the config needs
        # something to watch to validate, and the hotkeys still get their ss58 check.
        data["watch"] = [{"netuid": 0, "hotkeys": args.hotkey}]
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as exc:
        raise CheckInputError(
            [f"{_flag(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        ) from None
    return config if watch else config.model_copy(update={"watch": []})


def _flag(loc: Sequence[Any]) -> str:
    for part in reversed(loc):
        if isinstance(part, str) and part in _FLAG_OF:
            return _FLAG_OF[part]
    return ".".join(str(p) for p in loc)


class CheckInputError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


async def run_check(
    args: argparse.Namespace,
    *,
    backends: Any = None,
    err: Callable[[str], Any] | None = None,
    progress_every: float = PROGRESS_EVERY_SECONDS,
) -> int:
    from alerts.generate import load_thresholds
    from taowatch.check_report import build_report, render_text

    err = err or (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        config = build_config(args)
    except CheckInputError as exc:
        for problem in exc.problems:
            err(f"taowatch check: {problem}")
        return EXIT_USAGE
    lone = tuple(args.hotkey) if args.hotkey and not args.netuid else ()
    err(f"taowatch check: polling {args.network} ...")
    polled = await with_progress(
        poll_once(config, backends=backends, find_subnets_of=lone),
        args.network,
        err,
        every=progress_every,
    )
    if polled.snapshot is None:
        err(f"taowatch check: no answer from {args.network}: {polled.error}")
        return EXIT_UNREACHABLE
    report = build_report(polled.snapshot, args.network, load_thresholds(), polled.nowhere)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render_text(report))
    if args.coldkey is not None and not report.neurons:
        err(f"taowatch check: coldkey {args.coldkey} has no hotkey registered on any subnet")
        return EXIT_UNREGISTERED
    return EXIT_UNREGISTERED if report.unregistered else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run_check(_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
