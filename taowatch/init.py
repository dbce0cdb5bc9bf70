"""``taowatch init``: an agent config for a coldkey's neurons, written from the chain.

The coldkey's hotkeys and subnets are found by one poll of the agent's exporter watching the
coldkey on every subnet (its own discovery, through :func:`taowatch.check.poll_once`); the
file lists them per subnet, with the state file, the listen address and a commented place
for fallback endpoints, and is then checked by ``taowatch agent --check-config``.

    taowatch init --coldkey 5F... --out agent.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common.metric_names import AGENT_PORT

EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


def render_config(
    network: str, coldkey: str, block: int, hotkeys: Mapping[int, Sequence[str]]
) -> str:
    """The commented agent YAML for ``hotkeys`` (netuid -> hotkeys) of ``coldkey``."""
    lines = [
        f"# taowatch agent config for coldkey {coldkey},",
        f"# written by `taowatch init` from {network} at block {block}.",
        "#   check it:  taowatch agent --check-config THIS_FILE",
        "#   run it:    taowatch agent --config THIS_FILE",
        "# Every field, with its default: agent/agent.example.yaml. Relative paths are relative",
        "# to this file.",
        "",
        "chain:",
        f"  network: {network}",
        "  # Other endpoints of the same chain, tried in order when the one above fails or lags",
        "  # (your own node first, then a public one), e.g.:",
        "  # fallback_networks: [wss://my-node.example:443, wss://entrypoint-finney.opentensor.ai:443]",
        "  fallback_networks: []",
        "",
        "listen:",
        "  # Prometheus scrapes /metrics here; keep it on loopback unless a firewall guards it.",
        "  host: 127.0.0.1",
        f"  port: {AGENT_PORT}",
        "",
        "watch:",
    ]
    if hotkeys:
        for netuid in sorted(hotkeys):
            lines += [f"  - netuid: {netuid}", "    hotkeys:"]
            lines += [f"      - {hk}" for hk in hotkeys[netuid]]
        lines += [
            "  # To also watch hotkeys this coldkey registers later, on any subnet, add:",
            f"  # - coldkey: {coldkey}",
        ]
    else:
        lines += [
            "  # No hotkey of this coldkey was registered at that block: the agent watches the",
            "  # coldkey on every subnet and picks its hotkeys up as they register.",
            f"  - coldkey: {coldkey}",
        ]
    lines += [
        "",
        "# Deregistration counts and discovered hotkeys survive restarts here.",
        "state_file: taowatch-agent-state.json",
        "",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="taowatch init",
        description="Find a coldkey's hotkeys and subnets on the chain and write an agent "
        "config watching them, then check it.",
    )
    p.add_argument("--coldkey", required=True, metavar="SS58")
    p.add_argument(
        "--network", default="finney", help="finney (default), test, ws(s)://..., sim://..."
    )
    p.add_argument(
        "--out", default="agent.yaml", type=Path, metavar="FILE", help="default agent.yaml"
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    return p


async def discover(
    args: argparse.Namespace, *, backends: Any = None
) -> tuple[Any, dict[int, list[str]]]:
    """(the poll, netuid -> registered hotkeys) from the check's poll of the coldkey."""
    from taowatch.check import build_config, poll_once, with_progress

    config = build_config(
        argparse.Namespace(
            coldkey=args.coldkey,
            hotkey=None,
            netuid=None,
            network=args.network,
            timeout=args.timeout,
        )
    )
    polled = await with_progress(
        poll_once(config, backends=backends),
        args.network,
        lambda line: print(line, file=sys.stderr, flush=True),
        prog="taowatch init",
    )
    found: dict[int, list[str]] = {}
    for w in polled.snapshot.watched if polled.snapshot is not None else ():
        if w.registered:
            found.setdefault(w.netuid, []).append(w.hotkey)
    return polled, found


def main(argv: list[str] | None = None, *, backends: Any = None) -> int:
    args = _parser().parse_args(argv)
    out: Path = args.out
    if out.exists() and not args.force:
        print(
            f"taowatch init: {out} exists; pass --force to overwrite it or --out another file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from taowatch.check import CheckInputError

    print(f"taowatch init: looking up {args.coldkey} on {args.network} ...", file=sys.stderr)
    try:
        polled, found = asyncio.run(discover(args, backends=backends))
    except CheckInputError as exc:
        for problem in exc.problems:
            print(f"taowatch init: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if polled.snapshot is None:
        print(f"taowatch init: no answer from {args.network}: {polled.error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_config(args.network, args.coldkey, polled.snapshot.block, found))
    except OSError as exc:
        print(f"taowatch init: --out {out}: cannot write: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    total = sum(len(v) for v in found.values())
    print(
        f"wrote {out}: {total} hotkey(s) on subnet(s) {', '.join(map(str, sorted(found))) or '-'}"
    )
    from agent.main import main as agent_main

    return agent_main(["--check-config", str(out)])


if __name__ == "__main__":
    sys.exit(main())
