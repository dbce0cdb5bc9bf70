"""The base install is an agent host's: it runs without torch; the neuron and sim extras pin it.

The agent host gets ``pip install taowatch`` only, so torch is absent there. The subprocess
below makes ``torch`` unimportable (a meta-path finder that refuses it) and then does what an
agent host does: check the example config, import every agent and exporter module and the
simnet client, and build the agent's application over the example config.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

from tests.support import REPO

TORCH_PIN = "torch==2.13.0"

WITHOUT_TORCH = r"""
import contextlib, importlib, importlib.abc, io, json, pathlib, sys

class RefuseTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} is not installed on an agent host")
        return None

sys.meta_path.insert(0, RefuseTorch())
repo = pathlib.Path(sys.argv[1])
example = str(repo / "agent" / "agent.example.yaml")
report = {}
try:
    import torch  # noqa: F401
    report["torch_blocked"] = False
except ImportError:
    report["torch_blocked"] = True

from taowatch.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    report["check_config_rc"] = main(["agent", "--check-config", example])
report["check_config_out"] = out.getvalue()

modules = ["simnet.remote"]
for package in ("common", "agent", "exporters"):
    modules += [f"{package}.{p.stem}" for p in sorted((repo / package).glob("*.py"))]
report["imported"] = []
for name in modules:
    importlib.import_module(name)
    report["imported"].append(name)

from agent.app import POLLER_KEY, create_app
from agent.startup import read_startup
from agent.config import load
config = load(example)
app = create_app(config, read_startup(config))
report["endpoints"] = [ep.label for ep in app[POLLER_KEY].pool.endpoints]
report["torch_loaded"] = any(m == "torch" or m.startswith("torch.") for m in sys.modules)
print(json.dumps(report))
"""


def run_without_torch() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, str(REPO)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_agent_checks_its_config_imports_and_builds_without_torch():
    report = run_without_torch()
    assert report["torch_blocked"], "the finder must make torch unimportable"
    assert report["check_config_rc"] == 0
    assert report["check_config_out"].strip().endswith(": ok")
    expected = {f"agent.{p.stem}" for p in (REPO / "agent").glob("*.py")}
    expected |= {f"exporters.{p.stem}" for p in (REPO / "exporters").glob("*.py")}
    assert expected | {"simnet.remote"} <= set(report["imported"])
    assert report["endpoints"] == ["sim://127.0.0.1:9955"]
    assert not report["torch_loaded"]


def test_the_base_install_leaves_torch_to_the_neuron_and_sim_extras():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("torch")]
    extras = project["optional-dependencies"]
    # Pinned: a loose torch makes pip pull the multi-GB CUDA build.
    assert TORCH_PIN in extras["neuron"]
    assert TORCH_PIN in extras["sim"]
