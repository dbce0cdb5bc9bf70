"""The alert rules: valid, tested with promtool, generated without drift, fully annotated."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from alerts import generate as gen
from tests.support import REPO as ROOT
from tests.support.series import declared_series

ALERTS = ROOT / "alerts"
RULE_FILES = sorted((ALERTS / "rules").glob("*.rules.yaml"))
TEST_FILES = sorted((ALERTS / "tests").glob("*.yaml"))
SEVERITIES = {"critical", "warning", "info"}
PREFIXES = ("Bittensor", "Taowatch")
# Self-metrics of Prometheus and Alertmanager that the pipeline alerts read.
PIPELINE_METRICS = {
    "up",
    "prometheus_rule_evaluation_failures_total",
    "alertmanager_notifications_failed_total",
}


def _rules() -> list[dict]:
    out = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            out += group["rules"]
    return out


def _alerts() -> list[dict]:
    return [r for r in _rules() if "alert" in r]


def _alert_names() -> set[str]:
    return {r["alert"] for r in _alerts()}


def test_the_generated_rule_files_pass_promtool_check_rules():
    assert RULE_FILES, "no generated rule files in alerts/rules"
    result = subprocess.run(
        ["promtool", "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_promtool_rule_test_passes():
    assert TEST_FILES
    result = subprocess.run(
        ["promtool", "test", "rules", *map(str, TEST_FILES)],
        capture_output=True,
        text=True,
        cwd=ALERTS / "tests",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generator_reads_this_checkouts_alerts_folder_as_package_data():
    assert Path(str(gen.ALERTS_DIR)).resolve() == ALERTS


def test_the_committed_generated_files_match_the_templates_and_thresholds():
    for relative, text in gen.generated_files().items():
        path = ALERTS / relative
        assert path.exists(), f"{path} missing: run .venv/bin/python -m alerts.generate"
        assert path.read_text() == text, (
            f"{path.relative_to(ROOT)} is out of date: run .venv/bin/python -m alerts.generate"
        )
    committed = {f"rules/{p.name}" for p in RULE_FILES}
    expected = {r for r in gen.generated_files() if r.startswith("rules/")}
    assert committed == expected, "alerts/rules has files no template produces"
    assert gen.stale_files(gen.generated_files()) == []
    assert gen.main(["--check"]) == 0


def test_check_mode_names_an_edited_rule_file_and_one_no_template_produces(tmp_path, capsys):
    copy = tmp_path / "alerts"
    shutil.copytree(ALERTS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    edited = copy / "rules" / "chain.rules.yaml"
    edited.write_text(edited.read_text() + "# hand edit\n")
    (copy / "rules" / "renamed.rules.yaml").write_text("groups: []\n")

    stale = gen.stale_files(gen.generated_files(), copy)

    assert stale == ["rules/chain.rules.yaml", "rules/renamed.rules.yaml"]


def test_changing_a_threshold_changes_the_rendered_rules():
    thresholds = gen.load_thresholds()
    assert thresholds["stake_drop_warning_ratio"] == 0.1
    changed = gen.render_rules({**thresholds, "stake_drop_warning_ratio": 0.15})
    assert ") > 0.15\n" in changed["neuron.rules.yaml"]
    assert ") > 0.1\n" in gen.render_rules(thresholds)["neuron.rules.yaml"]


def test_no_threshold_is_hard_coded_in_a_rule_template():
    # Every number in a template expression or for: is a ${knob}, except structural
    # constants: 0/1 (booleans, "registered"), 0.95 (the quantile named in the alert) and
    # 5.. (the HTTP status class).
    allowed = {"0", "1", "0.95", "5"}
    for src in sorted((ALERTS / "src").glob("*.yaml")):
        doc = yaml.safe_load(src.read_text().replace("${", "KNOB{"))
        for group in doc["groups"]:
            for rule in group["rules"]:
                expr = re.sub(r"\[[^\]]*\]", "", rule["expr"])  # range selectors are knobs
                expr = re.sub(r'"[^"]*"', "", expr)  # label values
                numbers = set(re.findall(r"(?<![\w.{])\d+(?:\.\d+)?(?![\w.])", expr))
                assert numbers <= allowed, f"{src.name}: {rule.get('alert')}: {numbers}"
                if "for" in rule:
                    assert str(rule["for"]).startswith("KNOB{"), f"{src.name}: {rule['alert']}"


def test_every_alert_has_a_prefix_severity_static_summary_description_and_runbook_link():
    runbook = (ALERTS / "RUNBOOK.md").read_text()
    alerts = _alerts()
    assert len(_alert_names()) >= 20
    for rule in alerts:
        name = rule["alert"]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name) and name.startswith(PREFIXES), name
        assert rule["labels"]["severity"] in SEVERITIES, name
        ann = rule["annotations"]
        assert ann["summary"].endswith(".") and "{{" not in ann["summary"], name
        if name != "TaowatchWatchdog":  # always firing, it has nothing to template
            assert "{{" in ann["description"], f"{name}: description must be templated"
        anchor = f"alert-name-{name.lower()}"
        assert ann["runbook_url"] == f"alerts/RUNBOOK.md#{anchor}", name
        assert f'<a id="{anchor}"></a>' in runbook, f"RUNBOOK.md has no section for {name}"
        assert f"### Alert Name: {name}\n" in runbook, name


def test_per_hotkey_alerts_name_the_hotkey_and_netuid_in_their_description():
    for rule in _alerts():
        if "$labels.hotkey" in rule["annotations"].get("dashboard_url", ""):
            description = rule["annotations"]["description"]
            assert "$labels.hotkey" in description, rule["alert"]
            assert "$labels.netuid" in description, rule["alert"]


def test_the_runbook_has_no_section_for_an_alert_that_does_not_exist():
    anchors = set(
        re.findall(r'<a id="alert-name-([a-z0-9]+)"></a>', (ALERTS / "RUNBOOK.md").read_text())
    )
    assert anchors == {n.lower() for n in _alert_names()}


def test_every_alert_is_tested_firing_and_silent_in_a_promtool_test():
    firing: set[str] = set()
    silent: set[str] = set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = _alert_names()
    assert names - firing == set(), "alerts never tested firing"
    # The Watchdog fires unconditionally; everything else must also be shown silent.
    assert names - silent - {"TaowatchWatchdog"} == set(), "alerts never tested silent"


def _metric_kinds() -> tuple[set[str], set[str], set[str]]:
    """(all names, counters, histograms) from the series declarations."""
    declared = declared_series()
    names = {str(s) for s in declared}
    counters = {str(s) for s in declared if s.kind == "counter"}
    histograms = {str(s) for s in declared if s.kind == "histogram"}
    return names, counters, histograms


def test_every_metric_a_rule_reads_is_declared_in_metric_names_with_its_wire_suffix():
    names, counters, histograms = _metric_kinds()
    allowed = set(names) - counters - histograms
    allowed |= {f"{c}_total" for c in counters}
    allowed |= {f"{h}_{s}" for h in histograms for s in ("bucket", "count", "sum")}
    allowed |= PIPELINE_METRICS
    recorded = {r["record"] for r in _rules() if "record" in r}
    token = re.compile(r"(?<![:\w])([a-z_][a-z0-9_]*)(?=\s*[{\[)\s]|$)(?![:\w(])")
    keywords = {
        "and", "or", "unless", "on", "ignoring", "by", "without", "group_left",
        "group_right", "offset", "bool",
    }  # fmt: skip
    for rule in _rules():
        expr = re.sub(r"\{[^}]*\}", "{}", rule["expr"])  # drop label matchers
        expr = re.sub(r"\([^()]*\)\s*\(", "(", expr)  # label lists of by/on/without
        used = {t for t in token.findall(expr) if t not in keywords}
        used = {t for t in used if t.startswith(("bittensor_", "prometheus_", "alertmanager_"))
                or t == "up"}  # fmt: skip
        unknown = used - allowed - recorded
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: {unknown}"


def test_an_unknown_knob_in_a_template_is_an_error_naming_it(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "x.yaml").write_text(
        "groups:\n- name: x\n  rules:\n  - alert: TaowatchX\n    expr: up > ${no_such_knob}\n"
    )
    with pytest.raises(gen.GenerateError, match=r"unknown knob \$\{no_such_knob\}"):
        gen.render_rules(gen.load_thresholds(), templates=src)


def test_a_knob_no_template_uses_is_an_error_naming_it():
    with pytest.raises(gen.GenerateError, match="forgotten_knob"):
        gen.render_rules({**gen.load_thresholds(), "forgotten_knob": 3})


def test_a_malformed_threshold_value_is_refused_naming_the_knob():
    with pytest.raises(gen.GenerateError, match=r"stake_drop_window.*Prometheus duration"):
        gen.validate_thresholds({"stake_drop_window": "one hour"})
    with pytest.raises(gen.GenerateError, match="agent_job"):
        gen.validate_thresholds({"agent_job": "bad job name"})
    with pytest.raises(gen.GenerateError, match="miner_error_ratio"):
        gen.validate_thresholds({"miner_error_ratio": True})


def test_the_thresholds_file_is_flat_and_every_knob_is_commented():
    text = (ALERTS / "thresholds.yaml").read_text()
    data = yaml.safe_load(text)
    assert all(not isinstance(v, dict | list) for v in data.values())
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^([a-z][a-z0-9_]*):", line)
        if not match:
            continue
        commented = "#" in line or (i > 0 and lines[i - 1].lstrip().startswith("#"))
        # A knob may also share the comment block of the knob just above it.
        j = i - 1
        while not commented and j >= 0 and re.match(r"^[a-z][a-z0-9_]*:", lines[j]):
            commented = "#" in lines[j] or (j > 0 and lines[j - 1].lstrip().startswith("#"))
            j -= 1
        assert commented, f"thresholds.yaml: {match.group(1)} has no comment"
