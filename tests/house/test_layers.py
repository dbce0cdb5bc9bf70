"""The packages form floors: each imports only itself and the floors below it.

``common`` is the ground floor (chain seam, config, logging, metric names, version); the
components stand on it; the agent and the dashboards stand on the components; ``taowatch``
(the command line, the demo, the stack) is the roof. An import that points up, or sideways
to another package of the same floor, ties two components together that hosts install
apart, so the walk below fails on it, naming file and line. Function-local imports count:
hiding an import in a function hides the loop, not the dependency.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tests.support import REPO

RANKS = {
    "common": 0,
    "simnet": 1,
    "exporters": 1,
    "neuron": 1,
    "alerts": 1,
    "agent": 2,
    "grafana": 2,
    "taowatch": 3,
}
# Top-level directories whose code may import anything: it runs nothing a host installs.
UNRESTRICTED = {"bench", "tests", "deploy", "scripts"}
SKIPPED_DIRS = {".venv", ".git", "build", ".cache", "__pycache__"}


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.importer} (floor {RANKS[self.importer]}) imports "
            f"{self.imported} (floor {RANKS[self.imported]}); a package may import itself and "
            "lower floors only"
        )


def python_files(package_dir: Path) -> list[Path]:
    # Walked as directories, not imported: a package without __init__.py (or one that
    # is loaded by path) is checked all the same.
    return sorted(
        p for p in package_dir.rglob("*.py") if not SKIPPED_DIRS & set(p.parts[len(REPO.parts) :])
    )


def imported_packages(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import anywhere in the module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.partition(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.partition(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            found.append((node.lineno, node.args[0].value.partition(".")[0]))
    return found


def violations(root: Path) -> list[Violation]:
    found: list[Violation] = []
    for package, rank in RANKS.items():
        package_dir = root / package
        if not package_dir.is_dir():
            continue
        for path in python_files(package_dir):
            tree = ast.parse(path.read_text(), filename=str(path))
            for line, imported in imported_packages(tree):
                if imported in RANKS and imported != package and RANKS[imported] >= rank:
                    found.append(Violation(path.relative_to(root), line, package, imported))
    return found


def test_no_package_imports_a_package_on_its_own_floor_or_above():
    problems = violations(REPO)
    assert not problems, "\n".join(map(str, problems))


def test_every_top_level_directory_with_python_code_has_a_floor():
    dirs = {
        p.relative_to(REPO).parts[0]
        for p in REPO.rglob("*.py")
        if len(p.relative_to(REPO).parts) > 1 and not SKIPPED_DIRS & set(p.relative_to(REPO).parts)
    }
    unranked = sorted(dirs - set(RANKS) - UNRESTRICTED)
    assert not unranked, f"give these packages a floor in tests/house/test_layers.py: {unranked}"


def test_the_walk_catches_an_upward_import_hidden_in_a_function(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "chain.py").write_text(
        "import bittensor\n\n\ndef make():\n    from simnet.remote import RemoteSubstrate\n"
    )
    (tmp_path / "exporters").mkdir()  # no __init__.py: still walked
    (tmp_path / "exporters" / "poll.py").write_text(
        "from common.chain import make\nfrom . import sibling\nimport neuron.metrics\n"
    )
    (tmp_path / "taowatch").mkdir()
    (tmp_path / "taowatch" / "cli.py").write_text("import agent.main\nimport common\n")
    found = [str(v) for v in violations(tmp_path)]
    assert found == [
        "common/chain.py:5: common (floor 0) imports simnet (floor 1); "
        "a package may import itself and lower floors only",
        "exporters/poll.py:3: exporters (floor 1) imports neuron (floor 1); "
        "a package may import itself and lower floors only",
    ]


def test_the_walk_reads_string_imports_as_imports(tmp_path):
    (tmp_path / "neuron").mkdir()
    (tmp_path / "neuron" / "cli.py").write_text(
        "import importlib\n\nimportlib.import_module('taowatch.demo')\n"
    )
    assert [(v.line, v.imported) for v in violations(tmp_path)] == [(3, "taowatch")]


# The exporter's own floors: what a poll reads and keeps (0-5: transport and retry, the
# endpoints, the reads that fail alone, what they fold into the snapshot), the chain areas
# that turn it into families (6; each area owns its series), the poller and the collector
# over them (7), then the service and the scrape (8). A module imports only lower floors;
# the areas never each other.
EXPORTER_FLOORS = {
    "family": 0,
    "watch_plan": 0,
    "finality": 0,
    "deregistration": 0,
    "emission_gate": 0,
    "storage_switches": 0,
    "retry": 0,
    "eviction": 1,
    "runtime_version": 1,
    "chain_trust": 1,
    "exposition": 1,
    "endpoints": 2,
    "reads": 3,
    "economics": 4,
    "reveal_watch": 4,
    "snapshot": 5,
    "neurons": 6,
    "mechanisms": 6,
    "subnets": 6,
    "economy_series": 6,
    "status": 6,
    "events": 6,
    "chain": 7,
    "collector": 7,
    "service": 8,
    "scrape": 8,
}


def exporter_violations(root: Path) -> list[str]:
    found = []
    for path in python_files(root / "exporters"):
        parts = path.relative_to(root / "exporters").with_suffix("").parts
        module = parts[0]
        if module == "__init__":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = node.module.split(".")
                if names[0] != "exporters":
                    continue
                targets = names[1:2] or [alias.name for alias in node.names]
                for target in targets:
                    if target == module or target not in EXPORTER_FLOORS:
                        continue  # within an area's own package
                    if EXPORTER_FLOORS[target] >= EXPORTER_FLOORS[module]:
                        found.append(
                            f"exporters/{'/'.join(parts)}.py:{node.lineno}: {module} (floor "
                            f"{EXPORTER_FLOORS[module]}) imports {target} (floor "
                            f"{EXPORTER_FLOORS[target]})"
                        )
    return found


def test_every_exporter_module_has_a_floor():
    modules = {p.name.removesuffix(".py") for p in (REPO / "exporters").iterdir()}
    modules -= {"__init__", "__pycache__"}
    assert modules <= set(EXPORTER_FLOORS), (
        f"give a floor: {sorted(modules - set(EXPORTER_FLOORS))}"
    )


def test_the_exporter_areas_import_only_downward():
    problems = exporter_violations(REPO)
    assert not problems, "\n".join(problems)


def test_the_exporter_walk_catches_one_area_importing_another(tmp_path):
    (tmp_path / "exporters").mkdir()
    (tmp_path / "exporters" / "neurons.py").write_text(
        "from exporters.family import Family\nfrom exporters import subnets\n"
    )
    assert exporter_violations(tmp_path) == [
        "exporters/neurons.py:2: neurons (floor 6) imports subnets (floor 6)"
    ]
