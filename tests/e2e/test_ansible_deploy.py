"""deploy/ansible/site.yml on a real systemd: three Debian bookworm containers, converged over ssh.

What runs: ``deploy/test/rootfs.sh`` builds (or reuses from /var/cache/taowatch-test) a
debootstrapped bookworm root; ``deploy/test/container.sh`` boots three copies with
``systemd-nspawn --boot`` (host network shared, sshd on a loopback port each):

    tw-miner      miner (taowatch_neuron) + node_exporter
    tw-validator  validator (taowatch_neuron) + the second Prometheus and Alertmanager of the pairs
    tw-monitor    agent, Prometheus, the first Alertmanager, VictoriaMetrics (both Prometheus
                  remote_write to it), Grafana provisioning, node_exporter

``taowatch simnet serve`` runs on the host as the chain. taowatch is installed from a wheelhouse
built on the controller (the roles' default), so the containers never reach a package index
for Python packages. Every port is an unusual one (TAOWATCH_DEPLOY_TEST_PORT_BASE, default
21000) because the containers share the host's network.

Grafana: its APT repository is not reachable from CI, so the test selects
``grafana_install_source: none`` (Grafana "already installed") and checks the provisioned
files instead of a running Grafana.

Needs root, debootstrap, systemd-container and ssh (scripts/install --test). Run alone with
``pytest tests/e2e/test_ansible_deploy.py -s`` to watch the progress lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.support import REPO
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ANSIBLE_DIR = REPO / "deploy" / "ansible"
TEST_DIR = REPO / "deploy" / "test"
BIN = Path(sys.executable).parent
CACHE = Path(os.environ.get("TAOWATCH_TEST_CACHE", "/var/cache/taowatch-test"))
BASE = int(os.environ.get("TAOWATCH_DEPLOY_TEST_PORT_BASE", "21000"))

# Every port the deployment uses, all on the host's loopback (shared network).
RUNBOOK_BASE_URL = "https://runbooks.example/taowatch/alerts/RUNBOOK.md"
GRAFANA_URL = "https://grafana.example"
PORTS = {
    "ssh_miner": BASE + 22,
    "ssh_validator": BASE + 23,
    "ssh_monitor": BASE + 24,
    "simnet": BASE + 955,
    "miner_metrics": BASE + 947,
    "miner_axon": BASE + 91,
    "validator_metrics": BASE + 948,
    "agent": BASE + 946,
    "prometheus": BASE + 90,
    "prometheus_b": BASE + 190,
    "victoriametrics": BASE + 428,
    "am1": BASE + 93,
    "am1_cluster": BASE + 94,
    "am2": BASE + 193,
    "am2_cluster": BASE + 194,
    "node_monitor": BASE + 100,
    "node_miner": BASE + 101,
    "grafana": BASE + 300,
    "dead_receiver": BASE + 999,
}
HOSTS = {"tw-miner": "ssh_miner", "tw-validator": "ssh_validator", "tw-monitor": "ssh_monitor"}
UNITS = {
    "tw-miner": ["taowatch-miner", "prometheus-node-exporter"],
    "tw-validator": ["taowatch-validator", "prometheus", "prometheus-alertmanager"],
    "tw-monitor": [
        "taowatch-agent",
        "prometheus",
        "victoria-metrics",
        "prometheus-alertmanager",
        "prometheus-node-exporter",
    ],
}
SECRETS = {
    "slack": "https://hooks.slack.example.invalid/services/T0/B0/deploy-test-slack-secret",
    "pagerduty": "deploytestpagerdutyroutingkey0001",
    "heartbeat": "deploy-test-heartbeat-token-0001",
    "grafana": "deploy-test-grafana-admin-password",
}
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.M,
)


def progress(msg: str) -> None:
    print(f"[deploy-test {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Run:
    rc: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        return {
            m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
            for m in RECAP.finditer(self.output)
        }


@dataclass
class Deployment:
    work: Path
    inventory: Path
    vault_password: Path
    key: Path
    roots: dict[str, Path]
    coldkey_secrets: list[str]
    hotkeys: dict[str, str]
    runs: list[Run] = field(default_factory=list)

    def ssh(self, host: str, command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                "ssh", "-i", str(self.key), "-p", str(PORTS[HOSTS[host]]),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
                "root@127.0.0.1", command,
            ],
            capture_output=True, text=True, timeout=120, check=check,
        )  # fmt: skip

    def playbook(self, *extra: str, label: str) -> Run:
        progress(f"ansible-playbook site.yml ({label})")
        started = time.monotonic()
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"),
            ANSIBLE_HOST_KEY_CHECKING="False",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=str(self.work / "ansible-tmp"),
            PATH=f"{BIN}:{os.environ.get('PATH', '')}",
        )
        proc = subprocess.run(
            [
                str(BIN / "ansible-playbook"), "-i", str(self.inventory),
                "--vault-password-file", str(self.vault_password),
                str(ANSIBLE_DIR / "site.yml"), *extra,
            ],
            capture_output=True, text=True, env=env, timeout=1200, cwd=ANSIBLE_DIR,
        )  # fmt: skip
        run = Run(proc.returncode, proc.stdout + proc.stderr)
        progress(f"  rc={run.rc} in {time.monotonic() - started:.0f} s, recap {run.recap()}")
        return run

    def journal(self) -> str:
        out = []
        for host, units in UNITS.items():
            for unit in units:
                res = self.ssh(host, f"journalctl -u {unit} --no-pager -n 40", check=False)
                out.append(f"--- {host}: journalctl -u {unit}\n{res.stdout}{res.stderr}")
        return "\n".join(out)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _wait_for(what: str, check, timeout: float = 120.0, interval: float = 0.5):
    # Inside freshly booted containers anything may raise while a service is still starting.
    return eventually_sync(
        check, what=what, timeout=timeout, every=interval, tolerating=(Exception,)
    )


def _http_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def _http_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


def _make_keys(work: Path) -> tuple[dict[str, str], dict[str, str], str, list[str]]:
    """Hotkey files for the two neurons, one coldkey (private parts only on the controller)."""
    import bittensor as bt

    wallets = work / "controller-wallets"
    cold = bt.Wallet(name="operator", hotkey="miner", path=str(wallets))
    cold.create_new_coldkey(use_password=False, suppress=True)
    keyfiles, hotkeys = {}, {}
    for role in ("miner", "validator"):
        w = bt.Wallet(name="operator", hotkey=role, path=str(wallets))
        w.create_new_hotkey(use_password=False, suppress=True)
        text = (wallets / "operator" / "hotkeys" / role).read_text()
        keyfiles[role] = text
        hotkeys[role] = json.loads(text)["ss58Address"]
    coldkey = json.loads((wallets / "operator" / "coldkey").read_text())
    secrets = [coldkey["secretPhrase"], coldkey["privateKey"], coldkey["secretSeed"]]
    secrets = [s.removeprefix("0x") for s in secrets]
    return keyfiles, hotkeys, coldkey["ss58Address"], secrets


def _write_inventory(work: Path, key: Path, keyfiles, hotkeys, coldkey_ss58) -> tuple[Path, Path]:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    inv = work / "inventory"
    (inv / "group_vars" / "all").mkdir(parents=True)
    dead = f"http://127.0.0.1:{PORTS['dead_receiver']}"
    hosts = {
        "all": {
            "children": {
                "taowatch_miners": {"hosts": {"tw-miner": None}},
                "taowatch_validators": {"hosts": {"tw-validator": None}},
                "taowatch_agents": {"hosts": {"tw-monitor": None}},
                "prometheus": {"hosts": {"tw-monitor": None, "tw-validator": None}},
                "victoriametrics": {"hosts": {"tw-monitor": None}},
                "alertmanager": {"hosts": {"tw-monitor": None, "tw-validator": None}},
                "grafana": {"hosts": {"tw-monitor": None}},
                "node_exporter": {"hosts": {"tw-monitor": None, "tw-miner": None}},
            }
        }
    }
    host_vars = {
        "tw-miner": {
            "ansible_port": PORTS["ssh_miner"],
            "taowatch_neuron_metrics_port": PORTS["miner_metrics"],
            "taowatch_neuron_axon_port": PORTS["miner_axon"],
            "taowatch_neuron_axon_listen_address": "127.0.0.1",
            "taowatch_neuron_axon_external_ip": "127.0.0.1",
            "taowatch_neuron_wallet_hotkey": "miner",
            "taowatch_neuron_hotkey_keyfile": "{{ vault_miner_hotkey_keyfile }}",
            "node_exporter_web_listen_port": PORTS["node_miner"],
        },
        "tw-validator": {
            "ansible_port": PORTS["ssh_validator"],
            "taowatch_neuron_metrics_port": PORTS["validator_metrics"],
            "taowatch_neuron_wallet_hotkey": "validator",
            "taowatch_neuron_hotkey_keyfile": "{{ vault_validator_hotkey_keyfile }}",
            "alertmanager_web_listen_port": PORTS["am2"],
            "prometheus_web_listen_port": PORTS["prometheus_b"],
            "alertmanager_cluster_port": PORTS["am2_cluster"],
        },
        "tw-monitor": {
            "ansible_port": PORTS["ssh_monitor"],
            "alertmanager_web_listen_port": PORTS["am1"],
            "victoriametrics_listen_port": PORTS["victoriametrics"],
            "alertmanager_cluster_port": PORTS["am1_cluster"],
            "node_exporter_web_listen_port": PORTS["node_monitor"],
        },
    }
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    (inv / "host_vars").mkdir()
    for host, hv in host_vars.items():
        (inv / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(hv, sort_keys=False))
    network = f"sim://127.0.0.1:{PORTS['simnet']}"
    common = {
        "ansible_host": "127.0.0.1",
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(key),
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "ansible_python_interpreter": "/usr/bin/python3",
        "taowatch_neuron_version": version,
        "taowatch_agent_version": version,
        # Built once per run on the controller: the source changes without version bumps here.
        "taowatch_neuron_wheelhouse_dir": str(work / "wheelhouse"),
        "taowatch_agent_wheelhouse_dir": str(work / "wheelhouse"),
        "taowatch_neuron_chain_network": network,
        "taowatch_agent_chain_network": network,
        "taowatch_neuron_wallet_name": "operator",
        "taowatch_neuron_coldkey_ss58": coldkey_ss58,
        "taowatch_agent_listen_port": PORTS["agent"],
        "taowatch_agent_watch": [{"netuid": 1, "hotkeys": sorted(hotkeys.values())}],
        "taowatch_agent_export_all_neurons": [1],
        "prometheus_web_listen_port": PORTS["prometheus"],
        # Alert links rendered for this deployment (alerts/generate.py on the controller).
        "prometheus_runbook_base_url": RUNBOOK_BASE_URL,
        "prometheus_grafana_url": GRAFANA_URL,
        "prometheus_global": {
            "scrape_interval": "5s",
            "scrape_timeout": "4s",
            "evaluation_interval": "5s",
        },
        "alertmanager_slack_api_url": "{{ vault_slack_api_url }}",
        "alertmanager_pagerduty_routing_key": "{{ vault_pagerduty_routing_key }}",
        "alertmanager_heartbeat_token": "{{ vault_heartbeat_token }}",
        "alertmanager_pagerduty_url": f"{dead}/pagerduty",
        "alertmanager_heartbeat_url": f"{dead}/heartbeat",
        # Grafana's APT repository is not reachable in CI: provision an "already installed"
        # Grafana and check the files (see the module docstring).
        "grafana_install_source": "none",
        "grafana_http_port": PORTS["grafana"],
        "grafana_admin_password": "{{ vault_grafana_admin_password }}",
        "grafana_datasource_url": f"http://127.0.0.1:{PORTS['prometheus']}",
    }
    (inv / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump(common, sort_keys=False))
    vault = inv / "group_vars" / "all" / "vault.yml"
    vault.write_text(
        yaml.safe_dump(
            {
                "vault_miner_hotkey_keyfile": keyfiles["miner"],
                "vault_validator_hotkey_keyfile": keyfiles["validator"],
                "vault_slack_api_url": SECRETS["slack"],
                "vault_pagerduty_routing_key": SECRETS["pagerduty"],
                "vault_heartbeat_token": SECRETS["heartbeat"],
                "vault_grafana_admin_password": SECRETS["grafana"],
            }
        )
    )
    password = work / "vault-password"
    password.write_text(os.urandom(16).hex() + "\n")
    subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password), str(vault)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert vault.read_text().startswith("$ANSIBLE_VAULT")
    return inv / "hosts.yml", password


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    if os.geteuid() != 0:
        pytest.fail("the container test needs root (systemd-nspawn, debootstrap)")
    for tool in ("debootstrap", "systemd-nspawn", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/install --test")
    busy = [f"{name}={port}" for name, port in PORTS.items() if not _port_free(port)]
    if busy:
        pytest.fail(
            f"ports in use on 127.0.0.1: {', '.join(busy)}; stop what uses them or set "
            "TAOWATCH_DEPLOY_TEST_PORT_BASE to another base"
        )
    started = time.monotonic()
    # pytest's tmp dir (on disk): the three container roots grow to ~1.5 GB each.
    work = Path(tmp_path_factory.mktemp("deploy", numbered=True))
    progress(f"work dir {work}")
    progress("root filesystem (debootstrap on the first run, then cached)")
    tarball = subprocess.run(
        [str(TEST_DIR / "rootfs.sh"), str(CACHE)], capture_output=True, text=True, timeout=900
    )
    assert tarball.returncode == 0, tarball.stderr
    tarball_path = tarball.stdout.strip().splitlines()[-1]
    key = work / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    keyfiles, hotkeys, coldkey_ss58, coldkey_secrets = _make_keys(work)
    inventory, password = _write_inventory(work, key, keyfiles, hotkeys, coldkey_ss58)
    roots = {host: work / "machines" / host for host in HOSTS}
    (work / "machines").mkdir()
    dep = Deployment(work, inventory, password, key, roots, coldkey_secrets, hotkeys)
    simnet = None
    try:
        for host, port_name in HOSTS.items():
            progress(f"boot {host} (ssh on 127.0.0.1:{PORTS[port_name]})")
            subprocess.run(
                [str(TEST_DIR / "container.sh"), "up", host, str(roots[host]), tarball_path,
                 str(PORTS[port_name]), f"{key}.pub"],
                check=True, timeout=300,
            )  # fmt: skip
        progress(f"simnet on 127.0.0.1:{PORTS['simnet']}")
        simnet = subprocess.Popen(
            [str(BIN / "taowatch"), "simnet", "serve", "--port", str(PORTS["simnet"]), "--fast"],
            stdout=subprocess.DEVNULL, stderr=(work / "simnet.log").open("w"),
        )  # fmt: skip
        for host in HOSTS:
            _wait_for(f"ssh into {host}", lambda h=host: dep.ssh(h, "true").returncode == 0)
        dep.runs.append(dep.playbook(label="first run"))
        if dep.runs[0].rc != 0:
            print(dep.runs[0].output[-15000:])
            print(dep.journal())
        yield dep
    finally:
        progress("tear down")
        if simnet is not None:
            simnet.terminate()
            try:
                simnet.wait(timeout=20)
            except subprocess.TimeoutExpired:
                simnet.kill()
        for host in HOSTS:
            subprocess.run(
                [str(TEST_DIR / "container.sh"), "down", host, str(roots[host])], timeout=120
            )
        progress(f"done in {time.monotonic() - started:.0f} s")


@pytest.fixture
def converged(deployment: Deployment) -> Deployment:
    first = deployment.runs[0]
    assert first.rc == 0, f"the first run failed:\n{first.output[-6000:]}"
    return deployment


def test_the_first_run_converges_every_host(converged: Deployment):
    recap = converged.runs[0].recap()
    assert set(recap) >= set(HOSTS), recap
    assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values()), recap


def test_every_unit_is_active_and_enabled(converged: Deployment):
    for host, units in UNITS.items():
        for unit in units:
            # A crash-looping unit flips between activating and active: ask until it settles.
            def active(h=host, u=unit):
                res = converged.ssh(h, f"systemctl is-active {u}", check=False)
                return res.stdout.strip() == "active"

            try:
                _wait_for(f"{unit} active on {host}", active, timeout=60)
            except AssertionError:
                print(converged.journal())
                raise
            enabled = converged.ssh(host, f"systemctl is-enabled {unit}", check=False)
            assert enabled.stdout.strip() == "enabled", (host, unit, enabled.stdout)


def test_taowatch_units_are_hardened_and_restart_always(converged: Deployment):
    for host, unit in (
        ("tw-miner", "taowatch-miner"),
        ("tw-validator", "taowatch-validator"),
        ("tw-monitor", "taowatch-agent"),
    ):
        res = converged.ssh(
            host,
            f"systemctl show {unit} -p NoNewPrivileges -p ProtectSystem -p Restart "
            "-p ReadWritePaths -p User -p LimitNOFILE",
        )
        props = dict(line.split("=", 1) for line in res.stdout.strip().splitlines())
        if unit != "taowatch-agent":  # every axon connection is a descriptor
            assert props["LimitNOFILE"] == "65536", (unit, props)
        assert props["NoNewPrivileges"] == "yes", (unit, props)
        assert props["ProtectSystem"] == "strict", (unit, props)
        assert props["Restart"] == "always", (unit, props)
        assert props["User"] not in ("", "root"), (unit, props)
        assert props["ReadWritePaths"].split() == [
            "/var/lib/taowatch-agent"
            if unit == "taowatch-agent"
            else f"/var/lib/taowatch/{unit[9:]}"
        ], (unit, props)


def test_torch_is_installed_where_a_neuron_runs_and_nowhere_else(converged: Deployment):
    # The agent host gets the base install; the neuron hosts the [neuron] extra (torch).
    find_torch = (
        "/opt/taowatch/venv/bin/python -c "
        "'import importlib.util, sys; sys.exit(importlib.util.find_spec(\"torch\") is None)'"
    )
    installed = {host: converged.ssh(host, find_torch, check=False).returncode for host in HOSTS}
    assert installed == {"tw-miner": 0, "tw-validator": 0, "tw-monitor": 1}, installed
    agent = converged.ssh("tw-monitor", "/opt/taowatch/venv/bin/taowatch --version")
    assert agent.stdout.startswith("taowatch ")


def test_every_metrics_endpoint_answers(converged: Deployment):
    for name in ("miner_metrics", "validator_metrics", "agent", "node_monitor", "node_miner"):
        url = f"http://127.0.0.1:{PORTS[name]}/metrics"
        text = _wait_for(f"{url}", lambda u=url: _http_text(u), timeout=90)
        assert "# TYPE" in text, (url, text[:300])
    health = _wait_for(
        "agent /healthz", lambda: _http_text(f"http://127.0.0.1:{PORTS['agent']}/healthz")
    )
    assert health


def test_prometheus_scrapes_every_target_and_loaded_the_rules(converged: Deployment):
    api = f"http://127.0.0.1:{PORTS['prometheus']}/api/v1"
    expected = {
        ("prometheus", f"127.0.0.1:{PORTS['prometheus']}"),
        ("taowatch-neuron", f"127.0.0.1:{PORTS['miner_metrics']}"),
        ("taowatch-neuron", f"127.0.0.1:{PORTS['validator_metrics']}"),
        ("taowatch-agent", f"127.0.0.1:{PORTS['agent']}"),
        ("node", f"127.0.0.1:{PORTS['node_monitor']}"),
        ("node", f"127.0.0.1:{PORTS['node_miner']}"),
    }

    def all_up():
        targets = _http_json(f"{api}/targets")["data"]["activeTargets"]
        seen = {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in targets}
        assert set(seen) == expected, seen
        return all(h == "up" for h in seen.values()) and seen

    _wait_for("every Prometheus target up", all_up, timeout=90)
    groups = _http_json(f"{api}/rules")["data"]["groups"]
    loaded = {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
    shipped = set()
    for path in (REPO / "alerts" / "rules").glob("*.y*ml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            shipped |= {r["alert"] for r in group["rules"] if "alert" in r}
    assert shipped and loaded == shipped
    # Every alert links to this deployment's runbook and Grafana, not to repository paths.
    alerting = [r for g in groups for r in g["rules"] if r["type"] == "alerting"]
    for rule in alerting:
        anchor = f"#alert-name-{rule['name'].lower()}"
        assert rule["annotations"]["runbook_url"] == RUNBOOK_BASE_URL + anchor
        assert rule["annotations"].get("dashboard_url", GRAFANA_URL).startswith(GRAFANA_URL)
    ams = _http_json(f"{api}/alertmanagers")["data"]["activeAlertmanagers"]
    assert {a["url"] for a in ams} == {
        f"http://127.0.0.1:{PORTS['am1']}/api/v2/alerts",
        f"http://127.0.0.1:{PORTS['am2']}/api/v2/alerts",
    }


def test_victoriametrics_is_hardened_on_loopback_and_gets_both_prometheus_replicas(
    converged: Deployment,
):
    res = converged.ssh(
        "tw-monitor",
        "systemctl show victoria-metrics -p NoNewPrivileges -p ProtectSystem -p Restart "
        "-p ReadWritePaths -p User",
    )
    props = dict(line.split("=", 1) for line in res.stdout.strip().splitlines())
    assert props == {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "Restart": "always",
        "ReadWritePaths": "/var/lib/victoria-metrics",
        "User": "_victoria-metrics",
    }, props
    listening = converged.ssh("tw-monitor", "cat /etc/default/victoria-metrics").stdout
    assert f"-httpListenAddr=127.0.0.1:{PORTS['victoriametrics']}" in listening
    vm = f"http://127.0.0.1:{PORTS['victoriametrics']}/api/v1/query"

    def both_replicas():
        query = urllib.parse.urlencode({"query": 'count by (replica) (up{job="taowatch-agent"})'})
        result = _http_json(f"{vm}?{query}")["data"]["result"]
        replicas = {s["metric"].get("replica") for s in result}
        return replicas == {"tw-monitor", "tw-validator"} and replicas

    _wait_for("the agent's series from both Prometheus replicas in VictoriaMetrics", both_replicas)


def test_the_prometheus_pair_sends_to_both_alertmanagers_without_its_replica_label(
    converged: Deployment,
):
    for host, port in (
        ("tw-monitor", PORTS["prometheus"]),
        ("tw-validator", PORTS["prometheus_b"]),
    ):
        api = f"http://127.0.0.1:{port}/api/v1"
        config = yaml.safe_load(_http_json(f"{api}/status/config")["data"]["yaml"])
        assert config["global"]["external_labels"] == {"replica": host}
        relabel = config["alerting"]["alert_relabel_configs"]
        assert [(r["action"], r["regex"]) for r in relabel] == [("labeldrop", "replica")]
        assert config["remote_write"][0]["url"] == (
            f"http://127.0.0.1:{PORTS['victoriametrics']}/api/v1/write"
        )

        def both(api=api):
            ams = _http_json(f"{api}/alertmanagers")["data"]["activeAlertmanagers"]
            return {a["url"] for a in ams} == {
                f"http://127.0.0.1:{PORTS['am1']}/api/v2/alerts",
                f"http://127.0.0.1:{PORTS['am2']}/api/v2/alerts",
            }

        _wait_for(f"Prometheus on {host} to know both Alertmanagers", both)


def test_the_alertmanager_pair_forms_a_cluster_with_the_repo_config(converged: Deployment):
    for port in (PORTS["am1"], PORTS["am2"]):

        def clustered(p=port):
            status = _http_json(f"http://127.0.0.1:{p}/api/v2/status")
            return (
                len(status["cluster"]["peers"]) == 2
                and status["cluster"]["status"] == "ready"
                and status
            )

        status = _wait_for(f"Alertmanager on {port} in a cluster of two", clustered, timeout=90)
        config = yaml.safe_load(status["config"]["original"])
        receivers = {r["name"]: r for r in config["receivers"]}
        slack = receivers["slack-warning"]["slack_configs"][0]
        assert slack["api_url_file"] == "/etc/prometheus/alertmanager-secrets/slack_api_url"
        pd = receivers["critical"]["pagerduty_configs"][0]
        assert (
            pd["routing_key_file"] == "/etc/prometheus/alertmanager-secrets/pagerduty_routing_key"
        )
        assert "${" not in status["config"]["original"]
        # Alertmanager prints secrets as <secret>; the files must be the only place they live.
        assert SECRETS["slack"] not in status["config"]["original"]


def test_secret_files_are_private_to_their_service(converged: Deployment):
    expected = {
        "tw-miner": {
            "/etc/taowatch/wallets/operator/hotkeys/miner": "600 taowatch taowatch",
            "/etc/taowatch/wallets/operator": "700 taowatch taowatch",
            "/etc/taowatch/miner.yaml": "640 root taowatch",
        },
        "tw-validator": {
            "/etc/taowatch/wallets/operator/hotkeys/validator": "600 taowatch taowatch",
            "/etc/prometheus/alertmanager-secrets/slack_api_url": "640 root prometheus",
        },
        "tw-monitor": {
            "/etc/prometheus/alertmanager-secrets/slack_api_url": "640 root prometheus",
            "/etc/prometheus/alertmanager-secrets/pagerduty_routing_key": "640 root prometheus",
            "/etc/prometheus/alertmanager-secrets/heartbeat_token": "640 root prometheus",
            "/etc/prometheus/alertmanager-secrets": "750 root prometheus",
            "/etc/grafana/admin_password": "640 root grafana",
            "/etc/taowatch/agent.yaml": "640 root taowatch-agent",
        },
    }
    for host, files in expected.items():
        for path, want in files.items():
            got = converged.ssh(host, f"stat -c '%a %U %G' {path}").stdout.strip()
            assert got == want, (host, path, got)
    secret = converged.ssh("tw-monitor", "cat /etc/prometheus/alertmanager-secrets/slack_api_url")
    assert secret.stdout == SECRETS["slack"]


def test_grafana_provisioning_files_are_in_place_without_installing_grafana(
    converged: Deployment,
):
    # grafana_install_source: none (the APT repository is unreachable in CI): no package, but
    # the datasource, the dashboard provider and every dashboard are provisioned.
    root = converged.roots["tw-monitor"]
    assert not (root / "usr/sbin/grafana-server").exists()
    ds = yaml.safe_load((root / "etc/grafana/provisioning/datasources/taowatch.yml").read_text())
    repo_ds = yaml.safe_load((REPO / "grafana/provisioning/datasources/taowatch.yml").read_text())
    assert ds["datasources"][0]["url"] == f"http://127.0.0.1:{PORTS['prometheus']}"
    assert ds["datasources"][0]["uid"] == repo_ds["datasources"][0]["uid"]
    prov = yaml.safe_load((root / "etc/grafana/provisioning/dashboards/taowatch.yml").read_text())
    assert prov["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
    shipped = sorted(p.name for p in (REPO / "grafana/dashboards").glob("*.json"))
    installed = sorted(p.name for p in (root / "etc/grafana/dashboards/taowatch").iterdir())
    assert shipped and installed == shipped
    for name in shipped:
        assert (root / "etc/grafana/dashboards/taowatch" / name).read_bytes() == (
            REPO / "grafana/dashboards" / name
        ).read_bytes()


def test_no_coldkey_private_key_is_anywhere_in_the_containers(converged: Deployment):
    for host, root in converged.roots.items():
        found = subprocess.run(
            ["find", str(root), "-xdev", "-type", "f", "-name", "coldkey"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert found.stdout == "", (host, found.stdout)
        # The coldkey's mnemonic and private key, searched byte for byte in every file.
        grep = subprocess.run(
            ["grep", "-r", "-l", "-F", "-s", "--devices=skip",
             *[a for s in converged.coldkey_secrets for a in ("-e", s)], str(root)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert grep.returncode == 1 and grep.stdout == "", (host, grep.stdout)
        # ...while the public address is there, so the search would see a key if one were.
        pub = root / "etc/taowatch/wallets/operator/coldkeypub.txt"
        if host != "tw-monitor":
            assert json.loads(pub.read_text())["ss58Address"]


def test_secrets_never_appear_in_the_playbook_output(converged: Deployment):
    out = converged.runs[0].output
    for value in SECRETS.values():
        assert value not in out
    # The hotkeys' private parts neither.
    for role in ("miner", "validator"):
        text = (
            converged.roots[f"tw-{role}"] / f"etc/taowatch/wallets/operator/hotkeys/{role}"
        ).read_text()
        assert json.loads(text)["secretPhrase"] not in out


def test_a_second_run_changes_nothing(converged: Deployment):
    second = converged.playbook(label="second run, idempotence")
    converged.runs.append(second)
    assert second.rc == 0, second.output[-6000:]
    recap = second.recap()
    changed = {host: r["changed"] for host, r in recap.items() if r["changed"]}
    if changed:
        print("\n".join(line for line in second.output.splitlines() if line.startswith("changed:")))
    assert set(recap) >= set(HOSTS) and not changed, changed


def test_preflight_refuses_a_coldkey_private_key_in_the_inventory(converged: Deployment):
    coldkey_file = converged.work / "controller-wallets" / "operator" / "coldkey"
    leak = converged.work / "leak.yml"
    leak.write_text(yaml.safe_dump({"my_coldkey_backup": coldkey_file.read_text()}))
    run = converged.playbook(
        "--limit",
        "tw-miner",
        "-e",
        f"@{leak}",
        "--tags",
        "taowatch_neuron_preflight",
        label="coldkey in the inventory",
    )
    assert run.rc != 0
    assert "my_coldkey_backup" in run.output and "coldkey private key" in run.output
    for secret in converged.coldkey_secrets:
        assert secret not in run.output


def test_preflight_refuses_a_host_that_holds_a_coldkey_file(converged: Deployment):
    stray = converged.roots["tw-validator"] / "root/.bittensor/wallets/old/coldkey"
    stray.parent.mkdir(parents=True)
    stray.write_text("$NACL-not-really-a-key")
    try:
        run = converged.playbook(
            "--limit",
            "tw-validator",
            "--tags",
            "taowatch_neuron_preflight",
            label="coldkey file on the host",
        )
    finally:
        shutil.rmtree(converged.roots["tw-validator"] / "root/.bittensor")
    assert run.rc != 0
    assert "/root/.bittensor/wallets/old/coldkey" in run.output
