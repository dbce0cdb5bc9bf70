"""Driving the live system until every dashboard series exists, and asking a Prometheus API
(Prometheus itself, or VictoriaMetrics) what the dashboards would miss."""

from __future__ import annotations

import asyncio
import json
import math
import time

import aiohttp
from bittensor.keyfiles import Keypair

from neuron.auth import sign_request
from taowatch.preview.client import Series, fetch_panels
from taowatch.preview.panels import load_dashboards, panel_specs, variable_defaults
from tests.support import REPO
from tests.support.dashboards import all_queries, expanded, metric_tokens
from tests.support.system import DEADLINE, NETUID

DASHBOARDS = REPO / "grafana" / "dashboards"

# Names a dashboard may use that a healthy system need not have. (The InfluxDB sink's metrics
# exist because the test turns the sink on; ALERTS exists because the Watchdog always fires and
# the test makes a real alert fire.)
_NO_PRUNING = (
    "the last pruned neuron's emission exists once the agent has seen a pruning on a watched "
    "subnet; this system's subnet never fills, so nobody is pruned"
)
CONDITIONAL_NAMES: dict[str, str] = {
    "bittensor_subnet_last_deregistered_emission_alpha": _NO_PRUNING,
}
# (dashboard uid, panel title, refId) -> why that query may be empty in this system.
MAY_BE_EMPTY: dict[tuple[str, str, str], str] = {
    ("taowatch-subnet", "Served axons and the last pruned emission", "B"): _NO_PRUNING,
    ("taowatch-neuron", "Registrations until pruned, over the rate", "A"): (
        "the ETA divides by the subnet's registration rate, which exists once the agent has "
        "seen a registration; this system registers its neurons before the agent starts"
    ),
}


async def _names(prometheus_url: str) -> set[str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{prometheus_url}/api/v1/label/__name__/values") as resp,
    ):
        body = await resp.json()
    assert body["status"] == "success", body
    return set(body["data"])


async def _stranger_calls(axon_port: int, miner_hotkey: str) -> int:
    """A signed request from a key the subnet does not know: the miner must refuse it."""
    stranger = Keypair.create_from_uri("//taowatch/dashboards/stranger")
    body = json.dumps({"seed": 1, "size": 8, "rounds": 1}).encode()
    headers = sign_request(
        stranger, method="POST", path="/matmul", body=body, receiver=miner_hotkey
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{axon_port}/matmul", data=body, headers=headers) as resp,
    ):
        return resp.status


async def _wait(system, expr: str) -> None:
    try:
        await system.stack.wait_for_query(expr, DEADLINE)
    except TimeoutError:
        print(system.log_tails())
        raise


def _has_data(series: list[Series]) -> bool:
    return any(not math.isnan(v) for s in series for v in s.values)


# A watched hotkey that registers late and earns nothing: the neuron alert the tables show
# (BittensorNeuronImmunityEndingUnearned) fires for it while it is immune. The scenario's own
# neurons are not watched, and the system's miner and validator earn.
UNEARNING = Keypair.create_from_uri("//taowatch/e2e/unearning")
FUNDER = Keypair.create_from_uri("//Alice")


def unearning_watch() -> list[dict]:
    """The ``extra_watch`` entry that makes :data:`UNEARNING` a watched hotkey."""
    return [{"netuid": NETUID, "hotkeys": [UNEARNING.ss58_address]}]


async def make_every_dashboard_series_exist(system) -> None:
    """Drive the system until every series a dashboard draws exists (see the module doc)."""
    miner, validator = system.hotkeys["miner"], system.hotkeys["validator"]
    assert await _stranger_calls(system.ports["axon"], miner) == 403

    # A short chain outage: the agent's poll errors and the runtimes' metagraph sync
    # failures are counted (both counters exist only once something failed).
    async with system.sim.admin as admin:
        await admin.set_faults(error_rate=1.0)
        try:
            await _wait(system, "bittensor_exporter_poll_errors_total > 0")
            await _wait(system, "bittensor_neuron_metagraph_sync_failures_total > 0")
        finally:
            await admin.set_faults()
    await _wait(system, "bittensor_exporter_up == 1")

    for expr in (
        # The validator has queried the miner, set weights, and an epoch paid on them.
        f'bittensor_validator_queries_total{{hotkey="{validator}"}} > 0',
        f'bittensor_validator_set_weights_total{{hotkey="{validator}",outcome="success"}} > 0',
        # Every fifth query step goes over a fresh connection: the failing-ratio panel has a
        # denominator once one such step was scraped after the counter's 0.
        "increase(bittensor_validator_fresh_connection_queries_total[15m]) > 0",
        # On the default world's commit-reveal subnet: the validator saw its commit revealed.
        "bittensor_validator_weight_reveals_total > 0",
        f'bittensor_neuron_incentive{{hotkey="{miner}"}} > 0',
        f'bittensor_neuron_validator_trust{{hotkey="{validator}"}} > 0',
        f'bittensor_neuron_dividends{{hotkey="{validator}"}} > 0',
        f'bittensor_axon_blacklisted_total{{hotkey="{miner}"}} > 0',
        "bittensor_exporter_influx_points_written_total > 0",
        # The agent's signed probe has reached the miner's axon as the chain lists it.
        f'bittensor_probe_up{{hotkey="{miner}"}} == 1',
        # Eviction order ranks non-immune neurons only: a neuron leaves immunity 100
        # blocks (25 s) after it registered, and the fleet view shows watched ones.
        "bittensor_neuron_pruning_position and on (netuid, hotkey) bittensor_neuron_registered",
    ):
        await _wait(system, expr)

    # A real neuron alert for the alert tables: register the watched, unearning hotkey.
    async with system.sim.admin as admin:
        await admin.register(NETUID, UNEARNING.ss58_address, FUNDER.ss58_address)
    await _wait(system, 'ALERTS{alertstate="firing", alertname!="TaowatchWatchdog"}')


def _dashboard_metric_names() -> set[str]:
    return {name for _, expr in all_queries() for name in metric_tokens(expanded(expr))}


async def missing_dashboard_metrics(url: str) -> list[str]:
    """Metric names a dashboard uses that the Prometheus API at ``url`` has never ingested."""
    return sorted(_dashboard_metric_names() - await _names(url) - set(CONDITIONAL_NAMES))


async def dashboard_gaps(url: str, *, start: float, end: float) -> dict[str, list[str]]:
    """What the dashboards miss against the Prometheus API at ``url``: metric names never
    ingested, panel query errors, and queries without data (each list empty when all is well)."""
    gaps: dict[str, list[str]] = {
        "missing": await missing_dashboard_metrics(url),
        "errors": [],
        "empty": [],
    }
    for document in load_dashboards(DASHBOARDS):
        results = await fetch_panels(
            panel_specs(document),
            url,
            start=start,
            end=end,
            step=1,
            variables=variable_defaults(document),
            scrape_interval_seconds=1,
        )
        for data in results:
            gaps["errors"] += [f"{document['uid']} / {data.spec.title}: {e}" for e in data.errors]
            for target in data.spec.targets:
                key = (document["uid"], data.spec.title, target.ref_id)
                if key in MAY_BE_EMPTY:
                    continue
                if not _has_data(data.results.get(target.ref_id, [])):
                    gaps["empty"].append(f"{key}: {data.queries.get(target.ref_id)}")
    return gaps


async def wait_for_no_dashboard_gaps(
    url: str, *, start: float, timeout: float = DEADLINE
) -> dict[str, list[str]]:
    """:func:`dashboard_gaps` from ``start`` to now, polled until there are none or
    ``timeout`` passes; the last gaps. For a remote_write receiver, which lags the Prometheus
    that feeds it by its batching: on a loaded machine longer than any wait before it."""
    deadline = time.monotonic() + timeout
    while True:
        end = time.time()
        gaps = await dashboard_gaps(url, start=end - math.ceil(end - start), end=end)
        if not any(gaps.values()) or time.monotonic() > deadline:
            return gaps
        await asyncio.sleep(1)
