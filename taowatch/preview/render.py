"""Drawing a panel as a PNG with matplotlib: time series, stats and tables as Grafana shows them."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from taowatch.preview import PreviewError
from taowatch.preview.client import PanelData, Series

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


COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "green": "#37872d",
        "yellow": "#e0b400",
        "orange": "#fa6400",
        "red": "#c4162a",
        "blue": "#1f60c4",
    }
)


def colour_for(value: float, thresholds: Sequence[tuple[float | None, str]]) -> str:
    """The threshold colour Grafana would give ``value`` (the last step not above it)."""
    chosen = thresholds[0][1] if thresholds else "blue"
    for step_value, colour in thresholds:
        if step_value is None or value >= step_value:
            chosen = colour
    return COLOURS.get(chosen, chosen or "#1f60c4")


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
            axes.axhline(step_value, linestyle="--", linewidth=1, color=COLOURS.get(colour, colour))
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


_HIDDEN_COLUMNS = frozenset({"__name__", "job", "instance"})


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


def import_pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise PreviewError(
            "preview needs matplotlib, which is in the 'preview' extra: "
            ".venv/bin/pip install -e '.[preview]'"
        ) from exc
    matplotlib.use("Agg")  # files only: never open a window, work without a display
    import matplotlib.pyplot as plt

    return plt
