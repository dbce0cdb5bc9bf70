"""The miner's reachability probe: ``GET /probe``, signed with btauth/1, answered cheaply.

A monitoring agent (``agent.probe``) proves that the axon the chain lists for a hotkey is
reachable and is served by that hotkey's owner: the request is signed for this neuron's
hotkey, so a 200 means "this address answers, and knows the key it was registered with".
It proves nothing more, so the caller is not judged against the metagraph (an agent's probe
hotkey holds no stake and is usually not registered) and the task never runs.

What still holds for every request holds here: the signature must be bound to our hotkey,
fresh and unused (the nonce store is the task route's, so a nonce spent on one route is
spent on both), forged or replayed probes are refused and counted like any other, and all
probes share one token bucket (``axon.probe_rate_per_second`` / ``probe_burst``): strangers
get a bounded amount of answering, never unbounded per-key state.

The exchange, for a third-party miner to answer it::

    GET /probe HTTP/1.1
    X-Btauth-...: btauth/1 headers from bittensor.http_auth.sign(method="GET",
                  path="/probe", body=b"", receiver_ss58=<the miner's hotkey>)

    HTTP/1.1 200 OK
    Content-Type: application/json
    {"probe": "ok", "hotkey": "<the miner's hotkey>", "netuid": 1, "block": 1234}

Any 200 counts as up; ``block`` (the miner's last metagraph block) may be null.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from aiohttp import web

from neuron.admission import RateLimiter
from neuron.auth import Refusal, Verifier
from neuron.metagraph import MetagraphView
from neuron.metrics import NeuronMetrics
from neuron.metrics import RefusalReason as Why

PROBE_ROUTE = "/probe"
# All probes share one bucket, whoever signs them.
_PROBE_BUCKET = "probe"


class ProbeResponder:
    """Answers ``GET /probe`` after btauth/1 and the shared probe rate limit, nothing else."""

    def __init__(
        self,
        *,
        own_hotkey: str,
        netuid: int,
        verifier: Verifier,
        limiter: RateLimiter,
        view: Callable[[], MetagraphView | None],
        metrics: NeuronMetrics,
    ):
        self._own = own_hotkey
        self._netuid = netuid
        self._verifier = verifier
        self._limiter = limiter
        self._view = view
        self._metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            # A probe has no body: anything declared or streamed is refused before any
            # signature work.
            if request.content_length or request.body_exists:
                raise Refusal(413, Why.OVERSIZED, "a probe has no body")
            self._verifier.verify(
                request.headers, b"", method=request.method, path=request.raw_path
            )
            if not self._limiter.allow(_PROBE_BUCKET):
                raise Refusal(429, Why.RATE_LIMITED, "too many probes; slow down")
            view = self._view()
            answer = {
                "probe": "ok",
                "hotkey": self._own,
                "netuid": self._netuid,
                "block": view.block if view is not None else None,
            }
            response = web.Response(
                body=json.dumps(answer).encode(), content_type="application/json"
            )
        except Refusal as refusal:
            self._metrics.refused(refusal.reason)
            response = _error(refusal.status, refusal.reason, refusal.message)
        self._metrics.request(PROBE_ROUTE, response.status, time.perf_counter() - started)
        return response


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"error": reason, "detail": message}).encode(),
        content_type="application/json",
    )
