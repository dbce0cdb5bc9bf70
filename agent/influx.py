"""Optional InfluxDB 2.x sink: one point per watched neuron per epoch, one summary per poll.

The poll never waits for InfluxDB: :meth:`InfluxSink.on_snapshot` only appends points to a
bounded in-memory buffer (the oldest points are dropped, and counted, when it is full). A
background task writes batches through ``influxdb-client``'s async write API, retrying with
backoff; a batch the server rejects as malformed or unauthorised (4xx other than 429) is
dropped instead of retried forever. Every outcome is a metric.

Measurements (precision: seconds):

* ``bittensor_neuron`` tags ``netuid, hotkey, uid, coldkey``; fields are the per-neuron
  values (stake, emission, incentive, ...), written when the subnet's epoch advanced.
* ``taowatch_poll`` tags ``endpoint``; fields ``source_block, subnets, watched, registered``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.config import InfluxConfig
from common.metric_names import Exporter as N
from common.secret_files import SecretFileError, read_secret_file
from exporters.snapshot import ChainSnapshot, NeuronView

NEURON_MEASUREMENT = "bittensor_neuron"
POLL_MEASUREMENT = "taowatch_poll"


def read_token(path: Any) -> str:
    """The API token from its file; raises ``ValueError`` naming the field, the file and the fix.

    The file is a secret: one readable by group or others is refused like a hotkey would be.
    """
    try:
        return read_secret_file(Path(path))
    except SecretFileError as exc:
        raise ValueError(f"influx.token_file {exc}") from None


def _neuron_point(v: NeuronView, at: int) -> Any:
    from influxdb_client import Point, WritePrecision

    p = (
        Point(NEURON_MEASUREMENT)
        .tag("netuid", str(v.netuid))
        .tag("hotkey", v.hotkey)
        .tag("uid", str(v.uid))
        .tag("coldkey", v.coldkey)
        .field("stake_alpha", float(v.stake_alpha))
        .field("stake_tao", float(v.stake_tao))
        .field("emission_alpha", float(v.emission_alpha))
        .field("incentive", float(v.incentive))
        .field("dividends", float(v.dividends))
        .field("consensus", float(v.consensus))
        .field("validator_trust", float(v.validator_trust))
        .field("active", bool(v.active))
        .field("validator_permit", bool(v.validator_permit))
        .field("last_update_block", int(v.last_update))
        .field("registration_block", int(v.block_at_registration))
        .field("immunity_remaining_blocks", int(v.immunity_remaining_blocks))
    )
    if v.pruning_position is not None:
        p = p.field("pruning_position", int(v.pruning_position))
    return p.time(at, WritePrecision.S)


class InfluxSink:
    def __init__(
        self,
        config: InfluxConfig,
        token: str,
        *,
        client_factory: Callable[..., Any] | None = None,
        logger: Any = None,
    ):
        self.config = config
        self._token = token
        self._client_factory = client_factory
        self._log = logger or structlog.get_logger("taowatch.influx")
        self._buffer: deque[Any] = deque()
        self._epochs: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._client: Any = None
        self.points_written = 0
        self.write_errors = 0
        self.points_dropped = 0

    # -- producer side (called from the poll; must never block) ---------------------------

    def on_snapshot(self, snap: ChainSnapshot, _previous: ChainSnapshot | None = None) -> None:
        from influxdb_client import Point, WritePrecision

        at = int(snap.taken_at)
        points = []
        neurons: dict[tuple[int, int], NeuronView] = {}
        for w in snap.watched:
            if w.neuron is not None:
                neurons[(w.netuid, w.neuron.uid)] = w.neuron
        for netuid in snap.export_all:
            view = snap.subnets.get(netuid)
            for nv in view.neurons if view is not None else ():
                neurons[(netuid, nv.uid)] = nv
        for netuid, view in snap.subnets.items():
            if not view.exists:
                continue
            epoch = view.block - view.blocks_since_last_step
            if self._epochs.get(netuid) == epoch:
                continue
            self._epochs[netuid] = epoch
            points += [_neuron_point(v, at) for (n, _), v in sorted(neurons.items()) if n == netuid]
        points.append(
            Point(POLL_MEASUREMENT)
            .tag("endpoint", snap.endpoint)
            .field("source_block", int(snap.source_block))
            .field("subnets", len(snap.subnets))
            .field("watched", len(snap.watched))
            .field("registered", sum(1 for w in snap.watched if w.registered))
            .time(at, WritePrecision.S)
        )
        self.enqueue(points)

    def enqueue(self, points: list[Any]) -> None:
        self._buffer.extend(points)
        overflow = len(self._buffer) - self.config.max_buffer_points
        if overflow > 0:
            for _ in range(overflow):
                self._buffer.popleft()
            self.points_dropped += overflow
            self._log.warning("influx buffer full, dropped oldest points", dropped=overflow)
        if len(self._buffer) >= self.config.batch_size:
            self._wake.set()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    # -- writer side -----------------------------------------------------------------------

    def _make_client(self) -> Any:
        if self._client_factory is not None:
            return self._client_factory()
        from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

        return InfluxDBClientAsync(
            url=self.config.url,
            token=self._token,
            org=self.config.org,
            timeout=int(self.config.timeout_seconds * 1000),
            enable_gzip=self.config.gzip,
        )

    async def start(self) -> None:
        self._client = self._make_client()
        self._task = asyncio.create_task(self._run(), name="influx-writer")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.flush_interval_seconds):
                    await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> bool:
        """Write everything buffered in batches; returns False if a batch could not be written."""
        while self._buffer:
            batch = [
                self._buffer.popleft()
                for _ in range(min(self.config.batch_size, len(self._buffer)))
            ]
            try:
                outcome = await self._write(batch)
            except asyncio.CancelledError:
                self._buffer.extendleft(reversed(batch))
                raise
            if outcome == "ok":
                self.points_written += len(batch)
            elif outcome == "rejected":
                self.points_dropped += len(batch)
            else:
                # Server unreachable or failing: keep the points (oldest first) for the next
                # flush, within the buffer bound.
                self._buffer.extendleft(reversed(batch))
                overflow = len(self._buffer) - self.config.max_buffer_points
                for _ in range(max(0, overflow)):
                    self._buffer.popleft()
                self.points_dropped += max(0, overflow)
                return False
        return True

    async def _write(self, batch: list[Any]) -> str:
        from influxdb_client import WritePrecision

        write_api = self._client.write_api()
        delay = self.config.retry_backoff_seconds
        for attempt in range(self.config.max_retries + 1):
            try:
                await write_api.write(
                    bucket=self.config.bucket,
                    org=self.config.org,
                    record=batch,
                    write_precision=WritePrecision.S,
                )
                return "ok"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.write_errors += 1
                status = getattr(exc, "status", None)
                if isinstance(status, int) and 400 <= status < 500 and status != 429:
                    self._log.error(
                        "influx rejected batch",
                        status=status,
                        points=len(batch),
                        error=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                    )
                    return "rejected"
                self._log.warning(
                    "influx write failed",
                    attempt=attempt + 1,
                    status=status,
                    error=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                )
                if attempt < self.config.max_retries:
                    await asyncio.sleep(delay)
                    delay *= 2
        return "failed"

    async def stop(self, drain_seconds: float = 5.0) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(drain_seconds):
                    await self.flush()
            with contextlib.suppress(Exception):
                await self._client.close()
            self._client = None

    # -- metrics ---------------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            N.EXPORTER_INFLUX_POINTS_WRITTEN, "Points InfluxDB accepted.", self.points_written
        )
        yield CounterMetricFamily(
            N.EXPORTER_INFLUX_WRITE_ERRORS,
            "Failed InfluxDB write attempts (each retry counts).",
            self.write_errors,
        )
        yield CounterMetricFamily(
            N.EXPORTER_INFLUX_POINTS_DROPPED,
            "Points dropped: buffer full, or a batch InfluxDB rejected as invalid.",
            self.points_dropped,
        )
        yield GaugeMetricFamily(
            N.EXPORTER_INFLUX_BUFFER_POINTS, "Points waiting to be written.", len(self._buffer)
        )
