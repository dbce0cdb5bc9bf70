"""Prometheus writes into VictoriaMetrics by remote_write, and the dashboards and the alert
rules work against VictoriaMetrics as they do against Prometheus.

The whole system (simnet, agent, miner, validator; see stack_support) runs with real
Prometheus sending every sample to a real ``victoria-metrics`` (Debian's package). Then,
against VictoriaMetrics' Prometheus-compatible API only: every metric a dashboard names is
there, every panel query returns data (expanded as Grafana expands it), and ``vmalert``,
running beside Prometheus on the same rule files, loads every rule and evaluates each
without error, and fires every alert Prometheus fired in the same run (both write their
ALERTS series into VictoriaMetrics; vmalert's carry its external label evaluator=vmalert).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from alerts import generate as gen
from taowatch.stack import FAST_ALERTMANAGER, free_port
from taowatch.victoriametrics import VictoriaMetrics, VMAlert
from tests.support.live_dashboards import (
    make_every_dashboard_series_exist,
    unearning_watch,
    wait_for_no_dashboard_gaps,
)
from tests.support.system import DEADLINE, running_system

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A fresh neuron is in immunity with no emission: with no grace period the "immunity ending
# unearned" warning fires at once, a real alert for both evaluators.
# A whole short immunity period counts as "ending": the fresh neurons fire it at once, on both
# evaluators, without waiting out half of it.
OVERRIDES = {**FAST_ALERTMANAGER, "immunity_ending_for": "0s", "immunity_ending_fraction": 1}
# vmalert's lastEvaluation of a rule not evaluated yet (Go's zero time).
NEVER = "0001-01-01T00:00:00Z"
# Both evaluators' ALERTS series land in VictoriaMetrics; vmalert's carry evaluator="vmalert"
# (the replica label cannot tell them apart: vmalert's alerts keep the labels of the series
# they fired on, which Prometheus wrote with replica="a").
FIRED = 'count by (alertname) (max_over_time(ALERTS{{alertstate="firing", evaluator="{who}"}}[1h]))'


async def _wait_until(what: str, check, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {result!r}")
        await asyncio.sleep(0.5)


def render_rules(directory: Path, overrides: dict[str, str]) -> list[Path]:
    """The rule files Prometheus runs in this test: rendered from alerts/ with its knobs."""
    thresholds = gen.validate_thresholds({**gen.load_thresholds(), **overrides}, "test overrides")
    directory.mkdir(parents=True)
    paths = []
    for name, text in gen.render_rules(thresholds, grafana_url="http://127.0.0.1:3000").items():
        (directory / name).write_text(text)
        paths.append(directory / name)
    return sorted(paths)


async def _fired(vm: VictoriaMetrics, *, by_prometheus: bool) -> set[str]:
    """Alert names that fired at some point in the last hour, by Prometheus or by vmalert."""
    result = await vm.query(FIRED.format(who="" if by_prometheus else "vmalert"))
    return {series["metric"]["alertname"] for series in result}


async def test_victoriametrics_serves_every_dashboard_and_runs_the_alert_rules(tmp_path):
    started = time.time()
    rule_files = render_rules(tmp_path / "rules", OVERRIDES)
    async with (
        VictoriaMetrics(workdir=tmp_path / "vm") as vm,
        # Up before the system, like Prometheus: the immunity alert fires only in the first
        # seconds of a fresh neuron.
        VMAlert(
            workdir=tmp_path / "vmalert",
            datasource_url=vm.url,
            rule_files=rule_files,
            external_labels={"evaluator": "vmalert"},
            # Nothing listens there: this test reads vmalert's ALERTS series, not its sends.
            notifier_urls=[f"http://127.0.0.1:{free_port()}"],
        ) as vmalert,
    ):
        async with running_system(
            tmp_path,
            overrides=OVERRIDES,
            influx=True,
            probe=True,
            extra_watch=unearning_watch(),
            stack_options={
                "external_labels": {"replica": "a"},
                "remote_write": [{"url": vm.write_url}],
            },
        ) as system:
            await make_every_dashboard_series_exist(system)
            # Over the run, not now: the immunity alert fires only while the fresh (watched)
            # neurons have not earned yet.
            await vm.wait_for_query(
                'max_over_time(ALERTS{alertstate="firing", alertname!="TaowatchWatchdog",'
                ' evaluator=""}[1h])',
                DEADLINE,
            )
            up = await vm.query('up{job="prometheus"}')
            assert [s["metric"].get("replica") for s in up] == ["a"], up

            # What Prometheus has, VictoriaMetrics has once remote_write delivered it (it
            # sends in batches, seconds behind Prometheus): polled, not read once.
            gaps = await wait_for_no_dashboard_gaps(vm.url, start=started)
            assert not gaps["missing"], (
                f"dashboards use metrics VictoriaMetrics never received: {gaps['missing']}"
            )
            assert not gaps["errors"], gaps["errors"]
            assert not gaps["empty"], "queries without data in VictoriaMetrics:\n" + "\n".join(
                gaps["empty"]
            )

            rules = [r for g in await vmalert.rule_groups() for r in g["rules"]]
            prometheus_rules = await system.stack.rule_health()
            assert sorted(r["name"] for r in rules) == sorted(n for n, _, _ in prometheus_rules)
            assert all(r.get("lastEvaluation", NEVER) != NEVER for r in rules)
            broken = [(r["name"], r.get("lastError")) for r in rules if r.get("health") != "ok"]
            assert not broken, f"rules vmalert cannot evaluate: {broken}"

            by_prometheus = await _fired(vm, by_prometheus=True)
            assert {
                "TaowatchWatchdog",
                "BittensorNeuronImmunityEndingUnearned",
            } <= by_prometheus

            async def vmalert_fired_them_too():
                return by_prometheus <= await _fired(vm, by_prometheus=False)

            try:
                await _wait_until("vmalert to fire what Prometheus fired", vmalert_fired_them_too)
            finally:
                print(f"\nfired by Prometheus: {sorted(by_prometheus)}")
                print(f"fired by vmalert:    {sorted(await _fired(vm, by_prometheus=False))}")
    print(f"VictoriaMetrics test: {time.time() - started:.1f} s")
