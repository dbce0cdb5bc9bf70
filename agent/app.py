"""The agent's aiohttp application: wiring, lifecycle and HTTP endpoints.

``create_app`` is a pure factory (no I/O): it builds the endpoint pool, the poller, the
collector registry and, when enabled, the InfluxDB sink, and stores each under a typed
``AppKey``. Everything that runs (the scheduler, the sink's writer, the chain clients) starts
and stops in ``cleanup_ctx`` generators, so teardown mirrors setup and Ctrl-C / SIGTERM shuts
down cleanly.

Endpoints: ``/metrics`` (content-negotiated exposition), ``/healthz`` (200 only while polls
succeed and the chain head moves), ``/api/status`` (JSON), ``/`` (landing page).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import html
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.exposition import choose_encoder, gzip_accepted

from agent.config import AgentConfig
from agent.influx import InfluxSink, read_token
from agent.probe import PROBE_JOB_ID, Prober, load_probe_key, targets_of
from common.chain import SubstrateBackends
from common.version import __version__
from exporters.chain import ChainPoller, ColdkeyWatch, WatchPlan
from exporters.collector import ChainCollector
from exporters.deregistration import DeregistrationTracker
from exporters.endpoints import EndpointPool
from exporters.events import EventWatcher
from exporters.exposition import GZIP_LEVEL, SnapshotRenders, fast_format, render_families

# Until the chain tells us its block time, poll at mainnet's (12 s) pace at most.
DEFAULT_INTERVAL = 12.0
# Before any endpoint has told its block time, failed polls are retried this soon, doubling
# per failure up to DEFAULT_INTERVAL: a restart under errors is up within seconds.
FIRST_RETRY_SECONDS = 0.5
POLL_JOB_ID = "chain-poll"


def poll_interval(
    configured: float | None, block_time: float | None, failures_in_a_row: int
) -> float:
    """Seconds until the next poll: the configured interval, else one block, else (no
    endpoint has answered yet) a retry that backs off from FIRST_RETRY_SECONDS."""
    if configured is not None:
        return configured
    if block_time:
        return block_time
    return min(DEFAULT_INTERVAL, FIRST_RETRY_SECONDS * 2 ** max(0, failures_in_a_row - 1))


CONFIG_KEY = web.AppKey("config", AgentConfig)
POLLER_KEY = web.AppKey("poller", ChainPoller)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
EXPOSITION_KEY = web.AppKey("exposition", "Exposition")
SINK_KEY = web.AppKey("influx_sink", "InfluxSink | None")
CLOCK_KEY = web.AppKey("clock", "Callable[[], float]")
PROBER_KEY = web.AppKey("prober", "Prober | None")


def build_plan(config: AgentConfig) -> WatchPlan:
    hotkeys: list[tuple[int, str]] = []
    coldkeys: list[ColdkeyWatch] = []
    for entry in config.watch:
        if entry.coldkey is not None:
            netuids = tuple(entry.netuids) if entry.netuids is not None else None
            coldkeys.append(ColdkeyWatch(entry.coldkey, netuids))
        else:
            hotkeys += [(entry.netuid, hk) for hk in entry.hotkeys or []]
    return WatchPlan(
        hotkeys=tuple(dict.fromkeys(hotkeys)),
        coldkeys=tuple(coldkeys),
        export_all=frozenset(config.export_all_neurons),
        rediscover_every_polls=config.poll.rediscover_every_polls,
        registration_window_blocks=config.poll.registration_window_blocks,
        stake_drop_ratio=config.poll.stake_drop_ratio,
        registration_cost_alert_tao=tuple(sorted(config.registration_cost_alert_tao.items())),
        shard_index=config.shard.index,
        shard_count=config.shard.count,
    )


class Exposition:
    """Renders ``/metrics`` for each scrape, content-negotiated like prometheus-client.

    The chain families (``ChainCollector.families``, ~525 000 samples with
    ``export_all_neurons`` on a whole network of 128 x 256) are written by
    ``exporters.exposition`` straight from the immutable snapshot, byte-identical to
    prometheus-client's output and an order of magnitude faster; the few other collectors
    (process metrics, the InfluxDB sink) go through prometheus-client. An Accept header
    only prometheus-client can honour (the ``dots`` name escaping) gets ``registry``
    rendered by prometheus-client whole.

    The snapshot's part is rendered (and gzip-compressed) once per poll result and format
    (:class:`exporters.exposition.SnapshotRenders`); the exporter's own families and the
    other collectors are rendered for every scrape, so their values are never stale.
    Renders run one at a time in a worker thread, so the event loop keeps serving and
    concurrent scrapes cannot pile up copies of a large body.
    """

    def __init__(
        self, chain: ChainCollector, others: CollectorRegistry, registry: CollectorRegistry
    ):
        self._chain = chain
        self._others = others
        self._registry = registry
        self._lock = asyncio.Lock()
        self.snapshot_renders = SnapshotRenders()
        self.renders = 0
        # What the last scrape asked for (Accept, gzip or not): what the next one will.
        self._last_request: tuple[str, bool] | None = None

    def _parts(self, fmt: str, encoder: Callable[..., bytes]) -> tuple[Any, Any, bytes]:
        snapshot, status = self._chain.read()
        # prometheus-client ends OpenMetrics with "# EOF" even for an empty registry, so
        # the other collectors' part closes the document in both formats.
        tail = render_families(self._chain.status_families(snapshot, status), fmt).encode()
        return (
            snapshot,
            partial(self._chain.snapshot_families, snapshot),
            tail + encoder(self._others),
        )

    def body(self, accept: str) -> tuple[bytes, str]:
        """One full, uncompressed render for an Accept header: (body, content type)."""
        encoder, content_type = choose_encoder(accept)
        fmt = fast_format(encoder)
        if fmt is None:
            return encoder(self._registry), content_type
        snapshot, families, tail = self._parts(fmt, encoder)
        return self.snapshot_renders.plain(snapshot, families, fmt) + tail, content_type

    def render_sync(self, accept: str, compress: bool) -> tuple[bytes, str]:
        if not compress:
            return self.body(accept)
        encoder, content_type = choose_encoder(accept)
        fmt = fast_format(encoder)
        if fmt is None:
            return gzip.compress(encoder(self._registry), compresslevel=GZIP_LEVEL), content_type
        snapshot, families, tail = self._parts(fmt, encoder)
        return self.snapshot_renders.gzip(snapshot, families, fmt, tail), content_type

    async def render(self, accept: str, accept_encoding: str) -> tuple[bytes, str, bool]:
        compress = gzip_accepted(accept_encoding)
        self._last_request = (accept, compress)
        async with self._lock:
            body, content_type = await asyncio.to_thread(self.render_sync, accept, compress)
            self.renders += 1
        return body, content_type, compress

    def prepare_sync(self, accept: str, compress: bool) -> None:
        encoder, _ = choose_encoder(accept)
        fmt = fast_format(encoder)
        if fmt is not None:
            snapshot, _ = self._chain.read()
            families = partial(self._chain.snapshot_families, snapshot)
            self.snapshot_renders.prepare(snapshot, families, fmt, compress)

    async def warm(self) -> None:
        """After a poll: render the new snapshot the way the last scrape wanted it, so the
        next scrape (a whole network: ~1 s of rendering and gzip) finds it done. Nothing
        before the first scrape: an agent nobody scrapes renders nothing."""
        if self._last_request is None:
            return
        async with self._lock:
            await asyncio.to_thread(self.prepare_sync, *self._last_request)


class _AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        structlog.get_logger("taowatch.agent.http").debug(
            "request",
            method=request.method,
            path=request.path,
            status=response.status,
            seconds=round(time, 4),
        )


def health(app: web.Application) -> tuple[bool, list[str]]:
    """Whether the agent is doing its job, and if not, why (for /healthz and /api/status)."""
    cfg, poller, now = app[CONFIG_KEY], app[POLLER_KEY], app[CLOCK_KEY]()
    st, snap = poller.status, poller.snapshot
    interval = st.interval or DEFAULT_INTERVAL
    reasons: list[str] = []
    max_poll_age = cfg.health.max_poll_age_seconds or 3 * interval + cfg.poll.timeout_seconds
    if st.last_success_at is None:
        reasons.append(
            "no successful poll yet" + (f"; last error: {st.last_error}" if st.last_error else "")
        )
    elif now - st.last_success_at > max_poll_age:
        reasons.append(
            f"last successful poll {now - st.last_success_at:.1f}s ago (limit {max_poll_age:g}s)"
            + (f"; last error: {st.last_error}" if st.last_error else "")
        )
    if snap is not None:
        block_time = snap.chain.block_time or DEFAULT_INTERVAL
        max_head_age = cfg.health.max_head_age_seconds or max(60.0, 20 * block_time)
        age = now - snap.chain.head_advanced_at
        if age > max_head_age:
            reasons.append(
                f"chain head {snap.chain.head} has not advanced for {age:.1f}s "
                f"(limit {max_head_age:g}s)"
            )
    return not reasons, reasons


def status_json(app: web.Application) -> dict[str, Any]:
    poller = app[POLLER_KEY]
    st, snap = poller.status, poller.snapshot
    ok, reasons = health(app)
    counts = snap.deregistrations if snap is not None else {}
    watched = []
    if snap is not None:
        for w in snap.watched:
            watched.append(
                {
                    "netuid": w.netuid,
                    "hotkey": w.hotkey,
                    "source": w.source,
                    "registered": w.registered,
                    "uid": w.neuron.uid if w.neuron else None,
                    "stake_alpha": w.neuron.stake_alpha if w.neuron else None,
                    "pruning_position": w.neuron.pruning_position if w.neuron else None,
                    "deregistrations": counts.get((w.netuid, w.hotkey), 0),
                }
            )
    plan = poller.plan
    return {
        "version": __version__,
        "healthy": ok,
        "health_reasons": reasons,
        "watch": {
            "hotkeys": [{"netuid": n, "hotkey": hk} for n, hk in plan.hotkeys],
            "coldkeys": [
                {"coldkey": c.coldkey, "netuids": list(c.netuids) if c.netuids else "all"}
                for c in plan.coldkeys
            ],
            "export_all_neurons": sorted(plan.export_all),
        },
        "watched": watched,
        "subnets": sorted(snap.subnets) if snap is not None else [],
        "last_poll": {
            "at": st.last_poll_at,
            "ok": st.up,
            "duration_seconds": st.last_duration,
            "interval_seconds": st.interval,
            "source_block": snap.source_block if snap is not None else None,
            "endpoint": snap.endpoint if snap is not None else None,
        },
        # The trusted history (exporters.deregistration.chain_identity) and, while the
        # endpoint is off it, how: "rewound" or "changed" (values are then the trusted ones).
        "trusted_chain": snap.chain_id if snap is not None else None,
        "chain_mismatch": st.chain_mismatch,
        "last_success_at": st.last_success_at,
        "last_error": (
            {"at": st.last_error_at, "message": st.last_error} if st.last_error else None
        ),
        "polls": st.polls,
        "poll_errors": dict(st.errors),
        "endpoints": [
            {
                "endpoint": e.label,
                "up": e.up,
                "active": e.active,
                "head": e.head,
                "lag_blocks": e.lag,
                "last_error": e.last_error,
            }
            for e in st.endpoints
        ],
        "finality": {
            # How the last snapshot's finalized head was obtained: "subscription" or "read".
            "source": snap.chain.finalized_source if snap is not None else None,
            "subscriptions": [
                {
                    "endpoint": f.label,
                    "subscribed": f.subscribed,
                    "finalized": f.finalized,
                    "seconds_since_header": f.header_age,
                    "subscriptions": f.subscriptions,
                    "drops": f.drops,
                    "last_error": f.last_error,
                }
                for f in poller.pool.finality_status()
            ],
        },
        "recent_changes": [c.to_json() for c in poller.recent_changes()],
    }


# -- handlers ------------------------------------------------------------------------------


async def metrics_handler(request: web.Request) -> web.Response:
    app = request.app
    accept = ",".join(request.headers.getall("Accept", []))
    encoding = ",".join(request.headers.getall("Accept-Encoding", []))
    body, content_type, compressed = await app[EXPOSITION_KEY].render(accept, encoding)
    headers = {"Content-Type": content_type}
    if compressed:
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers)


async def healthz_handler(request: web.Request) -> web.Response:
    ok, reasons = health(request.app)
    if ok:
        return web.Response(text="ok\n")
    return web.Response(status=503, text="unhealthy: " + "; ".join(reasons) + "\n")


async def status_handler(request: web.Request) -> web.Response:
    return web.json_response(status_json(request.app))


async def index_handler(request: web.Request) -> web.Response:
    ok, reasons = health(request.app)
    snap = request.app[POLLER_KEY].snapshot
    state = "healthy" if ok else "unhealthy: " + "; ".join(reasons)
    block = f"source block {snap.source_block} from {snap.endpoint}" if snap else "no snapshot yet"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>taowatch agent</title></head>
<body><h1>taowatch agent {html.escape(__version__)}</h1>
<p>{html.escape(state)}; {html.escape(block)}.</p>
<ul>
<li><a href="/metrics">/metrics</a>: Prometheus exposition (chain values cached per poll)</li>
<li><a href="/healthz">/healthz</a>: 200 while polls succeed and the chain head advances</li>
<li><a href="/api/status">/api/status</a>: watched keys, last poll and error, recent changes</li>
</ul></body></html>
"""
    return web.Response(text=page, content_type="text/html")


# -- lifecycle -----------------------------------------------------------------------------


async def _influx_ctx(app: web.Application) -> AsyncIterator[None]:
    sink = app[SINK_KEY]
    if sink is not None:
        await sink.start()
    yield
    if sink is not None:
        await sink.stop()


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    cfg, poller = app[CONFIG_KEY], app[POLLER_KEY]
    log = structlog.get_logger("taowatch.agent")
    interval = poll_interval(cfg.poll.interval_seconds, poller.block_time(), 1)
    poller.set_interval(interval)
    scheduler = AsyncIOScheduler(timezone=UTC)
    # The finality watchers live exactly as long as polling does; poller.close() below
    # cancels and awaits them before closing the chain clients.
    poller.start()

    failures_in_a_row = 0

    async def poll_job() -> None:
        nonlocal failures_in_a_row
        try:
            ok = await poller.poll()
        except asyncio.CancelledError:
            # Shutdown cancels a poll in flight; APScheduler would log that as a crash with
            # a traceback. Nothing is left to do: the job's task ends here either way.
            return
        failures_in_a_row = 0 if ok else failures_in_a_row + 1
        if ok:
            await app[EXPOSITION_KEY].warm()
        wanted = poll_interval(cfg.poll.interval_seconds, poller.block_time(), failures_in_a_row)
        if wanted != poller.status.interval:
            scheduler.reschedule_job(POLL_JOB_ID, trigger=IntervalTrigger(seconds=wanted))
            poller.set_interval(wanted)
            log.info("poll interval set", seconds=wanted, block_time=poller.block_time())

    scheduler.add_job(
        poll_job,
        IntervalTrigger(seconds=interval),
        id=POLL_JOB_ID,
        name=POLL_JOB_ID,
        max_instances=1,  # a slow chain never stacks polls up
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),  # don't wait one interval for the first poll
    )
    prober = app[PROBER_KEY]
    if prober is not None:

        async def probe_job() -> None:
            with contextlib.suppress(asyncio.CancelledError):
                await prober.run_once()

        scheduler.add_job(
            probe_job,
            IntervalTrigger(seconds=cfg.probe.interval_seconds),
            id=PROBE_JOB_ID,
            name=PROBE_JOB_ID,
            max_instances=1,  # a round never overlaps the next
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.start()
    log.info(
        "agent started",
        endpoints=[ep.label for ep in poller.pool.endpoints],
        watched_hotkeys=len(poller.plan.hotkeys),
        coldkeys=len(poller.plan.coldkeys),
        export_all_neurons=sorted(poller.plan.export_all),
        probe=prober is not None,
    )
    yield
    scheduler.shutdown(wait=False)  # cancels a poll in flight
    await asyncio.sleep(0)
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            await poller.close()
    log.info("agent stopped")


def create_app(
    config: AgentConfig,
    *,
    backends: SubstrateBackends | None = None,
    influx_client_factory: Callable[[], Any] | None = None,
    clock: Callable[[], float] = time.time,
    process_metrics: bool = True,
) -> web.Application:
    """Build the application; nothing connects until it starts.

    ``backends`` turns each configured network into its substrate (default: the installed
    ones, :meth:`common.chain.SubstrateBackends.installed`); the pool builds one client per
    endpoint over it (:func:`exporters.endpoints.open_endpoint`).
    """
    pool = EndpointPool.over(
        [config.chain.network, *config.chain.fallback_networks],
        backends or SubstrateBackends.installed(),
        timeout=config.chain.timeout_seconds,
        max_lag_blocks=config.chain.max_lag_blocks,
        failback_after_polls=config.chain.failback_after_polls,
    )
    tracker = DeregistrationTracker(config.state_file)
    poller = ChainPoller(
        build_plan(config),
        pool,
        tracker,
        timeout=config.poll.timeout_seconds,
        clock=clock,
        finality_stale_blocks=config.poll.finality_stale_blocks,
        max_concurrent_subnets=config.poll.max_concurrent_subnets,
        events=EventWatcher(tracker.section("events")),
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
        token = read_token(config.influx.token_file)
        sink = InfluxSink(config.influx, token, client_factory=influx_client_factory)
        registry.register(sink)
        others.register(sink)
        poller.add_listener(sink.on_snapshot)

    prober: Prober | None = None
    if config.probe.enabled:
        key = load_probe_key(config.probe.hotkey_file)
        prober = Prober(config.probe, key, lambda: targets_of(poller.snapshot))
        registry.register(prober)
        others.register(prober)

    app = web.Application()
    app[CONFIG_KEY] = config
    app[PROBER_KEY] = prober
    app[POLLER_KEY] = poller
    app[REGISTRY_KEY] = registry
    app[EXPOSITION_KEY] = Exposition(chain_collector, others, registry)
    app[SINK_KEY] = sink
    app[CLOCK_KEY] = clock
    app.cleanup_ctx.append(_influx_ctx)
    app.cleanup_ctx.append(_scheduler_ctx)
    app.router.add_get("/", index_handler)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz_handler)
    app.router.add_get("/api/status", status_handler)
    return app


ACCESS_LOGGER = _AccessLogger
