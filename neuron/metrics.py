"""The neuron runtime's own metrics, in a per-process ``CollectorRegistry``.

Events (requests, refusals, queries, weight submissions) are counted by direct
instrumentation; state (queue depth, metagraph age, scores) is read once per scrape from the
objects that own it and yielded as fresh families, so a UID that leaves the subnet stops being
exported at the next scrape. Every series carries the neuron's own ``netuid`` and ``hotkey``,
the labels the chain exporter uses, so runtime causes and chain outcomes join in one query::

    bittensor_axon_requests_total{netuid="1",hotkey="5F...",route="/matmul",status="200"} 41.0
    bittensor_axon_blacklisted_total{netuid="1",hotkey="5F...",reason="unregistered"} 3.0
    bittensor_neuron_metagraph_block{netuid="1",hotkey="5F..."} 1234.0
    bittensor_validator_miner_score{netuid="1",hotkey="5F...",uid="3"} 0.87
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from aiohttp import web
from bittensor import ErrorCode
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.core import GaugeMetricFamily, Metric

from common.metric_names import Runtime as R
from common.version import __version__
from neuron.serving import CLOSE_REASONS

BASE_LABELS = ("netuid", "hotkey")

# Request latency spans a ~100 µs signature check up to a multi-second torch task.
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class RefusalReason(StrEnum):
    """Every reason the miner's axon refuses a request: ``bittensor_axon_blacklisted_total``'s
    ``reason`` label, and the ``error`` of the refusal's JSON body."""

    UNKNOWN_ROUTE = "unknown_route"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    OVERSIZED = "oversized"
    METAGRAPH_UNAVAILABLE = "metagraph_unavailable"
    UNREGISTERED = "unregistered"
    MALFORMED_AUTH = "malformed_auth"
    STALE = "stale"
    BAD_SIGNATURE = "bad_signature"
    WRONG_RECEIVER = "wrong_receiver"
    REPLAYED = "replayed"
    AUTH_ERROR = "auth_error"
    NO_VALIDATOR_PERMIT = "no_validator_permit"
    LOW_STAKE = "low_stake"
    RATE_LIMITED = "rate_limited"
    MALFORMED_BODY = "malformed_body"
    QUEUE_FULL = "queue_full"
    QUEUE_TIMEOUT = "queue_timeout"


class QueryOutcome(StrEnum):
    """How one validator challenge to one miner ended (``bittensor_validator_queries_total``)."""

    CORRECT = "correct"
    WRONG = "wrong"
    MALFORMED = "malformed"
    REFUSED = "refused"
    MINER_ERROR = "miner_error"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"


# Every outcome of a SetWeights attempt (``bittensor_validator_set_weights_total``): success,
# the SDK's chain error codes, or the class of a failure that never reached the chain.
SET_WEIGHTS_OUTCOMES: tuple[str, ...] = (
    "success",
    *(code.value for code in ErrorCode),
    "chain_error",
    "timeout",
    "rpc_error",
    "policy",
    "error",
    "failed",
)


@dataclass(frozen=True)
class RuntimeState:
    """Everything the state collector exports, captured once per scrape. None = not exported."""

    inflight: int | None = None
    queue_depth: int | None = None
    metagraph_block: int | None = None
    metagraph_last_sync: float | None = None
    metagraph_sync_interval: float | None = None
    self_registered: bool | None = None
    miner_scores: Mapping[int, float] = field(default_factory=dict)
    last_set_weights_block: int | None = None
    last_commit_block: int | None = None
    last_reveal_block: int | None = None
    unrevealed_commits: int | None = None


class _StateCollector:
    def __init__(self, base: dict[str, str], source: Callable[[], RuntimeState]):
        self._base = base
        self._source = source

    def collect(self) -> Iterable[Metric]:
        state = self._source()
        names, values = list(self._base), list(self._base.values())

        def gauge(name: str, doc: str, value: float | None) -> Iterable[Metric]:
            if value is None:
                return
            family = GaugeMetricFamily(name, doc, labels=names)
            family.add_metric(values, float(value))
            yield family

        yield from gauge(R.AXON_INFLIGHT_REQUESTS, R.AXON_INFLIGHT_REQUESTS.help, state.inflight)
        yield from gauge(R.AXON_QUEUE_DEPTH, R.AXON_QUEUE_DEPTH.help, state.queue_depth)
        yield from gauge(R.METAGRAPH_BLOCK, R.METAGRAPH_BLOCK.help, state.metagraph_block)
        yield from gauge(
            R.METAGRAPH_LAST_SYNC_TIMESTAMP_SECONDS,
            R.METAGRAPH_LAST_SYNC_TIMESTAMP_SECONDS.help,
            state.metagraph_last_sync,
        )
        yield from gauge(
            R.METAGRAPH_SYNC_INTERVAL_SECONDS,
            R.METAGRAPH_SYNC_INTERVAL_SECONDS.help,
            state.metagraph_sync_interval,
        )
        registered = None if state.self_registered is None else int(state.self_registered)
        yield from gauge(
            R.SELF_REGISTERED,
            R.SELF_REGISTERED.help,
            registered,
        )
        yield from gauge(
            R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK,
            R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK.help,
            state.last_set_weights_block,
        )
        yield from gauge(
            R.VALIDATOR_LAST_COMMIT_BLOCK,
            R.VALIDATOR_LAST_COMMIT_BLOCK.help,
            state.last_commit_block,
        )
        yield from gauge(
            R.VALIDATOR_LAST_REVEAL_BLOCK,
            R.VALIDATOR_LAST_REVEAL_BLOCK.help,
            state.last_reveal_block,
        )
        yield from gauge(
            R.VALIDATOR_UNREVEALED_COMMITS,
            R.VALIDATOR_UNREVEALED_COMMITS.help,
            state.unrevealed_commits,
        )
        if state.miner_scores:
            family = GaugeMetricFamily(
                R.VALIDATOR_MINER_SCORE,
                R.VALIDATOR_MINER_SCORE.help,
                labels=[*names, "uid"],
            )
            for uid, score in sorted(state.miner_scores.items()):
                family.add_metric([*values, str(uid)], float(score))
            yield family


class _ConnectionCollector:
    def __init__(self, base: dict[str, str], source: Callable[[], Callable | None]):
        self._base = base
        self._source = source

    def collect(self) -> Iterable[Metric]:
        source = self._source()
        if source is None:
            return
        open_now, cap = source()
        names, values = list(self._base), list(self._base.values())
        for name, doc, value in (
            (R.AXON_OPEN_CONNECTIONS, R.AXON_OPEN_CONNECTIONS.help, open_now),
            (R.AXON_MAX_CONNECTIONS, R.AXON_MAX_CONNECTIONS.help, cap),
        ):
            family = GaugeMetricFamily(name, doc, labels=names)
            family.add_metric(values, float(value))
            yield family


class _BuildInfoCollector:
    def __init__(self, base: dict[str, str], role: str):
        self._labels = {**base, "role": role, "version": __version__}
        self._labels["python"] = platform.python_version()

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(R.BUILD_INFO, R.BUILD_INFO.help, labels=list(self._labels))
        family.add_metric(list(self._labels.values()), 1.0)
        yield family


class NeuronMetrics:
    """All runtime metrics of one miner or validator process."""

    def __init__(
        self,
        *,
        role: str,
        netuid: int,
        hotkey: str,
        registry: CollectorRegistry | None = None,
        process_metrics: bool = True,
    ):
        self.registry = registry if registry is not None else CollectorRegistry()
        self.base = {"netuid": str(netuid), "hotkey": hotkey}
        self._state_source: Callable[[], RuntimeState] = RuntimeState
        reg = self.registry
        self.registry.register(_StateCollector(self.base, lambda: self._state_source()))
        self.registry.register(_BuildInfoCollector(self.base, role))
        if process_metrics:
            ProcessCollector(registry=reg)

        self._requests = Counter(
            R.AXON_REQUESTS,
            R.AXON_REQUESTS.help,
            [*BASE_LABELS, "route", "status"],
            registry=reg,
        )
        self._request_duration = Histogram(
            R.AXON_REQUEST_DURATION_SECONDS,
            R.AXON_REQUEST_DURATION_SECONDS.help,
            [*BASE_LABELS, "route"],
            buckets=REQUEST_BUCKETS,
            registry=reg,
        )
        self._blacklisted = Counter(
            R.AXON_BLACKLISTED,
            R.AXON_BLACKLISTED.help,
            [*BASE_LABELS, "reason"],
            registry=reg,
        )
        self._sync_failures = Counter(
            R.METAGRAPH_SYNC_FAILURES, R.METAGRAPH_SYNC_FAILURES.help, BASE_LABELS, registry=reg
        )
        self._queries = Counter(
            R.VALIDATOR_QUERIES,
            R.VALIDATOR_QUERIES.help,
            [*BASE_LABELS, "outcome"],
            registry=reg,
        )
        self._query_duration = Histogram(
            R.VALIDATOR_QUERY_DURATION_SECONDS,
            R.VALIDATOR_QUERY_DURATION_SECONDS.help,
            BASE_LABELS,
            buckets=REQUEST_BUCKETS,
            registry=reg,
        )
        self._set_weights = Counter(
            R.VALIDATOR_SET_WEIGHTS,
            R.VALIDATOR_SET_WEIGHTS.help,
            [*BASE_LABELS, "outcome"],
            registry=reg,
        )
        self._commits = Counter(
            R.VALIDATOR_WEIGHT_COMMITS,
            R.VALIDATOR_WEIGHT_COMMITS.help,
            BASE_LABELS,
            registry=reg,
        )
        self._reveals = Counter(
            R.VALIDATOR_WEIGHT_REVEALS,
            R.VALIDATOR_WEIGHT_REVEALS.help,
            BASE_LABELS,
            registry=reg,
        )
        self._reveals_missed = Counter(
            R.VALIDATOR_WEIGHT_REVEALS_MISSED,
            R.VALIDATOR_WEIGHT_REVEALS_MISSED.help,
            BASE_LABELS,
            registry=reg,
        )
        self._step_duration = Histogram(
            R.VALIDATOR_STEP_DURATION_SECONDS,
            R.VALIDATOR_STEP_DURATION_SECONDS.help,
            BASE_LABELS,
            buckets=STEP_BUCKETS,
            registry=reg,
        )
        # Label children are cached: labels() takes a lock and builds a key on every call,
        # which is measurable at thousands of requests per second.
        self._children: dict[tuple, object] = {}
        self._request_children: dict[tuple[str, int], tuple] = {}
        # Counters whose label values are known exist from startup, so rate() and increase()
        # read 0 on a healthy neuron rather than nothing, and the first event is not lost to
        # increase() (a series born at 1 has no earlier sample to subtract). Label values that
        # name peers or routes stay lazy: they are not known in advance.
        self._child(self._sync_failures)
        if role == "miner":
            for reason in RefusalReason:
                self._child(self._blacklisted, reason.value)
        if role == "validator":
            for outcome in QueryOutcome:
                self._child(self._queries, outcome.value)
            for outcome in SET_WEIGHTS_OUTCOMES:
                self._child(self._set_weights, outcome)
            self._child(self._query_duration)
            self._child(self._step_duration)
            self._child(self._commits)
            self._child(self._reveals)
            self._child(self._reveals_missed)
        self._init_connection_metrics(role)

    def set_state_source(self, source: Callable[[], RuntimeState]) -> None:
        self._state_source = source

    def _child(self, metric, *extra: str):
        key = (id(metric), *extra)
        child = self._children.get(key)
        if child is None:
            child = metric.labels(*self.base.values(), *extra)
            self._children[key] = child
        return child

    def request(self, route: str, status: int, seconds: float) -> None:
        pair = self._request_children.get((route, status))
        if pair is None:
            pair = (
                self._child(self._requests, route, str(status)),
                self._child(self._request_duration, route),
            )
            self._request_children[(route, status)] = pair
        pair[0].inc()
        pair[1].observe(seconds)

    def refused(self, reason: str) -> None:
        self._child(self._blacklisted, reason).inc()

    def sync_failed(self) -> None:
        self._child(self._sync_failures).inc()

    def query(self, outcome: str, seconds: float | None = None) -> None:
        self._child(self._queries, outcome).inc()
        if seconds is not None:
            self._child(self._query_duration).observe(seconds)

    def set_weights(self, outcome: str) -> None:
        self._child(self._set_weights, outcome).inc()

    def weights_committed(self) -> None:
        self._child(self._commits).inc()

    def weights_revealed(self, count: int = 1) -> None:
        self._child(self._reveals).inc(count)

    def weight_reveals_missed(self, count: int = 1) -> None:
        self._child(self._reveals_missed).inc(count)

    def step(self, seconds: float) -> None:
        self._child(self._step_duration).observe(seconds)

    # ---------------------------------------------------------------- connection bounds
    # The miner's connection guard (neuron/serving.py) and the validator's fresh-connection
    # probe. Kept apart from the request metrics above: they describe sockets, not requests.

    def _init_connection_metrics(self, role: str) -> None:
        reg = self.registry
        self._connection_source: Callable[[], tuple[int, int]] | None = None
        self._connections_closed = Counter(
            R.AXON_CONNECTIONS_CLOSED,
            R.AXON_CONNECTIONS_CLOSED.help,
            [*BASE_LABELS, "reason"],
            registry=reg,
        )
        self._accept_errors = Counter(
            R.AXON_ACCEPT_ERRORS,
            R.AXON_ACCEPT_ERRORS.help,
            [*BASE_LABELS, "error"],
            registry=reg,
        )
        self._fresh_queries = Counter(
            R.VALIDATOR_FRESH_CONNECTION_QUERIES,
            R.VALIDATOR_FRESH_CONNECTION_QUERIES.help,
            [*BASE_LABELS, "outcome"],
            registry=reg,
        )
        reg.register(_ConnectionCollector(self.base, lambda: self._connection_source))
        # Series that exist from startup, so increase() sees the first event.
        if role == "miner":
            for reason in CLOSE_REASONS:
                self._child(self._connections_closed, reason)
            for error in ("EMFILE", "ENFILE"):
                self._child(self._accept_errors, error)
        else:
            for outcome in QueryOutcome:
                self._child(self._fresh_queries, outcome.value)

    def set_connection_source(self, source: Callable[[], tuple[int, int]]) -> None:
        """``source() -> (open connections, effective cap)``, read at each scrape."""
        self._connection_source = source

    def connection_closed(self, reason: str) -> None:
        self._child(self._connections_closed, reason).inc()

    def accept_error(self, error: str) -> None:
        self._child(self._accept_errors, error).inc()

    def fresh_query(self, outcome: str) -> None:
        self._child(self._fresh_queries, outcome).inc()

    def sample(self, name: str, **labels: str) -> float | None:
        """A current sample value (tests and the demo's summary read through this)."""
        return self.registry.get_sample_value(name, {**self.base, **labels})


def metrics_app(metrics: NeuronMetrics) -> web.Application:
    """The loopback metrics listener: ``/metrics`` and a trivial ``/healthz``."""
    started = time.time()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "uptime_seconds": round(time.time() - started, 1)})

    app = web.Application()
    app.router.add_get("/metrics", make_aiohttp_handler(metrics.registry))
    app.router.add_get("/healthz", healthz)
    return app
