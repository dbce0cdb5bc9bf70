"""The PromQL the committed dashboards ask, as the grafana and end-to-end tests read it."""

from __future__ import annotations

import json
import re

from taowatch.preview.panels import expand, iter_panels
from tests.support import REPO

DASHBOARDS = REPO / "grafana" / "dashboards"
SAMPLE_VARIABLES = {"netuid": "1", "hotkey": "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"}


def committed() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def all_queries() -> list[tuple[str, str]]:
    """(where, expr) for every PromQL expression: panel targets and annotations."""
    found = []
    for document in committed().values():
        for panel in iter_panels(document):
            for target in panel.get("targets", []):
                found.append(
                    (f"{document['uid']} / {panel['title']} / {target['refId']}", target["expr"])
                )
        for annotation in document.get("annotations", {}).get("list", []):
            if annotation.get("expr"):
                found.append(
                    (f"{document['uid']} / annotation {annotation['name']}", annotation["expr"])
                )
    return found


def expanded(expr: str) -> str:
    return expand(
        expr, SAMPLE_VARIABLES, step_seconds=30, range_seconds=3600, scrape_interval_seconds=15
    )


_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
    "atan2",
}


def metric_tokens(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers left once strings, label matchers,
    ranges, grouping label lists and function calls are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        token = match.group(0)
        following = text[match.end() :].lstrip()
        if token.lower() in _KEYWORDS or following.startswith("("):
            continue
        if re.fullmatch(r"\d.*", token):
            continue
        names.add(token)
    return names
