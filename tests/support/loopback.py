"""A /metrics endpoint on a free loopback port, as Prometheus scrapes a target in the stack
tests: hand-written exposition or an exporter's registry, rendered afresh on every scrape."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest


@contextlib.asynccontextmanager
async def serving_metrics(render: Callable[[], str | bytes]) -> AsyncIterator[str]:
    """GET /metrics answers ``render()`` on loopback; yields the ``host:port`` target."""

    async def metrics(_request: web.Request) -> web.Response:
        text = render()
        body = text.encode() if isinstance(text, str) else text
        return web.Response(body=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def serving_registry(registry: CollectorRegistry) -> contextlib.AbstractAsyncContextManager[str]:
    """The registry's collectors on a loopback /metrics, as the agent serves them."""
    return serving_metrics(lambda: generate_latest(registry))
