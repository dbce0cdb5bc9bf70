"""Which optional extra a command needs, and what to say when it is missing.

The extras and their packages are read from the installed distribution's metadata (the
``[project.optional-dependencies]`` of ``pyproject.toml``), so nothing here repeats them;
what is declared here is only which command runs on which extra. A command is refused up
front, exit 2, when an extra's package does not import: a command that imports its extra
late (simnet's epoch, the miner's scoring) would otherwise fail minutes in, with a traceback.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, Sequence
from importlib import metadata
from types import MappingProxyType

DISTRIBUTION = "taowatch"

# (command, subcommand or None for all) -> the extras it runs on.
NEEDS: Mapping[tuple[str, str | None], tuple[str, ...]] = MappingProxyType(
    {
        ("demo", None): ("sim", "neuron"),
        ("miner", None): ("neuron",),
        ("validator", None): ("neuron",),
        ("simnet", "serve"): ("sim",),
        ("dashboards", "generate"): ("dashboards",),
        ("dashboards", "check"): ("dashboards",),
        ("dashboards", "preview"): ("preview",),
    }
)

_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*).*;.*\bextra\s*==\s*['\"](?P<extra>[\w-]+)['\"]"
)


def extra_packages() -> dict[str, tuple[str, ...]]:
    """extra -> the import names of its packages, from the installed metadata."""
    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    out: dict[str, list[str]] = {}
    for line in requires:
        found = _REQUIREMENT.match(line)
        if found:
            # A distribution's import name is its normalized name for every extra we ship
            # (torch, grafana-foundation-sdk, matplotlib).
            module = re.sub(r"[-.]", "_", found["name"]).lower()
            out.setdefault(found["extra"], []).append(module)
    return {extra: tuple(modules) for extra, modules in out.items()}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_extra(command: str, argv: Sequence[str]) -> str | None:
    """The message for a command whose extra is not installed, else None."""
    sub = next((a for a in argv if not a.startswith("-")), None)
    key = (command, sub) if (command, sub) in NEEDS else (command, None)
    needed = NEEDS.get(key, ())
    packages = extra_packages() if needed else {}
    for extra in needed:
        absent = [m for m in packages.get(extra, ()) if not _importable(m)]
        if absent:
            return install_hint(" ".join(p for p in key if p), extra, absent[0])
    return None


def install_hint(what: str, extra: str, module: str) -> str:
    return (
        f"taowatch {what}: needs the '{extra}' extra ({module} is not installed): "
        f"pip install 'taowatch[{extra}]' (from a checkout: .venv/bin/pip install -e '.[{extra}]')"
    )


def extra_of(module: str | None) -> str | None:
    """The extra that provides ``module`` (a top-level import name), if any does."""
    if not module:
        return None
    top = module.split(".")[0]
    return next((e for e, mods in extra_packages().items() if top in mods), None)
