"""Static checks of deploy/ansible: syntax, ansible-lint (production profile), argument specs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import REPO

ANSIBLE_DIR = REPO / "deploy" / "ansible"
EXAMPLE = ANSIBLE_DIR / "inventories" / "example"
BIN = Path(sys.executable).parent
CHECK_SPECS = REPO / "deploy" / "test" / "check_argument_specs.py"


def _env() -> dict[str, str]:
    return dict(
        os.environ,
        ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"),
        ANSIBLE_VAULT_PASSWORD_FILE=str(EXAMPLE / "EXAMPLE-vault-password.txt"),
        ANSIBLE_NOCOLOR="1",
        NO_COLOR="1",
        PATH=f"{BIN}:{os.environ.get('PATH', '')}",
    )


def test_site_yml_passes_the_syntax_check_with_the_example_inventory():
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check",
         "-i", str(EXAMPLE / "hosts.yml"), "site.yml"],
        capture_output=True, text=True, env=_env(), cwd=ANSIBLE_DIR,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_example_inventory_decrypts_with_the_example_password_and_holds_no_coldkey():
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(EXAMPLE / "hosts.yml"), "--list"],
        capture_output=True, text=True, env=_env(), cwd=ANSIBLE_DIR,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "vault_taowatch_neuron_hotkey_keyfile" in proc.stdout
    for vault in EXAMPLE.rglob("vault.yml"):
        assert vault.read_text().startswith("$ANSIBLE_VAULT;"), vault
    # Public coldkey addresses only; the keyfile fields of a private key appear nowhere.
    plain = "\n".join(p.read_text() for p in EXAMPLE.rglob("*.yml") if p.name != "vault.yml")
    assert "taowatch_neuron_coldkey_ss58" in plain
    assert "secretPhrase" not in plain and "privateKey" not in plain


def test_ansible_lint_production_profile_is_clean():
    proc = subprocess.run(
        [str(BIN / "ansible-lint"), "--offline", "deploy/ansible"],
        capture_output=True, text=True, env=_env(), cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in proc.stdout + proc.stderr


def test_every_role_documents_exactly_its_defaults():
    proc = subprocess.run([sys.executable, str(CHECK_SPECS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "argument_specs match defaults in 8 roles" in proc.stdout


def test_the_argument_spec_check_names_a_variable_that_drifted(tmp_path):
    roles = tmp_path / "roles"
    shutil.copytree(ANSIBLE_DIR / "roles" / "node_exporter", roles / "node_exporter")
    defaults = roles / "node_exporter" / "defaults" / "main.yml"
    data = yaml.safe_load(defaults.read_text())
    data["node_exporter_web_listen_port"] = 9999
    data["node_exporter_undocumented"] = True
    defaults.write_text(yaml.safe_dump(data))
    proc = subprocess.run(
        [sys.executable, str(CHECK_SPECS), str(roles)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "node_exporter_undocumented is in defaults/main.yml but not in argument_specs" in (
        proc.stdout
    )
    assert "node_exporter_web_listen_port default 9100 differs" in proc.stdout


def test_prometheus_scrape_jobs_carry_the_job_names_the_alert_rules_select():
    thresholds = yaml.safe_load((REPO / "alerts" / "thresholds.yaml").read_text())
    defaults = yaml.safe_load((ANSIBLE_DIR / "roles/prometheus/defaults/main.yml").read_text())
    jobs = {job["job_name"]: job for job in defaults["prometheus_scrape_jobs"]}
    neuron_groups = {g["group"] for g in jobs[thresholds["neuron_job"]]["groups"]}
    assert neuron_groups == {"taowatch_miners", "taowatch_validators"}
    agent_groups = {g["group"] for g in jobs[thresholds["agent_job"]]["groups"]}
    assert agent_groups == {"taowatch_agents"}
