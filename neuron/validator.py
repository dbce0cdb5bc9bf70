"""The bundled validator: query miners, score them, set weights, and show all of it.

Three independent loops share one metagraph view and one score board:

* the **metagraph sync** (``neuron.metagraph``) re-aligns the board with ``uid -> hotkey``,
  resetting UIDs that changed hands;
* the **query loop**, every ``step_interval_seconds``: k serving miners, one fresh signed
  challenge each, all in flight at once with a timeout, scored by ``neuron.scoring``;
* the **weights loop**: once per ``interval_blocks`` (default: the subnet's weights rate
  limit), ``SetWeights`` through the SDK with ``wait_for_finalization=False``. It runs beside
  the query loop, so a slow or failing chain never delays queries; each attempt is counted
  with its outcome (``success`` or the failure's class).

The path is the chain's choice, read before every attempt: where the subnet's
``commit_reveal_weights_enabled`` is on, a timelocked commit (``CommitWeights``, which the
chain reveals by itself ``reveal_period`` epochs later), elsewhere a plain ``SetWeights``.
Commits are counted when included and followed to their reveal by ``neuron.reveals``.
"""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
import bittensor as bt

from neuron.auth import sign_request
from neuron.config import ValidatorConfig
from neuron.metagraph import MetagraphView, Peer
from neuron.metrics import QueryOutcome as Outcome
from neuron.metrics import RuntimeState
from neuron.reveals import RevealTracker
from neuron.runtime import NeuronRuntime
from neuron.scoring import ScoreBoard, answer_score
from neuron.task import Task, load_task

# A miner's answer larger than this is not an answer.
MAX_RESPONSE_BYTES = 1 << 20


def classify_failure(exc: BaseException) -> str:
    """A short, bounded label for why a chain write failed (the metric's ``outcome``).

    Every value it returns is in ``neuron.metrics.SET_WEIGHTS_OUTCOMES``, which exist at 0.
    """
    if isinstance(exc, bt.ChainError):
        return exc.code.value if exc.code else "chain_error"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, (bt.RpcConnectionError, OSError, aiohttp.ClientError)):
        return "rpc_error"
    if isinstance(exc, bt.PolicyError):
        return "policy"
    return "error"


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or its first ``limit + 1`` bytes: enough to know it is too big."""
    raw = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        raw += chunk
        if len(raw) > limit:
            break
    return bytes(raw)


def _inclusion_block(result: bt.ExtrinsicResult, fallback: int) -> int:
    block, _, _ = (result.extrinsic_id or "").partition("-")
    return int(block) if block.isdigit() else fallback


class Validator:
    def __init__(self, runtime: NeuronRuntime, *, rng: random.Random | None = None):
        self.runtime = runtime
        config = runtime.config
        assert isinstance(config, ValidatorConfig), "build_runtime(ValidatorConfig) builds this"
        self.config = config
        self.wallet = runtime.wallet
        self.client = runtime.client
        self.log = runtime.log
        self.metrics = runtime.metrics
        self.metagraph = runtime.metagraph
        self.task: Task = load_task(
            config.query.task, size=config.query.size, rounds=config.query.rounds
        )
        self.board = ScoreBoard(config.scoring.ema_alpha)
        # Seeds must be unpredictable to miners; tests pass a seeded Random for repeatability.
        self.rng = rng or random.SystemRandom()
        self.last_set_weights_block: int | None = None
        self._next_weights_block = 0
        self.reveals = RevealTracker(self.client, config.chain.netuid, self.wallet.hotkey_ss58)
        # (when last logged, failures kept quiet since): reveal-check failures, once a minute.
        self._reveal_failures: tuple[float | None, int] = (None, 0)
        self.metrics.set_state_source(self._state)
        self.metagraph.listeners.append(self._on_sync)
        self._session: aiohttp.ClientSession | None = None
        # Kept-alive connections hide a miner that refuses new callers; every Nth step goes
        # over new connections (see query.fresh_connection_every_steps).
        self._fresh_session: aiohttp.ClientSession | None = None
        self._steps = 0

    @property
    def metrics_port(self) -> int | None:
        return self.runtime.metrics_port

    def _state(self) -> RuntimeState:
        cr = self.reveals.state()
        return self.runtime.state(
            miner_scores=self.board.snapshot(),
            last_set_weights_block=self.last_set_weights_block,
            last_commit_block=cr.last_commit_block,
            last_reveal_block=cr.last_reveal_block,
            unrevealed_commits=cr.unrevealed,
        )

    def _on_sync(self, view: MetagraphView) -> None:
        reset = self.board.sync(view.hotkeys)
        if reset:
            self.log.info("scores reset for re-registered uids", uids=reset)

    # ------------------------------------------------------------------ queries

    def candidates(self, view: MetagraphView) -> list[Peer]:
        own = self.wallet.hotkey_ss58
        return [p for p in view.peers if p.axon and p.hotkey != own]

    async def step(self) -> int:
        """Query up to k miners once; returns how many were queried."""
        view = self.metagraph.view
        if view is None:
            return 0
        pool = self.candidates(view)
        chosen = self.rng.sample(pool, min(self.config.query.sample_size, len(pool)))
        if not chosen:
            self.log.warning("no serving miners to query", block=view.block)
            return 0
        started = time.perf_counter()
        self._steps += 1
        fresh = self._steps % self.config.query.fresh_connection_every_steps == 0
        scores = await asyncio.gather(*(self.query(peer, fresh=fresh) for peer in chosen))
        # A sync may have shrunk the board while we waited; drop answers for vanished UIDs.
        size = self.board.scores.numel()
        pairs = [(p.uid, s) for p, s in zip(chosen, scores, strict=True) if p.uid < size]
        self.board.update([u for u, _ in pairs], [s for _, s in pairs])
        self.metrics.step(time.perf_counter() - started)
        return len(chosen)

    async def query(self, peer: Peer, *, fresh: bool = False) -> float:
        """One signed challenge to one miner; returns its score (0 on any failure).

        ``fresh``: over a connection opened for this query alone, counted also in
        ``bittensor_validator_fresh_connection_queries_total``.
        """
        assert self._session is not None, "start() opens the HTTP session"
        session = self._fresh_session if fresh else self._session
        assert session is not None

        def count(outcome: Outcome, seconds: float) -> None:
            self.metrics.query(outcome, seconds)
            if fresh:
                self.metrics.fresh_query(outcome)

        q = self.config.query
        request = self.task.challenge(self.rng)
        body = request.model_dump_json().encode()
        path = f"/{self.task.name}"
        headers = sign_request(
            self.wallet.hotkey, method="POST", path=path, body=body, receiver=peer.hotkey
        )
        headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            async with session.post(
                f"http://{peer.axon}{path}",
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=q.timeout_seconds),
            ) as resp:
                raw = await _read_capped(resp, MAX_RESPONSE_BYTES)
                status = resp.status
        except TimeoutError:
            count(Outcome.TIMEOUT, time.perf_counter() - started)
            return 0.0
        except (aiohttp.ClientError, OSError):
            count(Outcome.UNREACHABLE, time.perf_counter() - started)
            return 0.0
        latency = time.perf_counter() - started
        if status != 200:
            count(Outcome.REFUSED if status < 500 else Outcome.MINER_ERROR, latency)
            self.log.debug("miner refused", uid=peer.uid, status=status, body=raw[:200])
            return 0.0
        if len(raw) > MAX_RESPONSE_BYTES:
            count(Outcome.MALFORMED, latency)
            return 0.0
        try:
            answer = self.task.response_model.model_validate_json(raw)
        except ValueError:
            count(Outcome.MALFORMED, latency)
            return 0.0
        correctness = await self.task.check(request, answer)
        count(Outcome.CORRECT if correctness > 0 else Outcome.WRONG, latency)
        return answer_score(
            correctness, latency, q.timeout_seconds, self.config.scoring.latency_weight
        )

    async def _query_loop(self) -> None:
        await self.metagraph.wait_synced()
        interval = self.config.query.step_interval_seconds
        while True:
            began = time.monotonic()
            try:
                await self.step()
            except Exception:
                self.log.exception("validator step failed")
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))

    # ------------------------------------------------------------------ weights

    def weights_due(self, head: int) -> bool:
        view = self.metagraph.view
        own = None if view is None else view.by_hotkey.get(self.wallet.hotkey_ss58)
        if view is None or own is None:
            return False
        interval = self.config.set_weights.interval_blocks or max(view.weights_rate_limit, 1)
        last = max(own.last_update, self.last_set_weights_block or 0)
        return head >= max(last + interval, self._next_weights_block)

    async def set_weights(self, head: int) -> str | None:
        """One SetWeights attempt; returns its outcome (None: nothing to set)."""
        uids, weights = self.board.weights()
        if not uids:
            return None
        sw = self.config.set_weights
        netuid = self.config.chain.netuid
        committed = False
        try:
            # Read at every attempt: an owner may switch commit-reveal on or off at any time.
            commit_reveal, reveal_period = await asyncio.gather(
                self.client.subnets.commit_reveal_enabled(netuid),
                self.client.hyperparameters.reveal_period(netuid),
            )
            intent = bt.CommitWeights if commit_reveal else bt.SetWeights
            result = await self.client.execute(
                intent(netuid, uids=uids, weights=weights),
                self.wallet,
                wait_for_finalization=False,
                retries=sw.retries,
            )
        except Exception as exc:
            outcome = classify_failure(exc)
            detail = f"{type(exc).__name__}: {exc}"
        else:
            if result.success:
                outcome, detail = "success", None
                self.last_set_weights_block = _inclusion_block(result, head)
                committed = "reveal_round" in (result.data or {})
            else:
                outcome = classify_failure(result.error) if result.error else "failed"
                detail = str(result.error or result.message)
        self.metrics.set_weights(outcome)
        if committed:
            self.reveals.committed(self.last_set_weights_block)
            self.metrics.weights_committed()
            self.log.info(
                "weights committed",
                block=self.last_set_weights_block,
                uids=len(uids),
                reveal_period_epochs=reveal_period,
                reveal_round=result.data["reveal_round"],
            )
        elif outcome == "success":
            self.log.info("weights set", block=self.last_set_weights_block, uids=len(uids))
        else:
            # Retry at the next check rather than after a whole interval; the SDK's own
            # preflight turns "too early" into a cheap rate_limited outcome, not a submission.
            self._next_weights_block = head + 1
            self.log.warning("set weights failed", outcome=outcome, error=detail)
        return outcome

    async def _weights_loop(self) -> None:
        await self.metagraph.wait_synced()
        sw = self.config.set_weights
        check = sw.check_interval_seconds
        if check is None:
            try:
                check = max(float(await self.client.block_time()), 0.05)
            except Exception:
                check = 12.0
        while True:
            await asyncio.sleep(check)
            try:
                head = await self.client.block()
            except Exception as exc:
                self.log.warning("head block read failed", error=f"{type(exc).__name__}: {exc}")
                continue
            try:
                if self.weights_due(head):
                    await self.set_weights(head)
            except Exception:  # set_weights classifies chain errors; this is a bug net
                self.log.exception("weights loop iteration failed")
            await self.observe_reveals(head)

    async def observe_reveals(self, head: int) -> None:
        """Count the chain's reveals of our commits (nothing to read when none are pending)."""
        try:
            revealed = await self.reveals.observe(head)
        except Exception as exc:
            # Once a minute, not every check: a runtime without the commit queue (an older
            # node) fails it every second for as long as it runs.
            now, (last, quiet) = time.monotonic(), self._reveal_failures
            if last is None or now - last >= 60:
                self.log.warning(
                    "reveal check failed",
                    error=f"{type(exc).__name__}: {exc}",
                    failures_since_last_line=quiet + 1,
                )
                self._reveal_failures = (now, 0)
            else:
                self._reveal_failures = (last, quiet + 1)
            return
        if self.reveals.missed_last:
            self.metrics.weight_reveals_missed(self.reveals.missed_last)
            self.log.warning(
                "weight commit never revealed",
                missed=self.reveals.missed_last,
                last_commit_block=self.reveals.last_commit_block,
                unrevealed=self.reveals.unrevealed,
            )
        if revealed:
            self.metrics.weights_revealed(revealed)
            self.log.info(
                "weights revealed",
                block=self.reveals.last_reveal_block,
                reveals=revealed,
                unrevealed=self.reveals.unrevealed,
            )

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.runtime.serve_metrics()
        self._session = aiohttp.ClientSession()
        self.runtime.on_close(self._session.close)
        self._fresh_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True)
        )
        self.runtime.on_close(self._fresh_session.close)
        self.runtime.spawn(self.metagraph.run(), name="metagraph-sync")
        self.runtime.spawn(self._query_loop(), name="query-loop")
        if self.config.set_weights.enabled:
            self.runtime.spawn(self._weights_loop(), name="weights-loop")

    async def stop(self) -> None:
        await self.runtime.aclose()
