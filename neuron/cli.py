"""``taowatch miner`` and ``taowatch validator``: parse, load, run until a signal.

Bad config or keys exit with status 2 and a message naming the file, the field and the fix;
nothing is started before they check out. ``--check-config`` stops right there (the flag
every taowatch command that reads a config has); ``--check-only`` is its old, hidden name.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

import structlog

from common.config import ConfigError
from common.listen import ListenError
from common.logs import setup_logging
from neuron.config import CommonConfig, load_miner_config, load_validator_config
from neuron.task import TaskError, load_task
from neuron.wallet import WalletError, load_hotkey_wallet


def _parser(role: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"taowatch {role}",
        description=f"Run the bundled {role} (see neuron/{role}.example.yaml).",
    )
    parser.add_argument("--config", metavar="FILE", help=f"{role} YAML config file")
    parser.add_argument(
        "--check-config",
        nargs="?",
        const=True,
        metavar="FILE",
        help="validate the config (--config, or FILE) and the keys it names, then exit: "
        "0 when valid, 2 with file: field: message otherwise",
    )
    parser.add_argument("--check-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-format", choices=["plain", "json"])
    return parser


def miner_main(argv: list[str]) -> int:
    return _main("miner", argv)


def validator_main(argv: list[str]) -> int:
    return _main("validator", argv)


def _main(role: str, argv: list[str]) -> int:
    args = _parser(role).parse_args(argv)
    if args.check_only:
        print(f"taowatch {role}: --check-only is deprecated; use --check-config", file=sys.stderr)
    check = bool(args.check_config or args.check_only)
    path = args.check_config if isinstance(args.check_config, str) else args.config
    if isinstance(args.check_config, str) and args.config not in (None, path):
        print(
            f"taowatch {role}: --config {args.config} and --check-config {path} name two "
            "files; give one",
            file=sys.stderr,
        )
        return 2
    if path is None:
        print(
            f"taowatch {role}: --config FILE is required (or --check-config FILE)",
            file=sys.stderr,
        )
        return 2
    try:
        config = (load_miner_config if role == "miner" else load_validator_config)(path)
        wallet = load_hotkey_wallet(
            config.wallet.path,
            config.wallet.name,
            config.wallet.hotkey,
            allow_coldkey_on_host=config.wallet.allow_coldkey_on_host,
        )
        task_name = config.task.name if role == "miner" else config.query.task
        load_task(task_name)
    except ConfigError as exc:
        print(f"taowatch {role}: {exc}", file=sys.stderr)
        return 2
    except WalletError as exc:
        print(f"taowatch {role}: {path}: wallet: {exc}", file=sys.stderr)
        return 2
    except TaskError as exc:
        field = "task.name" if role == "miner" else "query.task"
        print(f"taowatch {role}: {path}: {field}: {exc}", file=sys.stderr)
        return 2
    if check:
        print(f"taowatch {role}: {path} OK (hotkey {wallet.hotkey_ss58})")
        return 0
    setup_logging(args.log_level or config.log.level, args.log_format or config.log.format)
    return asyncio.run(_run(role, config, wallet, path))


async def _run(role: str, config: CommonConfig, wallet, source: str) -> int:
    from neuron.build import build_neuron
    from neuron.runtime import chain_client

    log = structlog.get_logger(f"neuron.{role}")
    client = chain_client(config.chain)
    neuron = build_neuron(config, wallet, client, log=log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await neuron.start()
    except ListenError as exc:  # a port in use, a host that names no address here
        await neuron.stop()
        await client.close()
        print(f"taowatch {role}: {source}: {exc}", file=sys.stderr)
        return 2
    connector = asyncio.create_task(_connect(client, stop, log))
    log.info(f"{role} started", network=config.chain.network, netuid=config.chain.netuid)
    await stop.wait()
    log.info(f"{role} stopping")
    connector.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connector
    await neuron.stop()
    with contextlib.suppress(Exception):
        await client.close()
    return 0


async def _connect(client, stop: asyncio.Event, log) -> None:
    """Connect, retrying: a neuron started before its chain keeps serving its metrics."""
    delay = 1.0
    while not stop.is_set():
        try:
            await client.connect()
            return
        except Exception as exc:
            log.warning(
                "chain connect failed", error=f"{type(exc).__name__}: {exc}", retry_in=delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
