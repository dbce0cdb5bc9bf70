"""The miner's HTTP server: one pipeline decides, in cheapest-first order, whether a request
reaches the task handler at all.

1. route known (404 otherwise) and body within the size limit (413);
2. claimed caller registered on the subnet (403 ``unregistered``), a dictionary lookup that
   sheds floods from random keys before any signature work;
3. btauth/1 signature bound to our hotkey, fresh and not replayed (401/403);
4. caller admitted: validator permit, minimum stake (403);
5. per-caller rate limit (429);
6. body parsed and validated against the task's request model (400);
7. a handler slot, highest stake first, from a bounded queue (503 when full or waited out).

Every refusal is counted by reason and answered with a short JSON error that never echoes
the request; only step 7's winners call the task's ``solve``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import structlog
from aiohttp import web
from bittensor import http_auth
from pydantic import ValidationError

from neuron.admission import PriorityGate, QueueFull, QueueTimeout, RateLimiter
from neuron.auth import Refusal, Verifier
from neuron.blacklist import CallerPolicy
from neuron.metagraph import MetagraphView
from neuron.metrics import NeuronMetrics
from neuron.metrics import RefusalReason as Why
from neuron.probe import PROBE_ROUTE, ProbeResponder
from neuron.task import Task

_HOTKEY_HEADER = http_auth.HEADER_HOTKEY


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"error": reason, "detail": message}).encode(),
        content_type="application/json",
    )


def _validation_message(exc: ValidationError) -> str:
    # Locations and messages only: pydantic's default text quotes the offending input.
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "invalid request body: " + "; ".join(parts)


class Axon:
    def __init__(
        self,
        *,
        task: Task,
        verifier: Verifier,
        policy: CallerPolicy,
        view: Callable[[], MetagraphView | None],
        gate: PriorityGate,
        limiter: RateLimiter,
        metrics: NeuronMetrics,
        max_body_bytes: int,
        probe: ProbeResponder | None = None,
        log: structlog.typing.FilteringBoundLogger | None = None,
    ):
        self.task = task
        self.route = f"/{task.name}"
        self._verifier = verifier
        self._policy = policy
        self._view = view
        self._gate = gate
        self._limiter = limiter
        self._metrics = metrics
        self._max_body = max_body_bytes
        self._probe = probe
        self._log = log or structlog.get_logger("neuron.axon")

    def app(self) -> web.Application:
        # The pipeline is a route handler rather than an aiohttp middleware: with any
        # middleware aiohttp also wraps every request in its own current-app middleware,
        # and the two layers cost more than everything this runtime adds to a bare handler.
        app = web.Application(client_max_size=self._max_body)
        app.router.add_post(self.route, self._serve)
        if self._probe is not None:
            app.router.add_get(PROBE_ROUTE, self._probe.handle)
        app.router.add_route("*", self.route, self._wrong_method)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    async def _serve(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            response = await self._admit_and_handle(request)
        except Refusal as refusal:
            self._metrics.refused(refusal.reason)
            response = _error(refusal.status, refusal.reason, refusal.message)
        self._metrics.request(self.route, response.status, time.perf_counter() - started)
        return response

    async def _unknown(self, request: web.Request) -> web.Response:
        self._metrics.refused(Why.UNKNOWN_ROUTE)
        self._metrics.request("other", 404, 0.0)
        return _error(404, Why.UNKNOWN_ROUTE, "no such route")

    async def _wrong_method(self, request: web.Request) -> web.Response:
        self._metrics.refused(Why.METHOD_NOT_ALLOWED)
        self._metrics.request(self.route, 405, 0.0)
        return _error(405, Why.METHOD_NOT_ALLOWED, "use POST")

    async def _admit_and_handle(self, request: web.Request) -> web.Response:
        length = request.content_length
        if length is not None and length > self._max_body:
            raise Refusal(413, Why.OVERSIZED, f"body exceeds {self._max_body} bytes")
        view = self._view()
        claimed = request.headers.get(_HOTKEY_HEADER)
        if claimed:
            self._policy.registered(view, claimed)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refusal(413, Why.OVERSIZED, f"body exceeds {self._max_body} bytes") from None
        caller = self._verifier.verify(
            request.headers, body, method=request.method, path=request.raw_path
        )
        peer = self._policy.admit(view, caller.hotkey_ss58)
        if not self._limiter.allow(caller.hotkey_ss58):
            raise Refusal(429, Why.RATE_LIMITED, "too many requests from this hotkey; slow down")
        try:
            parsed = self.task.request_model.model_validate_json(body)
        except ValidationError as exc:
            raise Refusal(400, Why.MALFORMED_BODY, _validation_message(exc)) from None
        try:
            if not self._gate.try_acquire():
                await self._gate.acquire(peer.stake)
        except QueueFull:
            raise Refusal(503, Why.QUEUE_FULL, "miner is at capacity; retry later") from None
        except QueueTimeout:
            raise Refusal(503, Why.QUEUE_TIMEOUT, "request waited too long for a slot") from None
        try:
            answer = await self.task.solve(parsed)
        except Exception:
            self._log.exception("task handler failed", task=self.task.name)
            return _error(500, "handler_error", "the task handler failed")
        finally:
            self._gate.release()
        return web.Response(body=answer.model_dump_json().encode(), content_type="application/json")
