"""``taowatch agent``: run the agent, or check its config without connecting."""

from __future__ import annotations

import argparse
import sys

import structlog

from agent.config import AgentConfig
from common.config import ConfigError
from common.listen import ListenError, listen_problem, resolve_listen_address

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="taowatch agent",
        description="Poll the chain for watched hotkeys and subnets; serve /metrics, "
        "/healthz and /api/status.",
    )
    p.add_argument("--config", metavar="FILE", help="agent YAML config")
    p.add_argument(
        "--check-config",
        nargs="?",
        const=True,
        metavar="FILE",
        help="validate FILE (or the --config file) and exit: 0 when valid, "
        "2 with file: field: message otherwise",
    )
    p.add_argument(
        "--adopt-chain",
        action="store_true",
        help="trust the chain the endpoints serve now (after a devnet reset or a move to "
        "another chain): the state file is replaced, the old one kept next to it; a running "
        "agent takes it up at its next poll. Exit 0 when adopted, 1 when refused",
    )
    p.add_argument("--listen", metavar="HOST:PORT", help="override listen.host / listen.port")
    p.add_argument("--log-format", choices=["plain", "json"], help="override log.format")
    p.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="override log.level"
    )
    return p


def _load(path: str) -> AgentConfig:
    from agent.config import load

    return load(path)


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {value!r}: expected HOST:PORT, for example 127.0.0.1:9946")
    return host.strip("[]") or "127.0.0.1", int(port)


def _check_files(cfg: AgentConfig, source: str) -> None:
    """Open the files the config names, as the agent will: a bad one is a config error."""
    if cfg.influx.enabled:
        from agent.influx import read_token

        try:
            read_token(cfg.influx.token_file)
        except ValueError as exc:
            raise ConfigError(source, [str(exc)]) from None
    if cfg.probe.enabled:
        from agent.probe import ProbeKeyError, load_probe_key

        try:
            load_probe_key(cfg.probe.hotkey_file)
        except ProbeKeyError as exc:
            raise ConfigError(source, [str(exc)]) from None
    if cfg.state_file is not None:
        from exporters.deregistration import DeregistrationTracker, StateFileError

        try:
            DeregistrationTracker(cfg.state_file)
        except StateFileError as exc:
            raise ConfigError(source, [f"state_file: {exc}"]) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.check_config:
        # The same flag as every other command's: bare after --config, or with its own FILE.
        path = args.check_config if isinstance(args.check_config, str) else args.config
        if path is None:
            print("taowatch agent: --check-config needs a FILE (or --config FILE)", file=sys.stderr)
            return EXIT_CONFIG
        try:
            cfg = _load(path)
            _check_files(cfg, path)
        except ConfigError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        print(f"{path}: ok")
        return 0
    if not args.config:
        print("taowatch agent: --config FILE is required (or --check-config FILE)", file=sys.stderr)
        return EXIT_CONFIG
    try:
        cfg = _load(args.config)
        _check_files(cfg, args.config)
        host, port = _listen(args.listen) if args.listen else (cfg.listen.host, cfg.listen.port)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as exc:
        print(f"taowatch agent: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.adopt_chain:
        return _adopt_chain(cfg, args.config)

    from common.logs import setup_logging

    setup_logging(args.log_level or cfg.log.level, args.log_format or cfg.log.format)
    import logging

    # APScheduler logs every skipped (still running) poll at WARNING; the poll's own
    # duration and error metrics say the same thing without flooding the log.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)

    from aiohttp import web

    from agent.app import ACCESS_LOGGER, create_app
    from exporters.deregistration import StateFileError

    # An --listen override is what the operator must change, not the file's listen section.
    fields = ("--listen", "--listen") if args.listen else ("listen.host", "listen.port")
    where = "taowatch agent" if args.listen else f"taowatch agent: {args.config}"
    try:
        resolve_listen_address(host, port, host_field=fields[0], port_field=fields[1])
        app = create_app(cfg)
    except ListenError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StateFileError as exc:
        print(f"taowatch agent: {args.config}: state_file: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    log = structlog.get_logger("taowatch.agent")
    # Said before the bind: a busy port is reported below, after the app has cleaned up.
    log.info("starting", url=f"http://{host}:{port}/metrics")
    try:
        web.run_app(
            app,
            host=host,
            port=port,
            print=None,
            access_log_class=ACCESS_LOGGER,
            shutdown_timeout=5.0,
            handle_signals=True,
        )
    except OSError as exc:
        # Raised while binding, before serving: run_app has already cleaned the app up.
        problem = listen_problem(exc, host, port, host_field=fields[0], port_field=fields[1])
        print(f"{where}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _adopt_chain(cfg: AgentConfig, source: str) -> int:
    import asyncio

    from agent.adopt import adopt, describe
    from exporters.chain_trust import AdoptionRefused

    try:
        adoption = asyncio.run(adopt(cfg))
    except AdoptionRefused as exc:
        print(f"taowatch agent --adopt-chain: {source}: {exc}", file=sys.stderr)
        return 1
    print(describe(adoption))
    return 0


if __name__ == "__main__":
    sys.exit(main())
