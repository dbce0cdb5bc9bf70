"""The Prometheus configuration taowatch runs with, from one function for every Prometheus:
the test and demo stacks (``taowatch/stack.py``) and the hosts (the Ansible prometheus role
renders it on the controller with ``python -m alerts.prometheus SPEC.json OUT.yml``, as it
renders the rules, so the controller needs only PyYAML).

A spec says what differs between them: the global section, the external labels, the rule
files, the Alertmanagers, the labels dropped from alerts, remote_write and the scrape jobs.
Where each goes is decided here once: external labels under ``global`` (a pair's replica
label among them, so a remote store keeps both copies apart), the dropped labels as one
``labeldrop`` before the alerts leave (the pair's members then send identical alerts, which
Alertmanager deduplicates), remote_write verbatim, the scrape jobs after Prometheus' own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SPEC_KEYS = frozenset(
    {
        "global",
        "external_labels",
        "rule_files",
        "alertmanagers",
        "alert_labels_dropped",
        "remote_write",
        "scrape_configs",
    }
)


class SpecError(ValueError):
    """A spec the config cannot be built from; the message names the key."""


def prometheus_config(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The config as data. Every key of :data:`SPEC_KEYS` but ``global`` and
    ``scrape_configs`` may be left out (empty)."""
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise SpecError(f"unknown key(s) {', '.join(sorted(unknown))}; known: {sorted(SPEC_KEYS)}")
    for key in ("global", "scrape_configs"):
        if key not in spec:
            raise SpecError(f"{key}: required")
    global_section = dict(spec["global"])
    labels = dict(spec.get("external_labels") or {})
    if labels:
        global_section["external_labels"] = labels
    alerting: dict[str, Any] = {}
    dropped = [name for name in spec.get("alert_labels_dropped") or () if name]
    if dropped:
        alerting["alert_relabel_configs"] = [{"action": "labeldrop", "regex": "|".join(dropped)}]
    alerting["alertmanagers"] = [
        {"static_configs": [{"targets": list(spec.get("alertmanagers") or [])}]}
    ]
    config: dict[str, Any] = {
        "global": global_section,
        "rule_files": list(spec.get("rule_files") or []),
        "alerting": alerting,
    }
    if spec.get("remote_write"):
        config["remote_write"] = [dict(entry) for entry in spec["remote_write"]]
    config["scrape_configs"] = [dict(job) for job in spec["scrape_configs"]]
    return config


def render_prometheus(spec: Mapping[str, Any]) -> str:
    """``prometheus.yml``'s text."""
    return yaml.safe_dump(prometheus_config(spec), sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m alerts.prometheus SPEC.json OUT.yml", file=sys.stderr)
        return 2
    source, out = Path(args[0]), Path(args[1])
    try:
        spec = json.loads(source.read_text())
        text = render_prometheus(spec)
    except (OSError, ValueError) as exc:
        print(f"alerts.prometheus: {source}: {exc}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
