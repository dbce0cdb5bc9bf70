"""Structured logging (structlog): terse lowercase events with keyword fields.

JSON in production (``--log-format json``), readable key=value lines on a terminal.
"""

from __future__ import annotations

import logging
import sys

import structlog


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    # Bound to the stderr of the moment a logger is made, not of the moment logging was set
    # up: whoever swaps sys.stderr later (a test runner's capture, a daemonising wrapper) must
    # not leave loggers writing to a closed stream.
    return structlog.PrintLogger(sys.stderr)


def setup_logging(level: str = "info", fmt: str = "plain") -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
