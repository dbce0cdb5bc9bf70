"""What each panel asks: its queries, units and thresholds, and Grafana's variable expansion."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from taowatch.preview import PreviewError

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
        raise PreviewError(f"query uses ${name}, which has no value: {expr}")

    return _VARIABLE.sub(substitute, expr)


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


def variable_defaults(document: dict[str, Any]) -> dict[str, str]:
    """Every query variable at "All" (its allValue, ``.*``), as a fresh Grafana shows them."""
    values = {}
    for variable in document.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            values[variable["name"]] = variable.get("allValue") or ".*"
    return values


def load_dashboards(
    dashboards_dir: Path | Traversable, only: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The dashboards' JSON documents in ``dashboards_dir`` (only the UIDs in ``only``, if any)."""
    documents = []
    for path in sorted(dashboards_dir.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".json"):
            continue
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise PreviewError(f"{path}: not valid JSON ({exc}); regenerate it") from exc
        if not only or document.get("uid") in only:
            documents.append(document)
    if not documents:
        wanted = f" with UID {', '.join(only)}" if only else ""
        raise PreviewError(f"no dashboards{wanted} in {dashboards_dir}")
    return documents
