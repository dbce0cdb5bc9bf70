"""The Grafana dashboards: generated, in sync, well-formed, and asking only real questions.

Static checks run over the committed JSON (what Grafana loads); the preview is exercised
against a fake Prometheus HTTP API so its rendering is covered without a real server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from common import metric_names
from grafana.dashboards import generate as dashgen
from taowatch import dashboards as dash
from taowatch.preview import PreviewError
from taowatch.preview.client import PanelData, Series
from taowatch.preview.page import preview
from taowatch.preview.panels import expand, iter_panels, panel_specs
from taowatch.preview.render import COLOURS, colour_for, format_value, legend_text, table_rows
from tests.support import REPO
from tests.support.dashboards import (
    DASHBOARDS,
    all_queries,
    committed,
    expanded,
    metric_tokens,
)
from tests.support.series import declared_series

PROVISIONING = REPO / "grafana" / "provisioning"
THRESHOLDS = REPO / "alerts" / "thresholds.yaml"

EXPECTED_UIDS = {
    "taowatch-fleet",
    "taowatch-neuron",
    "taowatch-validator",
    "taowatch-subnet",
    "taowatch-health",
}
# Series Prometheus itself produces, which the dashboards may use beside taowatch's own.
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "ALERTS"}


def all_panels() -> list[tuple[str, dict]]:
    return [
        (document["uid"], panel)
        for document in committed().values()
        for panel in iter_panels(document)
    ]


# --- generation ---------------------------------------------------------------------------


def test_regenerating_the_dashboards_gives_no_diff():
    assert dashgen.drift(dashgen.load_knobs(), DASHBOARDS) == []


def test_the_package_data_is_this_checkouts_dashboards_and_thresholds():
    assert Path(str(dashgen.DASHBOARDS_DIR)).resolve() == DASHBOARDS
    assert dashgen.load_knobs().values == yaml.safe_load(THRESHOLDS.read_text())


def test_check_by_default_checks_the_packaged_json(capsys):
    assert dash.main(["check"]) == 0
    assert f"dashboards are up to date in {DASHBOARDS}" in capsys.readouterr().out


def copy_tree(tmp_path: Path) -> Path:
    """A copy of the committed JSON to edit, and of the thresholds as thresholds.yaml beside."""
    target = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    shutil.copy(THRESHOLDS, tmp_path / "thresholds.yaml")
    return target


def test_check_fails_with_a_diff_summary_when_committed_json_drifts(tmp_path, capsys):
    copy = copy_tree(tmp_path)
    edited = copy / "subnet.json"
    edited.write_text(edited.read_text().replace('"Tempo"', '"Tempo (hand-edited)"'))
    (copy / "orphan.json").write_text("{}\n")

    assert dash.main(["--dir", str(copy), "check"]) == 1
    err = capsys.readouterr().err
    assert "subnet.json: differs from its builder" in err
    assert '-      "title": "Tempo (hand-edited)",' in err
    assert "orphan.json: no builder produces it any more" in err

    assert dash.main(["--dir", str(copy), "generate"]) == 0
    assert not (copy / "orphan.json").exists()
    assert dash.main(["--dir", str(copy), "check"]) == 0


def test_a_threshold_set_on_the_command_line_colours_the_panels_as_taowatch_alerts_set(
    tmp_path, capsys
):
    copy = copy_tree(tmp_path)
    args = ["--dir", str(copy), "--set", "vtrust_peer_ratio=0.55"]
    assert dash.main([*args, "check"]) == 1
    assert "validator.json: differs from its builder" in capsys.readouterr().err
    assert dash.main([*args, "generate"]) == 0
    assert '"value": 0.55' in (copy / "validator.json").read_text()
    assert dash.main(["--set", "no_such_knob=1", "check"]) == 1
    assert "--set: unknown knob(s) no_such_knob" in capsys.readouterr().err


def test_dashboard_thresholds_follow_the_alert_thresholds_file(tmp_path):
    knobs = yaml.safe_load(THRESHOLDS.read_text())
    knobs["chain_stall_seconds"] = 77
    knobs["weights_stale_warning_tempos"] = 4.5
    knobs["poll_error_ratio"] = 0.6
    knobs["endpoint_error_ratio"] = 0.4
    knobs["fresh_connection_failure_ratio"] = 0.3
    knobs["connections_near_cap_ratio"] = 0.7
    (tmp_path / "thresholds.yaml").write_text(yaml.safe_dump(knobs))

    rendered = {
        name: json.loads(text)
        for name, text in dashgen.render_all(
            dashgen.load_knobs(tmp_path / "thresholds.yaml")
        ).items()
    }

    def steps_of(filename: str, title: str) -> list:
        panel = next(p for p in iter_panels(rendered[filename]) if p["title"] == title)
        return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]

    assert 77 in steps_of("fleet-overview.json", "Head age")
    assert 77 in steps_of("taowatch-health.json", "Head age")
    assert 4.5 in steps_of("fleet-overview.json", "Tempos since last weight update")
    assert 4.5 in steps_of("validator.json", "Weight cadence in tempos")
    assert 0.6 in steps_of("taowatch-health.json", "Poll error ratio")
    assert 0.4 in steps_of("taowatch-health.json", "RPC endpoint error ratio")
    assert 0.3 in steps_of("neuron-detail.json", "Fresh-connection queries failing")
    cap = next(
        p
        for p in iter_panels(rendered["neuron-detail.json"])
        if p["title"] == "Open connections against the cap"
    )
    assert [t["expr"] for t in cap["targets"]][2].startswith("0.7 * ")


def test_the_committed_thresholds_are_the_alert_files_numbers():
    knobs = yaml.safe_load(THRESHOLDS.read_text())
    by_title = {(uid, p["title"]): p for uid, p in all_panels()}

    def steps(uid: str, title: str) -> list:
        panel = by_title[(uid, title)]
        return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]

    assert knobs["chain_stall_seconds"] in steps("taowatch-fleet", "Head age")
    assert knobs["exporter_stale_polls"] in steps("taowatch-health", "Chain data age")
    assert knobs["finalization_lag_blocks"] in steps("taowatch-health", "Finalization lag")
    assert knobs["metagraph_stale_intervals"] in steps("taowatch-neuron", "Metagraph age")
    assert knobs["miner_error_ratio"] in steps("taowatch-neuron", "Error ratio")
    assert knobs["miner_latency_p95_seconds"] in steps("taowatch-neuron", "Request latency")
    assert knobs["vtrust_peer_ratio"] in steps(
        "taowatch-validator", "Validator trust relative to median"
    )
    assert knobs["set_weights_failures"] in steps(
        "taowatch-validator", "Failed set_weights in the alert window"
    )
    drop = steps("taowatch-fleet", "Stake drop from recent peak")
    assert knobs["stake_drop_warning_ratio"] in drop
    assert knobs["stake_drop_critical_ratio"] in drop
    assert knobs["weights_stale_warning_tempos"] in steps(
        "taowatch-neuron", "Tempos since last weight update"
    )
    assert knobs["poll_error_ratio"] in steps("taowatch-health", "Poll error ratio")
    assert knobs["endpoint_error_ratio"] in steps("taowatch-health", "RPC endpoint error ratio")
    assert knobs["fresh_connection_failure_ratio"] in steps(
        "taowatch-neuron", "Fresh-connection queries failing"
    )


def test_a_missing_alert_threshold_is_named_not_a_traceback(tmp_path, capsys):
    copy = copy_tree(tmp_path)
    knobs = yaml.safe_load((tmp_path / "thresholds.yaml").read_text())
    del knobs["chain_stall_seconds"]
    (tmp_path / "thresholds.yaml").write_text(yaml.safe_dump(knobs))

    assert (
        dash.main(
            ["--dir", str(copy), "--thresholds", str(tmp_path / "thresholds.yaml"), "generate"]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "chain_stall_seconds" in err
    assert "thresholds.yaml" in err
    assert "Traceback" not in err


def test_a_thresholds_file_that_cannot_be_read_is_named_not_a_traceback(tmp_path, capsys):
    missing = tmp_path / "no-such-thresholds.yaml"
    assert dash.main(["--thresholds", str(missing), "check"]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: cannot read the thresholds file" in err
    assert "Traceback" not in err


# --- shape --------------------------------------------------------------------------------


def test_the_five_dashboards_exist_with_stable_unique_uids():
    uids = [document["uid"] for document in committed().values()]
    assert len(uids) == len(set(uids))
    assert set(uids) == EXPECTED_UIDS


def test_every_dashboard_an_alert_links_to_exists():
    linked = set()
    for path in (REPO / "alerts").rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".yml", ".tmpl", ".md"}:
            linked |= set(re.findall(r"/d/([A-Za-z0-9_-]+)", path.read_text()))
    assert linked, "the alert rules link no dashboards; this check would be vacuous"
    assert linked <= EXPECTED_UIDS


def test_every_panel_has_a_title_a_description_and_a_unit():
    missing = [
        f"{uid} / {panel.get('title')!r}"
        for uid, panel in all_panels()
        if not panel.get("title")
        or not panel.get("description")
        or not panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
    ]
    assert missing == []
    assert len(all_panels()) >= 60


def test_no_panel_or_query_hard_codes_a_datasource():
    offenders = []

    def walk(node, where):
        if isinstance(node, dict):
            source = node.get("datasource")
            if isinstance(source, dict) and source.get("uid") != "${datasource}":
                offenders.append(f"{where}: {source}")
            if isinstance(source, str):
                offenders.append(f"{where}: {source!r}")
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    for name, document in committed().items():
        walk(document, name)
        text = json.dumps(document)
        assert "DS_" not in text and "__inputs" not in document, name
        variable = document["templating"]["list"][0]
        assert (variable["name"], variable["type"], variable["query"]) == (
            "datasource",
            "datasource",
            "prometheus",
        )
    assert offenders == []


def test_committed_json_has_no_ids_or_versions():
    for name, document in committed().items():
        assert "id" not in document and "version" not in document, name
        for panel in document["panels"]:
            assert "id" not in panel, f"{name} / {panel['title']}"
            for inner in panel.get("panels", []):
                assert "id" not in inner, f"{name} / {inner['title']}"


def test_neuron_dashboards_have_netuid_and_hotkey_label_variables():
    for document in committed().values():
        variables = {v["name"]: v for v in document["templating"]["list"]}
        if document["uid"] in {"taowatch-health"}:
            continue
        assert "netuid" in variables, document["uid"]
        assert variables["netuid"]["query"]["query"].startswith("label_values(")
        if document["uid"] != "taowatch-subnet":
            assert variables["hotkey"]["query"]["query"].startswith("label_values(")
            assert "$netuid" in variables["hotkey"]["query"]["query"]


def test_neuron_detail_annotates_registration_stake_and_weight_changes():
    document = committed()["neuron-detail.json"]
    annotations = {a["name"]: a for a in document["annotations"]["list"]}
    assert set(annotations) >= {"Registration changes", "Stake changes", "Weight updates"}
    assert metric_names.Exporter.NEURON_REGISTERED in annotations["Registration changes"]["expr"]
    assert metric_names.Exporter.NEURON_STAKE_TAO in annotations["Stake changes"]["expr"]
    weights = annotations["Weight updates"]["expr"]
    assert metric_names.Exporter.NEURON_LAST_UPDATE_BLOCK in weights
    for annotation in annotations.values():
        assert annotation["titleFormat"] and annotation["textFormat"]


def test_every_range_window_is_the_rate_interval_or_an_alert_window():
    alert_windows = {
        value for value in yaml.safe_load(THRESHOLDS.read_text()).values() if isinstance(value, str)
    }
    windows = [
        (where, window)
        for where, expr in all_queries()
        for window in re.findall(r"\[([^\]]+)\]", expr)
    ]
    assert windows
    assert [
        (where, window)
        for where, window in windows
        if window != "$__rate_interval" and window not in alert_windows
    ] == []


# --- queries ------------------------------------------------------------------------------


def test_every_query_parses_with_promtool(tmp_path):
    queries = all_queries()
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [
                    {"record": f"dashboard_query_{index}", "expr": expanded(expr)}
                    for index, (_, expr) in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    index = {f"dashboard_query_{i}": where for i, (where, _) in enumerate(queries)}
    assert result.returncode == 0, (result.stdout + result.stderr, index)
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_promtool_check_catches_a_broken_query(tmp_path):
    # The check above is only worth something if promtool rejects what Grafana would reject.
    path = tmp_path / "queries.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "g",
                        "rules": [
                            {
                                "record": "broken",
                                "expr": expanded(
                                    'sum by (netuid (bittensor_neuron_uid{netuid=~"$netuid"})'
                                ),
                            }
                        ],
                    }
                ]
            }
        )
    )
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def metric_kinds() -> dict[str, str]:
    """Every declared series with its kind."""
    return {str(s): s.kind for s in declared_series()}


def wire_names() -> set[str]:
    names = set()
    for name, kind in metric_kinds().items():
        if kind == "counter":
            names.add(f"{name}_total")
        elif kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        else:
            names.add(name)
    return names


def test_the_metric_name_scanner_finds_metrics_and_only_metrics():
    found = metric_tokens(
        "sum by (le, hotkey) (rate(bittensor_axon_request_duration_seconds_bucket"
        '{hotkey=~"$hotkey", status=~"5.."}[5m])) / on (netuid) group_left () '
        "max by (netuid) (bittensor_subnet_tempo_blocks) > bool 0 or vector(0) and up"
    )
    assert found == {
        "bittensor_axon_request_duration_seconds_bucket",
        "bittensor_subnet_tempo_blocks",
        "up",
    }


def test_every_metric_a_query_names_is_in_metric_names():
    known = wire_names() | PROMETHEUS_OWN
    unknown = sorted(
        (where, name)
        for where, expr in all_queries()
        for name in metric_tokens(expanded(expr))
        if name not in known
    )
    assert unknown == []
    used = {name for _, expr in all_queries() for name in metric_tokens(expanded(expr))}
    # Counters are read through their _total series; a bare counter name selects nothing.
    assert f"{metric_names.Exporter.NEURON_DEREGISTRATIONS}_total" in used


def test_variable_queries_name_known_metrics():
    known = wire_names()
    for document in committed().values():
        for variable in document["templating"]["list"]:
            if variable["type"] != "query":
                continue
            query = variable["query"]["query"]
            metric = re.match(r"label_values\((\w+)", query).group(1)
            assert metric in known, (document["uid"], query)


# --- provisioning -------------------------------------------------------------------------


def test_the_datasource_is_provisioned_with_a_fixed_uid():
    document = yaml.safe_load((PROVISIONING / "datasources" / "taowatch.yml").read_text())
    assert document["apiVersion"] == 1
    (prometheus,) = [d for d in document["datasources"] if d["type"] == "prometheus"]
    assert prometheus["uid"] == "taowatch-prometheus"
    assert prometheus["url"].startswith("http")
    assert prometheus["jsonData"]["timeInterval"]
    influx = yaml.safe_load(
        (PROVISIONING / "datasources" / "taowatch-influxdb.yml.example").read_text()
    )
    (source,) = influx["datasources"]
    assert source["type"] == "influxdb"
    assert source["secureJsonData"]["token"].startswith("$__file{")


def test_the_dashboard_provider_loads_files_read_only_with_folders():
    document = yaml.safe_load((PROVISIONING / "dashboards" / "taowatch.yml").read_text())
    assert document["apiVersion"] == 1
    (provider,) = document["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    assert provider["options"]["foldersFromFilesStructure"] is True
    assert "folder" not in provider  # must be empty with foldersFromFilesStructure


# --- preview against a fake Prometheus ----------------------------------------------------

START, END = 1_700_000_000.0, 1_700_003_600.0


class FakePrometheus:
    """The two endpoints the preview uses, answering like Prometheus' HTTP API.

    Every query gets a matrix whose values depend on the query text (so the test can tell
    what went where); a query containing ``BROKEN`` gets Prometheus' 400 error body.
    """

    def __init__(self):
        self.queries: list[dict[str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/query", self.instant)
        app.router.add_post("/api/v1/query_range", self.query_range)
        return app

    async def instant(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "success", "data": {"resultType": "scalar", "result": [START, "1"]}}
        )

    async def query_range(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.queries.append(form)
        expr = form["query"]
        if "BROKEN" in expr:
            return web.json_response(
                {
                    "status": "error",
                    "errorType": "bad_data",
                    "error": '1:1: parse error: unexpected identifier "BROKEN"',
                },
                status=400,
            )
        if "nothing_here" in expr:
            return web.json_response(
                {"status": "success", "data": {"resultType": "matrix", "result": []}}
            )
        start, end, step = float(form["start"]), float(form["end"]), float(form["step"])
        times = [start + i * step for i in range(int((end - start) / step) + 1)]
        result = []
        for hotkey, level in (("5Alpha", 1.0), ("5Beta", 0.0)):
            result.append(
                {
                    "metric": {
                        "__name__": "x",
                        "netuid": "1",
                        "hotkey": hotkey,
                        "job": "j",
                        "instance": "i",
                    },
                    "values": [[t, str(level + i / 100)] for i, t in enumerate(times)],
                }
            )
        return web.json_response(
            {"status": "success", "data": {"resultType": "matrix", "result": result}}
        )


def synthetic_dashboard() -> dict:
    """A small dashboard in the committed JSON's shape: one of each panel kind."""
    target = {"datasource": {"type": "prometheus", "uid": "${datasource}"}}
    return {
        "uid": "preview-test",
        "title": "Preview test",
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus"},
                {"name": "netuid", "type": "query", "allValue": ".*"},
                {"name": "hotkey", "type": "query", "allValue": ".*"},
            ]
        },
        "panels": [
            {"type": "row", "title": "A row", "panels": []},
            {
                "type": "timeseries",
                "title": "Incentive",
                "description": "Share of emission.",
                "fieldConfig": {
                    "defaults": {
                        "unit": "percentunit",
                        "thresholds": {
                            "steps": [
                                {"value": None, "color": "green"},
                                {"value": 0.5, "color": "red"},
                            ]
                        },
                    }
                },
                "targets": [
                    target
                    | {
                        "refId": "A",
                        "legendFormat": "sn{{netuid}} {{hotkey}}",
                        "expr": 'rate(bittensor_axon_requests_total{netuid=~"$netuid",'
                        ' hotkey=~"$hotkey"}[$__rate_interval])',
                    }
                ],
            },
            {
                "type": "stat",
                "title": "Registered",
                "description": "Holds a UID.",
                "fieldConfig": {
                    "defaults": {
                        "unit": "none",
                        "mappings": [{"type": "value", "options": {"1": {"text": "REGISTERED"}}}],
                        "thresholds": {
                            "steps": [
                                {"value": None, "color": "red"},
                                {"value": 1, "color": "green"},
                            ]
                        },
                    }
                },
                "targets": [
                    target
                    | {
                        "refId": "A",
                        "legendFormat": "{{hotkey}}",
                        "expr": 'bittensor_neuron_registered{hotkey=~"$hotkey"}',
                    }
                ],
            },
            {
                "type": "table",
                "title": "Watched",
                "description": "Per hotkey.",
                "fieldConfig": {
                    "defaults": {"unit": "none"},
                    "overrides": [
                        {
                            "matcher": {"id": "byName", "options": "Stake"},
                            "properties": [{"id": "unit", "value": "suffix: TAO"}],
                        }
                    ],
                },
                "transformations": [
                    {"id": "merge", "options": {}},
                    {
                        "id": "organize",
                        "options": {"renameByName": {"Value #A": "Stake", "Value #B": "UID"}},
                    },
                ],
                "targets": [
                    target | {"refId": "A", "expr": "bittensor_neuron_stake_tao"},
                    target | {"refId": "B", "expr": "bittensor_neuron_uid"},
                ],
            },
            {
                "type": "timeseries",
                "title": "Broken",
                "description": "Fails.",
                "fieldConfig": {"defaults": {"unit": "s"}},
                "targets": [target | {"refId": "A", "expr": "BROKEN"}],
            },
            {
                "type": "timeseries",
                "title": "Empty",
                "description": "Nothing.",
                "fieldConfig": {"defaults": {"unit": "s"}},
                "targets": [target | {"refId": "A", "expr": "nothing_here"}],
            },
        ],
    }


async def test_preview_renders_each_panel_from_the_query_api(aiohttp_server, tmp_path):
    fake = FakePrometheus()
    server = await aiohttp_server(fake.app())
    drawn = await preview(
        str(server.make_url("/")),
        tmp_path,
        [synthetic_dashboard()],
        start=START,
        end=END,
        step=60,
        variables={"netuid": "1"},
        scrape_interval_seconds=15,
    )

    panels = drawn["preview-test"]
    assert [d.kind for d in panels] == ["timeseries", "stat", "table", "timeseries", "timeseries"]
    for item in panels:
        assert item.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert item.path.stat().st_size > 2000
    index = (tmp_path / "index.html").read_text()
    assert index.count("<img") == 5

    # Queried as Grafana would: variables and $__rate_interval expanded, over the range.
    rate_query = fake.queries[0]
    assert rate_query["query"] == (
        'rate(bittensor_axon_requests_total{netuid=~"1", hotkey=~".*"}[75s])'
    )
    assert (float(rate_query["start"]), float(rate_query["end"]), rate_query["step"]) == (
        START,
        END,
        "60",
    )
    assert all("$" not in q["query"] for q in fake.queries)

    timeseries, stat, table, broken, empty = panels
    assert dict(timeseries.series) == {
        "sn1 5Alpha": pytest.approx(1.6),
        "sn1 5Beta": pytest.approx(0.6),
    }
    assert dict(stat.series) == {"5Alpha": pytest.approx(1.6), "5Beta": pytest.approx(0.6)}
    assert len(table.series) == 4  # two hotkeys x two columns, merged into two rows
    assert broken.errors and "parse error" in broken.errors[0]
    assert empty.series == () and empty.errors == ()


def test_table_rows_merge_queries_on_shared_labels_with_column_units():
    spec = panel_specs(synthetic_dashboard())[2]
    data = PanelData(spec)
    series = lambda hotkey, value, **extra: Series(  # noqa: E731
        {"netuid": "1", "hotkey": hotkey, "job": "agent", **extra}, (START,), (value,)
    )
    data.results = {
        "A": [series("5A", 12.5), series("5B", 3)],
        "B": [series("5A", 7, uid="7"), series("5B", 9, uid="9")],
    }
    headers, rows, _ = table_rows(data)
    assert headers == ["hotkey", "netuid", "Stake", "UID"]
    assert rows == [["5A", "1", "12.5 TAO", "7"], ["5B", "1", "3 TAO", "9"]]


def test_values_are_formatted_in_the_panels_unit():
    assert format_value(0.256, "percentunit") == "25.6%"
    assert format_value(360, "suffix: blocks") == "360 blocks"
    assert format_value(0.25, "s") == "250 ms"
    assert format_value(90, "s") == "1.5 min"
    assert legend_text("sn{{netuid}} {{ hotkey }}", {"netuid": "3", "hotkey": "5X"}) == "sn3 5X"
    assert colour_for(0.7, [(None, "green"), (0.5, "red")]) == COLOURS["red"]
    assert colour_for(0.2, [(None, "green"), (0.5, "red")]) == COLOURS["green"]


def test_rate_interval_follows_grafanas_rule_and_unknown_variables_are_named():
    def rate_interval(step: float) -> str:
        return expand(
            "$__rate_interval",
            {},
            step_seconds=step,
            range_seconds=3600,
            scrape_interval_seconds=15,
        )

    assert rate_interval(5) == "60s"  # 4 x scrape interval
    assert rate_interval(120) == "135s"  # step + scrape interval
    with pytest.raises(PreviewError, match=r"\$validator"):
        expand(
            'x{hotkey="$validator"}',
            {},
            step_seconds=15,
            range_seconds=60,
            scrape_interval_seconds=15,
        )


async def test_preview_says_clearly_when_prometheus_is_unreachable(unused_tcp_port, tmp_path):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    with pytest.raises(PreviewError, match="cannot reach Prometheus"):
        await preview(url, tmp_path, [synthetic_dashboard()], start=START, end=END)


def test_preview_without_matplotlib_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code = dash.main(["preview", "--prometheus", "http://127.0.0.1:1", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "matplotlib" in err and "preview" in err and "Traceback" not in err


@contextlib.contextmanager
def serving_in_a_thread(app: web.Application):
    """Serve ``app`` on loopback from its own thread and loop, so code under test can call
    asyncio.run() (as the CLI does) while the fake answers."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def test_preview_of_the_committed_dashboards_queries_every_panel(tmp_path, capsys):
    # Runs the CLI end to end over the real dashboards: each panel yields one PNG and every
    # target reaches the query API with nothing left unexpanded.
    fake = FakePrometheus()
    with serving_in_a_thread(fake.app()) as url:
        code = dash.main(
            [
                "preview",
                "--prometheus",
                url,
                "--out",
                str(tmp_path),
                "--range",
                "30m",
                "--dashboard",
                "taowatch-fleet",
                "--dashboard",
                "taowatch-health",
            ]
        )
    assert code == 0
    expected_targets = sum(
        len(panel.get("targets", []))
        for document in committed().values()
        if document["uid"] in {"taowatch-fleet", "taowatch-health"}
        for panel in iter_panels(document)
    )
    assert len(fake.queries) == expected_targets
    assert all("$" not in q["query"] for q in fake.queries)
    pngs = list(tmp_path.rglob("*.png"))
    panels = sum(1 for uid, _ in all_panels() if uid in {"taowatch-fleet", "taowatch-health"})
    assert len(pngs) == panels
    assert f"rendered {panels} panels of 2 dashboards" in capsys.readouterr().out


def test_a_panel_whose_series_exists_only_after_an_event_says_so_in_its_description():
    from tests.support.live_dashboards import MAY_BE_EMPTY

    panels = {
        (uid, panel.get("title")): panel.get("description", "") for uid, panel in all_panels()
    }
    assert MAY_BE_EMPTY
    for uid, title, _ref in MAY_BE_EMPTY:
        description = panels[(uid, title)]
        assert re.search(r"exists only|Empty while", description), (uid, title, description)
