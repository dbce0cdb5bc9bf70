"""``taowatch dashboards``: generate, check and preview the Grafana dashboards.

    taowatch dashboards generate                 # write grafana/dashboards/*.json
    taowatch dashboards check                    # exit 1 if the committed JSON drifted
    taowatch dashboards preview --prometheus http://127.0.0.1:9090 --out /tmp/preview

The command line only: generating and drift-checking belong to the grafana component
(:mod:`grafana.dashboards.generate`, builders in ``grafana/dashboards/builders``), the
preview to :mod:`taowatch.preview`. Builders, JSON and thresholds are package data, so all
three work from an installed wheel as from a checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from taowatch.preview import PreviewError
from taowatch.preview.page import preview
from taowatch.preview.panels import load_dashboards

# grafana.dashboards.generate.DASHBOARDS_DIR, named here without importing the builders:
# they need the 'dashboards' extra, and preview reads only the committed JSON.
COMMITTED_DASHBOARDS = files("grafana.dashboards")

# --- command line -----------------------------------------------------------------------

_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_duration(text: str, option: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise PreviewError(f"{option}: {text!r} is not a duration; use e.g. 30s, 15m, 6h, 2d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise PreviewError(f"--var: {pair!r} is not NAME=VALUE (e.g. --var netuid=1)")
        values[name] = value
    return values


def _writable(folder: object, error: type[Exception]) -> Path:
    if not isinstance(folder, Path):
        raise error(
            f"{folder} is not a folder on disk (a zipped install?): pass --dir DIR to write "
            "the dashboards' JSON somewhere else"
        )
    return folder


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taowatch dashboards", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the dashboards' JSON is written, checked and previewed from "
        "(default: the grafana.dashboards package, i.e. grafana/dashboards in a checkout)",
    )
    parser.add_argument(
        "--thresholds",
        type=Path,
        default=None,
        metavar="FILE",
        help="alert thresholds the panels colour at (default: the alerts package's "
        "thresholds.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("generate", help="write the dashboards' JSON from their builders")
    commands.add_parser("check", help="exit 1 if the committed JSON differs from the builders")
    view = commands.add_parser(
        "preview", help="render every panel as a PNG from a live Prometheus (needs matplotlib)"
    )
    view.add_argument(
        "--prometheus",
        required=True,
        metavar="URL",
        help="Prometheus base URL, e.g. http://127.0.0.1:9090",
    )
    view.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="where to write DIR/<uid>/*.png and DIR/index.html",
    )
    view.add_argument(
        "--range",
        default="1h",
        dest="time_range",
        help="how far back from --end to chart (default: %(default)s)",
    )
    view.add_argument(
        "--end", type=float, default=None, help="end of the range as a Unix time (default: now)"
    )
    view.add_argument("--step", default=None, help="query resolution (default: range / 240)")
    view.add_argument(
        "--scrape-interval",
        default="15s",
        help="Prometheus' scrape interval, for $__rate_interval (default: 15s)",
    )
    view.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a dashboard variable (default: every variable at All)",
    )
    view.add_argument(
        "--dashboard",
        action="append",
        default=[],
        metavar="UID",
        help="only this dashboard (repeatable; default: all)",
    )
    return parser


def _generate_or_check(args: argparse.Namespace) -> int:
    from grafana.dashboards.generate import (
        DASHBOARDS_DIR,
        DashboardsError,
        drift,
        generate,
        load_knobs,
    )

    folder = args.dir if args.dir is not None else DASHBOARDS_DIR
    try:
        knobs = load_knobs() if args.thresholds is None else load_knobs(args.thresholds)
        if args.command == "generate":
            for path in generate(knobs, _writable(folder, DashboardsError)):
                print(f"wrote {path}")
            return 0
        problems = drift(knobs, folder)
    except DashboardsError as exc:
        print(f"taowatch dashboards: {exc}", file=sys.stderr)
        return 1
    if problems:
        print(
            "dashboards are out of date; run 'taowatch dashboards generate' and commit the result:",
            file=sys.stderr,
        )
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"dashboards are up to date in {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command in ("generate", "check"):
        return _generate_or_check(args)
    folder = args.dir if args.dir is not None else COMMITTED_DASHBOARDS
    try:
        end = args.end if args.end is not None else time.time()
        start = end - parse_duration(args.time_range, "--range")
        drawn = asyncio.run(
            preview(
                args.prometheus,
                args.out,
                load_dashboards(folder, args.dashboard),
                start=start,
                end=end,
                step=parse_duration(args.step, "--step") if args.step else None,
                variables=_parse_vars(args.var),
                scrape_interval_seconds=parse_duration(args.scrape_interval, "--scrape-interval"),
            )
        )
        panels = sum(len(items) for items in drawn.values())
        empty = sum(1 for items in drawn.values() for d in items if not d.series)
        failed = sum(1 for items in drawn.values() for d in items if d.errors)
        print(
            f"rendered {panels} panels of {len(drawn)} dashboards into {args.out} "
            f"({empty} without data, {failed} with query errors); open "
            f"{args.out / 'index.html'}"
        )
        return 1 if failed else 0
    except PreviewError as exc:
        print(f"taowatch dashboards: {exc}", file=sys.stderr)
        return 2 if "matplotlib" in str(exc) else 1
