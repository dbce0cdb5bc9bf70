"""The Alertmanager config: valid, routes each severity right, inhibits what it should."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from alerts import generate as gen
from taowatch.stack import find_binary, free_port
from tests.support import REPO as ROOT
from tests.support.waiting import eventually_sync

AM_DIR = ROOT / "alerts" / "alertmanager"
EXAMPLE = AM_DIR / "alertmanager.example.yml"


def _alerts_by_severity() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / "alerts" / "rules").glob("*.rules.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    out.setdefault(rule["labels"]["severity"], set()).add(rule["alert"])
    return out


def _route(*labels: str) -> str:
    result = subprocess.run(
        ["amtool", "config", "routes", "test", f"--config.file={EXAMPLE}", *labels],
        capture_output=True,
        text=True,
        cwd=AM_DIR,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_the_example_config_passes_amtool_check_config():
    result = subprocess.run(
        ["amtool", "check-config", str(EXAMPLE)], capture_output=True, text=True, cwd=AM_DIR
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout  # the notification templates were found and parsed


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=TaowatchWatchdog", "severity=info"], "heartbeat"),
        (["alertname=BittensorNeuronDeregistered", "severity=critical", "hotkey=5H"], "critical"),
        (["alertname=BittensorNeuronStakeDrop", "severity=warning", "hotkey=5H"], "slack-warning"),
        (["alertname=BittensorColdkeySwapAnnounced", "severity=critical", "coldkey=5C"],
         "critical"),
        (["alertname=BittensorColdkeySwapChanged", "severity=critical", "action=reset"],
         "critical"),
        (["alertname=BittensorDelegateTakeChanged", "severity=warning", "hotkey=5H"],
         "slack-warning"),
        (["alertname=SomethingInformational", "severity=info"], "blackhole"),
        (["alertname=BittensorChainRuntimeUpgraded", "severity=info", "notify=once"],
         "slack-warning"),
        (["alertname=UnlabelledByMistake"], "slack-warning"),
    ],
)  # fmt: skip
def test_amtool_routes_each_kind_of_alert_to_its_receiver(labels, receiver):
    assert _route(*labels) == receiver


def test_every_alert_in_the_rules_routes_by_its_severity():
    expected = {"critical": "critical", "warning": "slack-warning", "info": "blackhole"}
    for severity, names in _alerts_by_severity().items():
        for name in names:
            want = "heartbeat" if name == "TaowatchWatchdog" else expected[severity]
            assert _route(f"alertname={name}", f"severity={severity}") == want, name


def test_secrets_are_only_read_from_files():
    config = yaml.safe_load(EXAMPLE.read_text())
    text = json.dumps(config)
    for inline in ('"api_url"', '"routing_key"', '"service_key"', '"credentials"'):
        assert inline not in text, f"{inline} must be a *_file field"
    critical = next(r for r in config["receivers"] if r["name"] == "critical")
    assert critical["pagerduty_configs"][0]["routing_key_file"]
    assert critical["slack_configs"][0]["api_url_file"]


def test_groups_are_per_alert_subnet_and_hotkey_and_resolves_are_sent():
    config = yaml.safe_load(EXAMPLE.read_text())
    assert config["route"]["group_by"] == [
        "alertname", "netuid", "hotkey", "coldkey", "action", "stage", "name",
    ]  # fmt: skip
    for receiver in config["receivers"]:
        for kind in ("slack_configs", "pagerduty_configs"):
            for integration in receiver.get(kind, []):
                assert integration["send_resolved"] is True, receiver["name"]


# --- inhibition, checked by a real Alertmanager ---------------------------------------------


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("am")
    settings = gen.AlertmanagerSettings(
        slack_api_url_file=str(work / "slack"),
        pagerduty_routing_key_file=str(work / "pd"),
        pagerduty_url="http://127.0.0.1:9/v2/enqueue",  # discard port: never reached
        heartbeat_url="http://127.0.0.1:9/heartbeat",
        heartbeat_credentials_file=str(work / "hb"),
        template_file=str(AM_DIR / "taowatch.tmpl"),
    )
    for name in ("slack", "pd", "hb"):
        (work / name).write_text("http://127.0.0.1:9/" if name == "slack" else "x" * 32)
    # Long group_wait: this test looks at inhibition, not at deliveries.
    thresholds = {**gen.load_thresholds(), "alertmanager_group_wait": "10m"}
    (work / "am.yml").write_text(gen.render_alertmanager(thresholds, settings))
    port = free_port()
    proc = subprocess.Popen(
        [
            find_binary("prometheus-alertmanager", "alertmanager"),
            f"--config.file={work / 'am.yml'}",
            f"--storage.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"alertmanager exited ({proc.returncode}) before it was ready")
        urllib.request.urlopen(url + "/-/ready", timeout=1).close()
        return True

    try:
        eventually_sync(ready, what="alertmanager /-/ready", tolerating=(OSError,))
    except BaseException:
        proc.kill()
        raise
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _post(url: str, *alerts: dict[str, str]) -> None:
    now = datetime.now(UTC)
    body = [
        {
            "labels": labels,
            "annotations": {"summary": "test."},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=10)).isoformat(),
        }
        for labels in alerts
    ]
    req = urllib.request.Request(
        url + "/api/v2/alerts",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=5).close()


def _state(url: str, **labels: str) -> str:
    for alert in _get(url + "/api/v2/alerts"):  # type: ignore[union-attr]
        if all(alert["labels"].get(k) == v for k, v in labels.items()):
            return alert["status"]["state"]
    raise AssertionError(f"alert {labels} not found")


def _alert(name: str, severity: str, **labels: str) -> dict[str, str]:
    return {"alertname": name, "severity": severity, **labels}


def test_a_deregistration_inhibits_that_hotkeys_runtime_down_and_stale_alerts_only(alertmanager):
    gone, alive = {"netuid": "1", "hotkey": "5Gone"}, {"netuid": "1", "hotkey": "5Alive"}
    _post(
        alertmanager,
        _alert("BittensorNeuronDeregistered", "critical", **gone),
        _alert("BittensorNeuronRuntimeDown", "critical", **gone),
        _alert("BittensorNeuronMetagraphStale", "warning", **gone),
        _alert("BittensorNeuronRuntimeDown", "critical", **alive),
    )
    assert _state(alertmanager, alertname="BittensorNeuronRuntimeDown", **gone) == "suppressed"
    assert _state(alertmanager, alertname="BittensorNeuronMetagraphStale", **gone) == "suppressed"
    assert _state(alertmanager, alertname="BittensorNeuronRuntimeDown", **alive) == "active"
    assert _state(alertmanager, alertname="BittensorNeuronDeregistered", **gone) == "active"


def test_a_critical_alert_inhibits_warnings_of_the_same_hotkey_but_not_of_others(alertmanager):
    drop, other = {"netuid": "2", "hotkey": "5Drop"}, {"netuid": "2", "hotkey": "5Other"}
    _post(
        alertmanager,
        _alert("BittensorNeuronStakeDrop", "critical", **drop),
        _alert("BittensorNeuronStakeDrop", "warning", **drop),
        _alert("BittensorNeuronStakeDrop", "warning", **other),
        _alert("BittensorChainFinalizationLag", "warning", instance="a:9946"),
        _alert("BittensorExporterDown", "critical", instance="b:9946"),
    )
    warning = {"alertname": "BittensorNeuronStakeDrop", "severity": "warning"}
    assert _state(alertmanager, **warning, **drop) == "suppressed"
    assert _state(alertmanager, **warning, **other) == "active"
    # A critical without a hotkey does not silence every hotkey-less warning.
    assert _state(alertmanager, alertname="BittensorChainFinalizationLag") == "active"


def test_every_rpc_endpoint_down_inhibits_the_exporters_symptoms_on_that_instance(alertmanager):
    c = {"job": "taowatch-agent", "instance": "c:9946"}
    d = {"job": "taowatch-agent", "instance": "d:9946"}
    _post(
        alertmanager,
        _alert("BittensorRpcEndpointsAllDown", "critical", **c),
        _alert("BittensorExporterDataStale", "warning", **c),
        _alert("BittensorExporterDataStale", "warning", **d),
    )
    assert _state(alertmanager, alertname="BittensorExporterDataStale", **c) == "suppressed"
    assert _state(alertmanager, alertname="BittensorExporterDataStale", **d) == "active"
