"""Render the dashboards' JSON from their builders, and check the committed JSON against them.

The JSON is committed (it is what gets reviewed and provisioned) and shipped as package data
beside this module, so ``taowatch dashboards check`` proves, from a checkout or from an
installed wheel, that what Grafana would load is what the builders produce today. The
thresholds panels colour at are the alert rules' own, read through the alerts package.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import ModuleType

from alerts.generate import THRESHOLDS_FILE, GenerateError, load_thresholds, thresholds_with
from grafana.dashboards import builders
from grafana.dashboards.builders import common

# The folder holding the committed JSON: the checkout's grafana/dashboards, or its
# installed copy.
DASHBOARDS_DIR: Traversable = files("grafana.dashboards")


class DashboardsError(Exception):
    """A problem the operator can fix; ``str()`` is the whole message."""


def load_knobs(
    path: Path | Traversable = THRESHOLDS_FILE, overrides: list[str] | None = None
) -> common.Knobs:
    """The alert thresholds the panels colour at (default: the alerts package's own), with
    ``KNOB=VALUE`` overrides as ``taowatch alerts --set`` takes them."""
    try:
        if overrides:
            values = thresholds_with(None if path is THRESHOLDS_FILE else path, overrides)
            return common.Knobs(values, f"{path} with --set")
        return common.Knobs(load_thresholds(path), str(path))
    except GenerateError as exc:
        raise DashboardsError(str(exc)) from exc


def dashboard_modules() -> list[ModuleType]:
    """Every dashboard module among the builders (all but ``common`` and private ones)."""
    modules = []
    for info in sorted(pkgutil.iter_modules(builders.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"{builders.__name__}.{info.name}")
        for attribute in ("UID", "FILENAME", "build"):
            if not hasattr(module, attribute):
                raise DashboardsError(
                    f"{module.__file__}: a dashboard module must define {attribute}"
                )
        modules.append(module)
    return modules


def render_all(knobs: common.Knobs) -> dict[str, str]:
    """Filename -> JSON text for every dashboard the builders produce."""
    rendered: dict[str, str] = {}
    uids: dict[str, str] = {}
    for module in dashboard_modules():
        if module.UID in uids:
            raise DashboardsError(
                f"dashboards {uids[module.UID]} and {module.__name__} share the UID {module.UID!r}"
            )
        uids[module.UID] = module.__name__
        try:
            rendered[module.FILENAME] = common.render(module.build(knobs))
        except (KeyError, ValueError) as exc:
            # Threshold lookups: the message already names the file, the key and the fix.
            message = exc.args[0] if exc.args else repr(exc)
            raise DashboardsError(f"{module.FILENAME}: {message}") from exc
    return rendered


def _json_files(folder: Traversable) -> dict[str, Traversable]:
    if not folder.is_dir():
        raise DashboardsError(f"{folder}: no such folder (check --dir)")
    return {p.name: p for p in folder.iterdir() if p.name.endswith(".json") and p.is_file()}


def generate(knobs: common.Knobs, out_dir: Path) -> list[Path]:
    """Write every dashboard's JSON into ``out_dir``; remove JSON no builder produces any more."""
    rendered = render_all(knobs)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in _json_files(out_dir):
        if name not in rendered:
            (out_dir / name).unlink()
    written = []
    for filename, text in rendered.items():
        path = out_dir / filename
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def drift(knobs: common.Knobs, dashboards_dir: Traversable = DASHBOARDS_DIR) -> list[str]:
    """What differs between the committed JSON and a fresh render (empty when in sync)."""
    rendered = render_all(knobs)
    committed = {name: path.read_text() for name, path in _json_files(dashboards_dir).items()}
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
