"""The agent's aiohttp application: wiring only.

``create_app`` builds the endpoint pool, the poller and its service, the collector registry,
the ``/metrics`` exposition and, when enabled, the InfluxDB sink and the probe, from the
config and what ``agent/startup.py`` read at start-up; it does no I/O. Everything that runs
(the poll service, the sink's writer) starts and stops in ``cleanup_ctx`` generators, so
teardown mirrors setup and Ctrl-C / SIGTERM shuts down cleanly. The handlers are
``agent/http.py``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector

from agent.config import AgentConfig, watch_plan
from agent.http import (
    ACCESS_LOGGER,
    CLOCK_KEY,
    CONFIG_KEY,
    EXPOSITION_KEY,
    POLLER_KEY,
    PROBER_KEY,
    REGISTRY_KEY,
    SINK_KEY,
    add_routes,
)
from agent.influx import InfluxSink
from agent.probe import PROBE_JOB_ID, Prober, targets_of
from agent.startup import StartupReads
from exporters.chain import ChainPoller
from exporters.collector import ChainCollector
from exporters.endpoints import EndpointPool
from exporters.events import EventWatcher
from exporters.scrape import Exposition
from exporters.service import PollService

__all__ = [
    "ACCESS_LOGGER",
    "EXPOSITION_KEY",
    "POLLER_KEY",
    "PROBER_KEY",
    "REGISTRY_KEY",
    "SERVICE_KEY",
    "create_app",
]

SERVICE_KEY = web.AppKey("poll_service", PollService)


async def _influx_ctx(app: web.Application) -> AsyncIterator[None]:
    sink = app[SINK_KEY]
    if sink is not None:
        await sink.start()
    yield
    if sink is not None:
        await sink.stop()


async def _service_ctx(app: web.Application) -> AsyncIterator[None]:
    service, poller = app[SERVICE_KEY], app[POLLER_KEY]
    log = structlog.get_logger("taowatch.agent")
    service.start()
    log.info(
        "agent started",
        endpoints=[ep.label for ep in poller.pool.endpoints],
        watched_hotkeys=len(poller.plan.hotkeys),
        coldkeys=len(poller.plan.coldkeys),
        export_all_neurons=sorted(poller.plan.export_all),
        probe=app[PROBER_KEY] is not None,
    )
    yield
    await service.stop()
    log.info("agent stopped")


def create_app(
    config: AgentConfig,
    reads: StartupReads,
    *,
    influx_client_factory: Callable[[], Any] | None = None,
    clock: Callable[[], float] = time.time,
    process_metrics: bool = True,
) -> web.Application:
    """Build the application from ``config`` and what was read at start-up; nothing
    connects until it starts. ``reads.backends`` turns each configured network into its
    substrate; the pool builds one client per endpoint over it
    (:func:`exporters.endpoints.open_endpoint`)."""
    pool = EndpointPool.over(
        [config.chain.network, *config.chain.fallback_networks],
        reads.backends,
        timeout=config.chain.timeout_seconds,
        max_lag_blocks=config.chain.max_lag_blocks,
        failback_after_polls=config.chain.failback_after_polls,
    )
    poller = ChainPoller(
        watch_plan(config),
        pool,
        reads.state,
        timeout=config.poll.timeout_seconds,
        clock=clock,
        finality_stale_blocks=config.poll.finality_stale_blocks,
        max_concurrent_subnets=config.poll.max_concurrent_subnets,
        events=EventWatcher(reads.state.section("events")),
    )
    # ``registry`` holds every collector (what prometheus-client would render); ``others``
    # holds all but the chain collector, whose families the fast formatter writes itself.
    registry = CollectorRegistry(auto_describe=False)
    others = CollectorRegistry(auto_describe=False)
    chain_collector = ChainCollector(poller)
    registry.register(chain_collector)
    if process_metrics:
        process = ProcessCollector(registry=None)
        registry.register(process)
        others.register(process)

    sink: InfluxSink | None = None
    if config.influx.enabled:
        sink = InfluxSink(config.influx, reads.influx_token, client_factory=influx_client_factory)
        registry.register(sink)
        others.register(sink)
        poller.add_listener(sink.on_snapshot)

    exposition = Exposition(chain_collector, others, registry)
    service = PollService(
        poller, interval_seconds=config.poll.interval_seconds, listeners=(exposition.on_snapshot,)
    )
    prober: Prober | None = None
    if config.probe.enabled:
        prober = Prober(config.probe, reads.probe_key, lambda: targets_of(poller.snapshot))
        registry.register(prober)
        others.register(prober)
        service.every(config.probe.interval_seconds, PROBE_JOB_ID, prober.run_once)

    app = web.Application()
    app[CONFIG_KEY] = config
    app[PROBER_KEY] = prober
    app[POLLER_KEY] = poller
    app[SERVICE_KEY] = service
    app[REGISTRY_KEY] = registry
    app[EXPOSITION_KEY] = exposition
    app[SINK_KEY] = sink
    app[CLOCK_KEY] = clock
    app.cleanup_ctx.append(_influx_ctx)
    app.cleanup_ctx.append(_service_ctx)
    add_routes(app)
    return app
