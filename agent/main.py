"""``taowatch agent``: run the agent, or check its config without connecting."""

from __future__ import annotations

import argparse
import sys

import structlog

from agent.config import AgentConfig
from common.config import ConfigError

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


def _check_influx_token(cfg: AgentConfig, source: str) -> None:
    if cfg.influx.enabled:
        from agent.influx import read_token

        try:
            read_token(cfg.influx.token_file)
        except ValueError as exc:
            raise ConfigError(source, [str(exc)]) from None


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
            _check_influx_token(cfg, path)
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
        _check_influx_token(cfg, args.config)
        host, port = _listen(args.listen) if args.listen else (cfg.listen.host, cfg.listen.port)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as exc:
        print(f"taowatch agent: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    from common.logs import setup_logging

    setup_logging(args.log_level or cfg.log.level, args.log_format or cfg.log.format)
    import logging

    # APScheduler logs every skipped (still running) poll at WARNING; the poll's own
    # duration and error metrics say the same thing without flooding the log.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)

    from aiohttp import web

    from agent.app import ACCESS_LOGGER, create_app
    from exporters.deregistration import StateFileError

    try:
        app = create_app(cfg)
    except StateFileError as exc:
        print(f"taowatch agent: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    log = structlog.get_logger("taowatch.agent")
    log.info("listening", url=f"http://{host}:{port}/metrics")
    web.run_app(
        app,
        host=host,
        port=port,
        print=None,
        access_log_class=ACCESS_LOGGER,
        shutdown_timeout=5.0,
        handle_signals=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
