"""The agent's HTTP surface: ``/metrics`` (content-negotiated exposition), ``/healthz`` (200
only while polls succeed and the chain head moves), ``/api/status`` (JSON) and ``/`` (landing
page), reading what ``agent/app.py`` wired under the typed keys below."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CollectorRegistry

from agent.config import AgentConfig
from common.version import __version__
from exporters.chain import ChainPoller
from exporters.scrape import Exposition
from exporters.service import DEFAULT_INTERVAL

CONFIG_KEY = web.AppKey("config", AgentConfig)
POLLER_KEY = web.AppKey("poller", ChainPoller)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
EXPOSITION_KEY = web.AppKey("exposition", Exposition)
SINK_KEY = web.AppKey("influx_sink", "InfluxSink | None")
CLOCK_KEY = web.AppKey("clock", Callable[[], float])
PROBER_KEY = web.AppKey("prober", "Prober | None")


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


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index_handler)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz_handler)
    app.router.add_get("/api/status", status_handler)


ACCESS_LOGGER = _AccessLogger
