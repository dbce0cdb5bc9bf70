"""What one scrape of ``/metrics`` renders, and the per-snapshot render cache behind it.

The chain families (``ChainCollector.families``, ~525 000 samples with
``export_all_neurons`` on a whole network of 128 x 256) are written by
``exporters.exposition`` straight from the immutable snapshot, byte-identical to
prometheus-client's output and an order of magnitude faster; the few other collectors
(process metrics, the InfluxDB sink, the probe) go through prometheus-client. An Accept
header only prometheus-client can honour (the ``dots`` name escaping) gets ``registry``
rendered by prometheus-client whole.

The snapshot's part is rendered (and gzip-compressed) once per poll result and format
(:class:`exporters.exposition.SnapshotRenders`); the exporter's own families and the other
collectors are rendered for every scrape, so their values are never stale. Renders run one
at a time in a worker thread, so the event loop keeps serving and concurrent scrapes cannot
pile up copies of a large body. :meth:`Exposition.on_snapshot` is the poll service's
snapshot listener that warms the cache.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder, gzip_accepted

from exporters.collector import ChainCollector
from exporters.exposition import GZIP_LEVEL, SnapshotRenders, fast_format, render_families
from exporters.snapshot import ChainSnapshot


class Exposition:
    """Renders ``/metrics`` for each scrape, content-negotiated like prometheus-client."""

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

    async def on_snapshot(self, snapshot: ChainSnapshot) -> None:
        """The poll service's listener: warm the cache for the new snapshot."""
        await self.warm()
