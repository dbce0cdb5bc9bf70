"""``taowatch dashboards``: generate, check and preview the Grafana dashboards.

    taowatch dashboards generate                 # write grafana/dashboards/*.json
    taowatch dashboards check                    # exit 1 if the committed JSON drifted
    taowatch dashboards preview --prometheus http://127.0.0.1:9090 --out /tmp/preview

The builders live in ``grafana/dashboards/src`` (one module per dashboard, each with ``UID``,
``FILENAME`` and ``build()``), outside the installed packages because the JSON they produce
is what gets reviewed and provisioned; this module loads them from the checkout.

``preview`` is for a reviewer without Grafana: it runs every panel's queries against a live
Prometheus over a time range, the way Grafana would (same variable and ``$__rate_interval``
expansion), and draws each panel as a PNG with matplotlib, plus an ``index.html`` per run.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import html
import importlib.util
import json
import math
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS_DIR = REPO_ROOT / "grafana" / "dashboards"

_SRC_PACKAGE = "_taowatch_dashboard_src"


class DashboardsError(Exception):
    """A problem the operator can fix; ``str()`` is the whole message."""


# --- generate / check -------------------------------------------------------------------


def load_builders(src_dir: Path) -> list[ModuleType]:
    """Import every dashboard module in ``src_dir`` (all but ``common`` and private ones)."""
    init = src_dir / "__init__.py"
    if not init.is_file():
        raise DashboardsError(
            f"{src_dir}: no dashboard builders here (expected __init__.py); run from a "
            "taowatch checkout or pass --dir"
        )
    for name in [n for n in sys.modules if n == _SRC_PACKAGE or n.startswith(_SRC_PACKAGE + ".")]:
        del sys.modules[name]  # a fresh import per call, so edits between calls are seen
    spec = importlib.util.spec_from_file_location(
        _SRC_PACKAGE, init, submodule_search_locations=[str(src_dir)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[_SRC_PACKAGE] = package
    spec.loader.exec_module(package)
    modules = []
    for path in sorted(src_dir.glob("*.py")):
        if path.stem.startswith("_") or path.stem == "common":
            continue
        module = importlib.import_module(f"{_SRC_PACKAGE}.{path.stem}")
        for attribute in ("UID", "FILENAME", "build"):
            if not hasattr(module, attribute):
                raise DashboardsError(f"{path}: a dashboard module must define {attribute}")
        modules.append(module)
    return modules


def render_all(dashboards_dir: Path = DASHBOARDS_DIR) -> dict[str, str]:
    """Filename -> JSON text for every dashboard the builders produce."""
    modules = load_builders(dashboards_dir / "src")
    common = sys.modules[f"{_SRC_PACKAGE}.common"]
    rendered: dict[str, str] = {}
    uids: dict[str, str] = {}
    for module in modules:
        if module.UID in uids:
            raise DashboardsError(
                f"dashboards {uids[module.UID]} and {module.__name__} share the UID {module.UID!r}"
            )
        uids[module.UID] = module.__name__
        try:
            rendered[module.FILENAME] = common.render(module.build())
        except (KeyError, ValueError, OSError) as exc:
            # Threshold lookups: the message already names the file, the key and the fix.
            message = exc.args[0] if exc.args else repr(exc)
            raise DashboardsError(f"{module.FILENAME}: {message}") from exc
    return rendered


def generate(dashboards_dir: Path = DASHBOARDS_DIR) -> list[Path]:
    """Write every dashboard's JSON; remove JSON no builder produces any more."""
    rendered = render_all(dashboards_dir)
    written = []
    for stale in dashboards_dir.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    for filename, text in rendered.items():
        path = dashboards_dir / filename
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def drift(dashboards_dir: Path = DASHBOARDS_DIR) -> list[str]:
    """What differs between the committed JSON and a fresh render (empty when in sync)."""
    rendered = render_all(dashboards_dir)
    committed = {path.name: path.read_text() for path in dashboards_dir.glob("*.json")}
    problems = []
    for filename in sorted(set(rendered) | set(committed)):
        if filename not in committed:
            problems.append(f"{filename}: not generated yet")
        elif filename not in rendered:
            problems.append(f"{filename}: no builder produces it any more")
        elif committed[filename] != rendered[filename]:
            diff = list(
                difflib.unified_diff(
                    committed[filename].splitlines(),
                    rendered[filename].splitlines(),
                    f"committed/{filename}",
                    f"generated/{filename}",
                    lineterm="",
                    n=1,
                )
            )
            shown = "\n".join(diff[:40])
            more = f"\n... {len(diff) - 40} more diff lines" if len(diff) > 40 else ""
            problems.append(f"{filename}: differs from its builder\n{shown}{more}")
    return problems


# --- Grafana's query expansion ----------------------------------------------------------

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def seconds_text(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds))}s"


def expand(
    expr: str,
    variables: dict[str, str],
    *,
    step_seconds: float,
    range_seconds: float,
    scrape_interval_seconds: float,
) -> str:
    """Expand dashboard and built-in variables as Grafana's Prometheus datasource does.

    ``$__rate_interval`` is ``max($__interval + scrape interval, 4 * scrape interval)``:
    long enough that a rate always spans at least two scrapes.
    """
    builtins = {
        "__interval": seconds_text(step_seconds),
        "__interval_ms": str(int(step_seconds * 1000)),
        "__rate_interval": seconds_text(
            max(step_seconds + scrape_interval_seconds, 4 * scrape_interval_seconds)
        ),
        "__range": seconds_text(range_seconds),
        "__range_s": str(int(range_seconds)),
    }

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in builtins:
            return builtins[name]
        if name in variables:
            return variables[name]
        raise DashboardsError(f"query uses ${name}, which has no value: {expr}")

    return _VARIABLE.sub(substitute, expr)


# --- preview: what each panel asks -----------------------------------------------------


@dataclass(frozen=True)
class Target:
    ref_id: str
    expr: str
    legend: str


@dataclass(frozen=True)
class PanelSpec:
    dashboard_uid: str
    dashboard_title: str
    index: int
    title: str
    description: str
    kind: str
    unit: str
    targets: tuple[Target, ...]
    thresholds: tuple[tuple[float | None, str], ...]
    mappings: dict[str, str] = field(default_factory=dict)
    column_names: dict[str, str] = field(default_factory=dict)
    column_units: dict[str, str] = field(default_factory=dict)


def iter_panels(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for panel in document.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def panel_specs(document: dict[str, Any]) -> list[PanelSpec]:
    specs = []
    for index, panel in enumerate(iter_panels(document)):
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        steps = defaults.get("thresholds", {}).get("steps", [])
        mappings: dict[str, str] = {}
        for mapping in defaults.get("mappings", []):
            for value, result in mapping.get("options", {}).items():
                mappings[value] = result.get("text", value)
        renames: dict[str, str] = {}
        for transformation in panel.get("transformations", []):
            if transformation.get("id") == "organize":
                renames = transformation.get("options", {}).get("renameByName", {})
        refs = [t.get("refId", "") for t in panel.get("targets", [])]
        column_names = {
            key.removeprefix("Value #"): name
            for key, name in renames.items()
            if key.startswith("Value #")
        }
        if "Value" in renames and len(refs) == 1:
            column_names[refs[0]] = renames["Value"]
        column_units = {}
        for override in panel.get("fieldConfig", {}).get("overrides", []):
            for prop in override.get("properties", []):
                if prop.get("id") == "unit":
                    column_units[override["matcher"]["options"]] = prop["value"]
        specs.append(
            PanelSpec(
                dashboard_uid=document["uid"],
                dashboard_title=document["title"],
                index=index,
                title=panel.get("title", ""),
                description=panel.get("description", ""),
                kind=panel.get("type", "timeseries"),
                unit=defaults.get("unit", ""),
                targets=tuple(
                    Target(t.get("refId", ""), t["expr"], t.get("legendFormat", ""))
                    for t in panel.get("targets", [])
                    if t.get("expr")
                ),
                thresholds=tuple((s.get("value"), s.get("color", "")) for s in steps),
                mappings=mappings,
                column_names=column_names,
                column_units=column_units,
            )
        )
    return specs


# --- preview: asking Prometheus ---------------------------------------------------------


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    times: tuple[float, ...]
    values: tuple[float, ...]


@dataclass
class PanelData:
    spec: PanelSpec
    results: dict[str, list[Series]] = field(default_factory=dict)  # by refId
    errors: list[str] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)  # refId -> expanded expr


async def query_range(
    session: Any, base_url: str, expr: str, start: float, end: float, step: float
) -> list[Series]:
    """One ``/api/v1/query_range`` call; raises DashboardsError with Prometheus' reason."""
    import aiohttp

    url = base_url.rstrip("/") + "/api/v1/query_range"
    form = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    try:
        async with session.post(url, data=form) as response:
            try:
                body = await response.json(content_type=None)
            except (json.JSONDecodeError, ValueError) as exc:
                raise DashboardsError(
                    f"{url} answered HTTP {response.status} without Prometheus JSON"
                ) from exc
    except aiohttp.ClientError as exc:
        raise DashboardsError(f"cannot reach Prometheus at {base_url}: {exc}") from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        reason = body.get("error", body) if isinstance(body, dict) else body
        raise DashboardsError(f"Prometheus refused the query: {reason}")
    data = body.get("data", {})
    if data.get("resultType") != "matrix":
        raise DashboardsError(f"expected a matrix from query_range, got {data.get('resultType')}")
    series = []
    for item in data.get("result", []):
        points = [(float(t), float(v)) for t, v in item.get("values", [])]
        series.append(
            Series(
                labels=dict(item.get("metric", {})),
                times=tuple(t for t, _ in points),
                values=tuple(v for _, v in points),
            )
        )
    return series


async def fetch_panels(
    specs: Sequence[PanelSpec],
    prometheus_url: str,
    *,
    start: float,
    end: float,
    step: float,
    variables: dict[str, str],
    scrape_interval_seconds: float,
    concurrency: int = 4,
) -> list[PanelData]:
    """Run every panel's queries; a failed query is recorded on its panel, not raised.

    Only an unreachable Prometheus aborts, since every panel would fail the same way.
    """
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await _probe(session, prometheus_url)

        async def one(spec: PanelSpec) -> PanelData:
            data = PanelData(spec)
            for target in spec.targets:
                try:
                    expr = expand(
                        target.expr,
                        variables,
                        step_seconds=step,
                        range_seconds=end - start,
                        scrape_interval_seconds=scrape_interval_seconds,
                    )
                    data.queries[target.ref_id] = expr
                    async with semaphore:
                        data.results[target.ref_id] = await query_range(
                            session, prometheus_url, expr, start, end, step
                        )
                except DashboardsError as exc:
                    data.errors.append(f"{target.ref_id}: {exc}")
            return data

        return list(await asyncio.gather(*(one(spec) for spec in specs)))


async def _probe(session: Any, base_url: str) -> None:
    import aiohttp

    url = base_url.rstrip("/") + "/api/v1/query"
    try:
        async with session.get(url, params={"query": "1"}) as response:
            if response.status >= 500 or response.status == 404:
                raise DashboardsError(
                    f"{base_url} does not look like Prometheus: GET /api/v1/query gave HTTP "
                    f"{response.status}"
                )
    except aiohttp.ClientError as exc:
        raise DashboardsError(
            f"cannot reach Prometheus at {base_url}: {exc}; check --prometheus"
        ) from exc


# --- preview: drawing -------------------------------------------------------------------

_LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def legend_text(legend: str, labels: dict[str, str]) -> str:
    """Grafana's legendFormat: ``{{label}}`` replaced by the series' label value."""
    if not legend:
        shown = {k: v for k, v in labels.items() if k != "__name__"}
        name = labels.get("__name__", "")
        inner = ", ".join(f'{k}="{v}"' for k, v in sorted(shown.items()))
        return f"{name}{{{inner}}}" if inner or not name else name
    text = _LEGEND_LABEL.sub(lambda m: labels.get(m.group(1), ""), legend)
    return text if text.strip() else legend_text("", labels)


def format_value(value: float, unit: str) -> str:
    """A value as the panel's unit shows it (the units taowatch's dashboards use)."""
    if math.isnan(value):
        return "NaN"
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit.startswith("suffix:"):
        return f"{_short(value)} {unit.removeprefix('suffix:').strip()}"
    if unit == "s":
        if abs(value) >= 3600:
            return f"{value / 3600:.1f} h"
        if abs(value) >= 60:
            return f"{value / 60:.1f} min"
        if abs(value) >= 1 or value == 0:
            return f"{value:.2f} s"
        return f"{value * 1000:.0f} ms"
    if unit == "reqps":
        return f"{_short(value)} req/s"
    if unit == "ops":
        return f"{_short(value)} ops/s"
    if unit == "dateTimeFromNow":
        return f"{_short(time.time() - value)} s ago"
    return _short(value)


def _short(value: float) -> str:
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.3g}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


_COLOURS = {
    "green": "#37872d",
    "yellow": "#e0b400",
    "orange": "#fa6400",
    "red": "#c4162a",
    "blue": "#1f60c4",
}


def colour_for(value: float, thresholds: Sequence[tuple[float | None, str]]) -> str:
    """The threshold colour Grafana would give ``value`` (the last step not above it)."""
    chosen = thresholds[0][1] if thresholds else "blue"
    for step_value, colour in thresholds:
        if step_value is None or value >= step_value:
            chosen = colour
    return _COLOURS.get(chosen, chosen or "#1f60c4")


@dataclass(frozen=True)
class Drawn:
    """What a rendered panel shows, for the index and for tests."""

    path: Path
    kind: str
    series: tuple[tuple[str, float | None], ...]  # (name, last value)
    errors: tuple[str, ...]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "panel"


def render_panel(data: PanelData, out_dir: Path, plt: Any) -> Drawn:
    spec = data.spec
    path = out_dir / f"{spec.index:02d}-{_slug(spec.title)}.png"
    if spec.kind == "table":
        figure, drawn = _draw_table(data, plt)
    elif spec.kind == "stat":
        figure, drawn = _draw_stat(data, plt)
    else:
        figure, drawn = _draw_timeseries(data, plt)
    figure.suptitle(spec.title, fontsize=12, fontweight="bold", x=0.01, ha="left")
    footer = spec.description
    if data.errors:
        footer = "QUERY ERROR: " + " | ".join(data.errors)
    figure.text(
        0.01,
        0.01,
        _wrap(footer, 150),
        fontsize=7,
        va="bottom",
        color="#c4162a" if data.errors else "#555555",
    )
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return Drawn(path, spec.kind, tuple(drawn), tuple(data.errors))


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)[:3])


def _named_series(data: PanelData) -> list[tuple[str, Series]]:
    named = []
    for target in data.spec.targets:
        for series in data.results.get(target.ref_id, []):
            named.append((legend_text(target.legend, series.labels), series))
    return named


def _last(series: Series) -> float | None:
    for value in reversed(series.values):
        if not math.isnan(value):
            return value
    return None


def _no_data(axes: Any, data: PanelData) -> None:
    axes.text(
        0.5,
        0.5,
        "query error" if data.errors else "No data",
        ha="center",
        va="center",
        fontsize=16,
        color="#c4162a" if data.errors else "#888888",
        transform=axes.transAxes,
    )
    axes.set_axis_off()


def _draw_timeseries(data: PanelData, plt: Any) -> tuple[Any, list[tuple[str, float | None]]]:
    from datetime import datetime

    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    figure, axes = plt.subplots(figsize=(10, 4))
    figure.subplots_adjust(top=0.88, bottom=0.22, left=0.1, right=0.98)
    named = _named_series(data)
    drawn = []
    for name, series in named:
        times = [datetime.fromtimestamp(t) for t in series.times]
        axes.step(times, series.values, where="post", label=name, linewidth=1.4)
        drawn.append((name, _last(series)))
    if not named:
        _no_data(axes, data)
        return figure, drawn
    for step_value, colour in data.spec.thresholds:
        if step_value is not None:
            axes.axhline(
                step_value, linestyle="--", linewidth=1, color=_COLOURS.get(colour, colour)
            )
    unit = data.spec.unit
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_value(v, unit)))
    # Seconds on short ranges, or every tick of a few minutes' chart reads the same.
    span = max((s.times[-1] - s.times[0] for _, s in named if s.times), default=0)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S" if span < 600 else "%H:%M"))
    axes.grid(alpha=0.3)
    if len(named) <= 12 and any(name for name, _ in named):
        axes.legend(fontsize=7, loc="upper left", framealpha=0.7)
    return figure, drawn


def _draw_stat(data: PanelData, plt: Any) -> tuple[Any, list[tuple[str, float | None]]]:
    named = _named_series(data)[:8]
    figure = plt.figure(figsize=(max(3.0, 2.6 * max(1, len(named))), 2.6))
    drawn = []
    if not named:
        _no_data(figure.add_subplot(1, 1, 1), data)
        return figure, drawn
    for position, (name, series) in enumerate(named, start=1):
        axes = figure.add_subplot(1, len(named), position)
        value = _last(series)
        drawn.append((name, value))
        background = colour_for(value, data.spec.thresholds) if value is not None else "#888888"
        axes.set_facecolor(background)
        if value is None:
            text = "No data"
        else:
            key = str(int(value)) if float(value).is_integer() else str(value)
            text = data.spec.mappings.get(key) or format_value(value, data.spec.unit)
        axes.text(
            0.5,
            0.55,
            text,
            ha="center",
            va="center",
            fontsize=18,
            color="white",
            fontweight="bold",
            transform=axes.transAxes,
        )
        axes.text(
            0.5,
            0.12,
            name[:40],
            ha="center",
            va="center",
            fontsize=7,
            color="white",
            transform=axes.transAxes,
        )
        if len(series.values) > 1:
            spark = axes.inset_axes([0.0, 0.0, 1.0, 0.3])
            spark.fill_between(range(len(series.values)), series.values, alpha=0.3, color="white")
            spark.set_axis_off()
        axes.set_xticks([])
        axes.set_yticks([])
    figure.subplots_adjust(top=0.78, bottom=0.2, left=0.02, right=0.98, wspace=0.05)
    return figure, drawn


_HIDDEN_COLUMNS = {"__name__", "job", "instance"}


def table_rows(
    data: PanelData,
) -> tuple[list[str], list[list[str]], list[tuple[str, float | None]]]:
    """Merge each query's last values into rows keyed by the labels all queries share,
    like Grafana's merge transformation over instant table queries."""
    per_ref: dict[str, dict[tuple[tuple[str, str], ...], float | None]] = {}
    label_sets = []
    for target in data.spec.targets:
        for series in data.results.get(target.ref_id, []):
            label_sets.append(set(series.labels) - _HIDDEN_COLUMNS)
    shared = sorted(set.intersection(*label_sets)) if label_sets else []
    for target in data.spec.targets:
        values = per_ref.setdefault(target.ref_id, {})
        for series in data.results.get(target.ref_id, []):
            key = tuple((name, series.labels.get(name, "")) for name in shared)
            values[key] = _last(series)
    keys = sorted({key for values in per_ref.values() for key in values})
    headers = shared + [data.spec.column_names.get(t.ref_id, t.ref_id) for t in data.spec.targets]
    rows = []
    drawn = []
    for key in keys:
        row = [value if len(value) <= 14 else value[:6] + "…" + value[-5:] for _, value in key]
        for target in data.spec.targets:
            header = data.spec.column_names.get(target.ref_id, target.ref_id)
            value = per_ref.get(target.ref_id, {}).get(key)
            unit = data.spec.column_units.get(header, data.spec.unit)
            row.append("" if value is None else format_value(value, unit))
            drawn.append((f"{dict(key)} {header}", value))
        rows.append(row)
    return headers, rows, drawn


def _draw_table(data: PanelData, plt: Any) -> tuple[Any, list[tuple[str, float | None]]]:
    headers, rows, drawn = table_rows(data)
    shown = rows[:25]
    figure = plt.figure(figsize=(max(8.0, 1.2 * len(headers)), 1.2 + 0.28 * max(1, len(shown))))
    axes = figure.add_subplot(1, 1, 1)
    if not rows:
        _no_data(axes, data)
        return figure, drawn
    axes.set_axis_off()
    table = axes.table(cellText=shown, colLabels=headers, loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    figure.subplots_adjust(top=0.85, bottom=0.12)
    return figure, drawn


def _write_index(out_dir: Path, pages: dict[str, tuple[str, list[Drawn]]]) -> Path:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>taowatch dashboards preview</title>",
        "<style>body{font-family:sans-serif} img{max-width:100%;border:1px solid #ddd}</style>",
        "<h1>taowatch dashboards preview</h1>",
    ]
    for uid, (title, drawn) in pages.items():
        parts.append(f"<h2 id='{html.escape(uid)}'>{html.escape(title)}</h2>")
        for item in drawn:
            rel = item.path.relative_to(out_dir).as_posix()
            parts.append(f"<p><img src='{html.escape(rel)}' alt='{html.escape(rel)}'></p>")
    index = out_dir / "index.html"
    index.write_text("\n".join(parts) + "\n")
    return index


def load_dashboards(dashboards_dir: Path, only: Sequence[str] = ()) -> list[dict[str, Any]]:
    documents = []
    for path in sorted(dashboards_dir.glob("*.json")):
        document = json.loads(path.read_text())
        if not only or document.get("uid") in only:
            documents.append(document)
    if not documents:
        wanted = f" with UID {', '.join(only)}" if only else ""
        raise DashboardsError(f"no dashboards{wanted} in {dashboards_dir}")
    return documents


def _import_pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise DashboardsError(
            "preview needs matplotlib, which is in the 'preview' extra: "
            ".venv/bin/pip install -e '.[preview]'"
        ) from exc
    matplotlib.use("Agg")  # files only: never open a window, work without a display
    import matplotlib.pyplot as plt

    return plt


async def preview(
    prometheus_url: str,
    out_dir: Path,
    documents: Sequence[dict[str, Any]],
    *,
    start: float,
    end: float,
    step: float | None = None,
    variables: dict[str, str] | None = None,
    scrape_interval_seconds: float = 15.0,
) -> dict[str, list[Drawn]]:
    """Render every panel of ``documents`` into ``out_dir/<uid>/NN-title.png``."""
    plt = _import_pyplot()
    if end <= start:
        raise DashboardsError("the preview's time range is empty: --end must be after the start")
    # Grafana picks about one point per pixel with the scrape interval as the floor.
    step = step or max(scrape_interval_seconds, (end - start) / 240)
    pages: dict[str, tuple[str, list[Drawn]]] = {}
    for document in documents:
        values = _variable_defaults(document) | (variables or {})
        specs = panel_specs(document)
        results = await fetch_panels(
            specs,
            prometheus_url,
            start=start,
            end=end,
            step=step,
            variables=values,
            scrape_interval_seconds=scrape_interval_seconds,
        )
        page_dir = out_dir / document["uid"]
        page_dir.mkdir(parents=True, exist_ok=True)
        drawn = [render_panel(data, page_dir, plt) for data in results]
        pages[document["uid"]] = (document["title"], drawn)
    _write_index(out_dir, pages)
    return {uid: drawn for uid, (_, drawn) in pages.items()}


def _variable_defaults(document: dict[str, Any]) -> dict[str, str]:
    """Every query variable at "All" (its allValue, ``.*``), as a fresh Grafana shows them."""
    values = {}
    for variable in document.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            values[variable["name"]] = variable.get("allValue") or ".*"
    return values


# --- command line -----------------------------------------------------------------------

_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_duration(text: str, option: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise DashboardsError(f"{option}: {text!r} is not a duration; use e.g. 30s, 15m, 6h, 2d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise DashboardsError(f"--var: {pair!r} is not NAME=VALUE (e.g. --var netuid=1)")
        values[name] = value
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taowatch dashboards", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dir",
        type=Path,
        default=DASHBOARDS_DIR,
        help="dashboards folder: builders in DIR/src, JSON in DIR (default: %(default)s)",
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "generate":
            for path in generate(args.dir):
                print(f"wrote {path}")
            return 0
        if args.command == "check":
            problems = drift(args.dir)
            if problems:
                print(
                    "dashboards are out of date; run 'taowatch dashboards generate' and "
                    "commit the result:",
                    file=sys.stderr,
                )
                for problem in problems:
                    print(problem, file=sys.stderr)
                return 1
            print("dashboards are up to date")
            return 0
        end = args.end if args.end is not None else time.time()
        start = end - parse_duration(args.time_range, "--range")
        drawn = asyncio.run(
            preview(
                args.prometheus,
                args.out,
                load_dashboards(args.dir, args.dashboard),
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
    except DashboardsError as exc:
        print(f"taowatch dashboards: {exc}", file=sys.stderr)
        return 1 if args.command != "preview" or "matplotlib" not in str(exc) else 2
