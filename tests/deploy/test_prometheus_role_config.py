"""The prometheus role's config comes from alerts/prometheus.py, the function the test stacks
use: the role's own tasks render it on the controller (ansible-playbook, locally, over a
small inventory of a Prometheus pair), and what they write is that function's output for
the spec the role built from the inventory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alerts.prometheus import SpecError, prometheus_config, render_prometheus
from tests.support import REPO

ROLES = REPO / "deploy" / "ansible" / "roles"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "prometheus": {"hosts": {"mon": {}, "val": {"taowatch_scrape_address": "10.0.0.2"}}},
            "alertmanager": {"hosts": {"mon": {}, "val": {"taowatch_scrape_address": "10.0.0.2"}}},
            "taowatch_agents": {"hosts": {"mon": {"taowatch_agent_listen_port": 9999}}},
            "taowatch_miners": {"hosts": {"miner": {"ansible_host": "10.0.0.3"}}},
            "victoriametrics": {"hosts": {"mon": {}}},
        },
    }
}

PLAYBOOK = [
    {
        "hosts": "prometheus",
        "gather_facts": False,
        "tasks": [
            {
                "ansible.builtin.include_role": {
                    "name": "prometheus",
                    "tasks_from": "render_config",
                }
            }
        ],
    }
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    if not ANSIBLE_PLAYBOOK.exists():
        pytest.fail(f"{ANSIBLE_PLAYBOOK} is missing: install the dev extra (ansible-core)")
    work = tmp_path_factory.mktemp("prometheus-role")
    (work / "inventory.yml").write_text(yaml.safe_dump(INVENTORY))
    (work / "play.yml").write_text(yaml.safe_dump(PLAYBOOK))
    out = work / "rendered"
    env = {
        **os.environ,
        "ANSIBLE_ROLES_PATH": str(ROLES),
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_HOME": str(work / "home"),
        "ANSIBLE_NOCOLOR": "1",
    }
    proc = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            str(work / "inventory.yml"),
            str(work / "play.yml"),
            "-e",
            json.dumps(
                {"_prometheus_repo_dir": str(REPO), "_prometheus_rendered_config_dir": str(out)}
            ),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_each_prometheus_of_the_pair_gets_the_functions_config_for_its_spec(rendered):
    for host in ("mon", "val"):
        spec = json.loads((rendered / f"{host}.json").read_text())
        assert (rendered / f"{host}.yml").read_text() == render_prometheus(spec)


def test_the_pair_differs_only_in_its_replica_label_and_drops_it_from_alerts(rendered):
    mon = yaml.safe_load((rendered / "mon.yml").read_text())
    val = yaml.safe_load((rendered / "val.yml").read_text())
    assert mon["global"]["external_labels"] == {"replica": "mon"}
    assert val["global"]["external_labels"] == {"replica": "val"}
    assert mon["alerting"]["alert_relabel_configs"] == [{"action": "labeldrop", "regex": "replica"}]
    targets = mon["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["mon:9093", "10.0.0.2:9093"]
    assert mon["remote_write"] == [{"url": "http://mon:8428/api/v1/write"}]
    assert mon["rule_files"] == ["/etc/prometheus/rules/taowatch/*.yml"]


def test_the_scrape_jobs_come_from_the_inventory_with_host_labels(rendered):
    mon = yaml.safe_load((rendered / "mon.yml").read_text())
    jobs = {job["job_name"]: job["static_configs"] for job in mon["scrape_configs"]}
    assert jobs["prometheus"] == [{"targets": ["127.0.0.1:9090"], "labels": {"host": "mon"}}]
    assert jobs["taowatch-agent"] == [{"targets": ["mon:9999"], "labels": {"host": "mon"}}]
    assert jobs["taowatch-neuron"] == [
        {"targets": ["10.0.0.3:9947"], "labels": {"host": "miner", "role": "miner"}}
    ]
    assert "node" not in jobs  # no node_exporter hosts: no empty job


def test_a_spec_with_an_unknown_key_is_an_error_naming_it():
    with pytest.raises(SpecError, match="unknown key\\(s\\) scrape_config;"):
        prometheus_config({"global": {}, "scrape_configs": [], "scrape_config": []})
