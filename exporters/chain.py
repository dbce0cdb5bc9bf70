"""The chain poller: one pinned block, two runtime calls per subnet plus fourteen chain-wide reads.

Cost of one steady-state poll, in Substrate calls (asserted call by call in
``tests/exporters/test_poll.py::test_a_poll_costs_two_calls_per_subnet_fourteen_chain_wide_the_head_and_two_hashes``):

* 1 ``block_number`` per configured endpoint (the head; also endpoint health and lag),
* 1 ``block_hash`` for the pinned head (read past every cache; the memo answers the rest),
* 1 ``block_hash`` at the last trusted block (the chain check), skipped while the head stays,
* per read subnet, ``neurons.all`` and ``subnets.metagraph(commitments=False)``,
* 14 chain-wide reads (``exporters/economics.py``), 1 ``spec_version``
  (``exporters/runtime_version.py``), 1 ``query_map`` per commit-reveal subnet with a
  watched validator (``exporters/reveal_watch.py``).

Mechanisms (``exporters/mechanisms.py``): 1 ``query_map`` of ``MechanismCountCurrent``, and
1 ``query_batch`` per read subnet with more than one mechanism: 18 + 2M + K SDK calls with K
such subnets. The finalized head comes pushed (``exporters/finality.py``), read only while
that stream is quiet. Chain events (``exporters/events/``) add 6 ``query_batch`` (one per
storage item the kinds read).
Each read after the chain check fails alone (``exporters/reads.py``), transient failures
retried within the deadline (``exporters/retry.py``); a failed poll tries each other endpoint.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import structlog

from exporters.chain_trust import check_chain
from exporters.deregistration import (
    CHANGED,
    LAGGING,
    MISMATCH_KINDS,
    TRUSTED,
    AgentState,
)
from exporters.economics import read_chain_wide
from exporters.endpoints import ERROR_REASONS, EndpointPool, error_reason
from exporters.events import EventWatcher
from exporters.mechanisms import mechanism_counts, mechanism_incentives
from exporters.reads import UNREAD, ReadBook, ready
from exporters.reveal_watch import RevealWatch, watched_validators
from exporters.runtime_version import RuntimeWatch
from exporters.snapshot import ChainSnapshot, ChainView, SubnetView, WatchedNeuron, build_subnet
from exporters.status import Change, PollStatus
from exporters.watch_plan import ColdkeyWatch, WatchPlan

__all__ = ["ChainPoller", "Change", "ColdkeyWatch", "PollStatus", "WatchPlan"]


# Mainnet's block time, for when an endpoint has not told its own yet.
DEFAULT_BLOCK_TIME = 12.0

POLL_ERROR_REASONS = ERROR_REASONS


class ChainPoller:
    def __init__(
        self,
        plan: WatchPlan,
        pool: EndpointPool,
        tracker: AgentState,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        logger: Any = None,
        max_changes: int = 100,
        finality_stale_blocks: float = 5,
        max_concurrent_subnets: int = 32,
        events: EventWatcher | None = None,
        reads: ReadBook | None = None,
    ):
        if max_concurrent_subnets < 1:
            raise ValueError("max_concurrent_subnets must be at least 1")
        self.plan = plan
        # Bounds the subnets read at once, so a whole-network poll does not open hundreds
        # of requests on one RPC endpoint (public ones rate-limit bursts).
        self.max_concurrent_subnets = max_concurrent_subnets
        self.finality_stale_blocks = finality_stale_blocks
        self.pool = pool
        self.tracker = tracker
        self.events = events
        self.reads = reads or ReadBook(logger=logger)
        self.runtime = RuntimeWatch(tracker.section("runtime"), logger=logger)
        self.reveal_watch = RevealWatch(tracker.section("reveals"), logger=logger)
        self.timeout = timeout
        self._clock = clock
        self._log = logger or structlog.get_logger("taowatch.exporter")
        self._snapshot: ChainSnapshot | None = None
        self._status = PollStatus(
            errors=MappingProxyType(dict.fromkeys(POLL_ERROR_REASONS, 0)),
            shard=(plan.shard_index, plan.shard_count),
        )
        self.changes: deque[Change] = deque(maxlen=max_changes)
        self._discovered: dict[int, set[tuple[str, str]]] = {}  # netuid -> {(hotkey, source)}
        self._polls_since_discovery: int | None = None
        self._head_seen: tuple[int, float] | None = None
        self._listeners: list[Callable[[ChainSnapshot, ChainSnapshot | None], Any]] = []
        self._lock = asyncio.Lock()
        # Hotkeys found through a coldkey in earlier runs stay watched, so their
        # deregistration still shows as registered=0 after a restart.
        for netuid, hotkey, source in tracker.known("coldkey:"):
            self._discovered.setdefault(netuid, set()).add((hotkey, source))

    # -- public state ----------------------------------------------------------------------

    @property
    def snapshot(self) -> ChainSnapshot | None:
        return self._snapshot

    @property
    def status(self) -> PollStatus:
        return self._status

    def set_interval(self, seconds: float) -> None:
        self._status = replace(self._status, interval=seconds)

    def add_listener(self, fn: Callable[[ChainSnapshot, ChainSnapshot | None], Any]) -> None:
        """Call ``fn(new, previous)`` after every successful poll (e.g. the InfluxDB sink)."""
        self._listeners.append(fn)

    def block_time(self) -> float | None:
        """The active endpoint's block time, else any endpoint's that has told it."""
        ep = self.pool.active
        if ep is not None and ep.block_time is not None:
            return ep.block_time
        return next((e.block_time for e in self.pool.endpoints if e.block_time), None)

    def start(self) -> None:
        """Start the finality watchers; :meth:`close` stops them. Needs a running loop."""
        self.pool.start()

    # -- the poll --------------------------------------------------------------------------

    async def poll(self) -> bool:
        """One poll; never raises. Returns whether it produced a new snapshot."""
        async with self._lock:
            started = time.perf_counter()
            now = self._clock()
            try:
                async with asyncio.timeout(self.timeout):
                    snapshot = await self._poll()
            except Exception as exc:
                reason = exc.reason if isinstance(exc, _NoEndpoint) else error_reason(exc)
                self._failed(now, time.perf_counter() - started, reason, exc)
                return False
            finally:
                self._commit_state()
            duration = time.perf_counter() - started
            previous = self._snapshot
            self._snapshot = snapshot
            self._status = replace(
                self._status,
                **self._mismatch_fields(snapshot.chain_mismatch),
                up=True,
                polls=self._status.polls + 1,
                reads=self.reads.view(),
                last_poll_at=now,
                last_success_at=now,
                last_duration=duration,
                endpoints=tuple(self.pool.status()),
            )
            self._log.debug(
                "polled",
                block=snapshot.block,
                endpoint=snapshot.endpoint,
                subnets=len(snapshot.subnets),
                duration=round(duration, 4),
            )
            for fn in self._listeners:
                try:
                    fn(snapshot, previous)
                except Exception:
                    self._log.exception("poll listener failed")
            return True

    def _commit_state(self) -> None:
        """Write the state file once per poll, after every endpoint it tried (the tracker
        writes only when something changed)."""
        try:
            self.tracker.save()
        except OSError as exc:
            # Counting goes on in memory; the next poll's commit retries.
            self._log.error("state file write failed", error=str(exc))

    def _mismatch_fields(self, kind: str | None) -> dict[str, Any]:
        counts = self._status.chain_mismatches
        if kind is not None and kind != self._status.chain_mismatch:
            counts = MappingProxyType({**counts, kind: counts.get(kind, 0) + 1})
        return {"chain_mismatch": kind, "chain_mismatches": counts}

    def _failed(self, now: float, duration: float, reason: str, exc: BaseException) -> None:
        errors = dict(self._status.errors)
        errors[reason] = errors.get(reason, 0) + 1
        message = f"{reason}: {type(exc).__name__}: {exc}"[:500]
        self._status = replace(
            self._status,
            up=False,
            polls=self._status.polls + 1,
            errors=MappingProxyType(errors),
            reads=self.reads.view(),
            last_poll_at=now,
            last_duration=duration,
            last_error=message,
            last_error_at=now,
            endpoints=tuple(self.pool.status()),
        )
        self._log.warning("poll failed", reason=reason, error=str(exc) or type(exc).__name__)

    async def _poll(self) -> ChainSnapshot:
        await self.pool.probe()
        ep = self.pool.active
        last_exc: BaseException | None = None
        # Try the active endpoint, then (at most once each) the others still healthy.
        for _ in range(len(self.pool.endpoints)):
            if ep is None:
                break
            try:
                return await self._read(ep)
            except Exception as exc:
                last_exc = exc
                self._log.warning(
                    "read failed", endpoint=ep.label, reason=error_reason(exc), error=str(exc)
                )
                ep = self.pool.fail_active(exc)
        if last_exc is not None:
            raise last_exc
        # Every endpoint failed its probe: report why the first one did.
        raise _NoEndpoint(
            self.pool.endpoints[0].last_reason or "unreachable",
            "no endpoint answered: "
            + "; ".join(f"{e.label}: {e.last_error}" for e in self.pool.endpoints),
        )

    async def _read(self, ep: Any) -> ChainSnapshot:
        if self.tracker.reload_if_replaced():
            self._adopted()
        head = ep.head
        client = ep.client
        verdict, genesis, head_hash = await self._judge(ep, head)
        now = self._clock()
        if self._head_seen is None or head != self._head_seen[0]:
            # Both directions: a rewound endpoint's head is still a head that moves.
            self._head_seen = (head, now)
        if verdict in MISMATCH_KINDS:
            return self._head_only(ep, head, now, verdict)
        if verdict == LAGGING:
            # A node a few blocks behind the trusted head: its older block could show a
            # fresh registration as missing, so the last trusted values stay, at its head.
            return self._head_only(ep, head, now, None)
        await self._maybe_discover(client, head)
        netuids = sorted(
            self.plan.fixed_netuids() | {n for n in self._discovered if self.plan.owns(n)}
        )
        snap = await client.at(head)
        book = self.reads
        # Per poll, not per poller: a semaphore belongs to the loop it was first used on.
        gate = asyncio.Semaphore(self.max_concurrent_subnets)
        # Read alongside the subnets, not before them: only the per-mechanism reads wait on it.
        counts = asyncio.ensure_future(mechanism_counts(snap, book)) if netuids else None

        async def read_subnet(netuid: int) -> tuple[list, Any, tuple]:
            # Each read fails alone (exporters/reads.py): an unread one is UNREAD, and a
            # subnet missing either record is left out of this poll, not reported gone.
            async with gate:
                return await asyncio.gather(
                    book.read("neurons", snap.neurons.all(netuid), context=netuid, failed=UNREAD),
                    book.read(
                        "metagraph",
                        snap.subnets.metagraph(netuid, commitments=False),
                        context=netuid,
                        failed=UNREAD,
                    ),
                    mechanism_incentives(snap, netuid, counts, book),
                )

        # Finality comes pushed by the endpoint's subscription; read it only when that has
        # gone quiet (or is not running), so a stalled stream cannot pose as a live one.
        watcher = ep.finality
        stale_after = self.finality_stale_blocks * (ep.block_time or DEFAULT_BLOCK_TIME)
        fresh = watcher is not None and watcher.fresh(stale_after)
        finalized_read = (
            ready(watcher.latest) if fresh else book.read("finalized", client.finalized_block())
        )
        source = "subscription" if fresh else "read"
        finalized, spec, wide, *all_reads = await asyncio.gather(
            finalized_read,
            book.read("spec_version", client.spec_version()),
            read_chain_wide(snap, book),
            *(read_subnet(n) for n in netuids),
        )
        read = {
            n: r
            for n, r in zip(netuids, all_reads, strict=True)
            if r[0] is not UNREAD and r[1] is not UNREAD
        }
        netuids = sorted(read)
        reads = [read[n] for n in netuids]
        runtime = self.runtime.observe(spec, head) if spec is not None else self.runtime.view
        now = self._clock()
        subnets = {
            n: replace(
                build_subnet(
                    n,
                    head,
                    neurons,
                    mg,
                    registration_window_blocks=self.plan.registration_window_blocks,
                    chain_wide=wide,
                ),
                mechanism_incentives=per_mechanism if mg is not None else (),
            )
            for n, (neurons, mg, per_mechanism) in zip(netuids, reads, strict=True)
        }
        watched = self._watch(subnets, head)
        events = await self._observe_events(snap, head, subnets, reads, watched)
        validators = watched_validators(watched, subnets)
        reveals = await self.reveal_watch.observe(client, snap, head, validators, self.reads)
        if verdict == TRUSTED:
            self.tracker.trust(genesis, head, head_hash)
        previous = self._snapshot
        snapshot = ChainSnapshot(
            chain=ChainView(
                head=head,
                finalized=int(finalized) if finalized is not None else None,
                block_time=ep.block_time,
                head_advanced_at=self._head_seen[1],
                finalized_source=source if finalized is not None else None,
            ),
            endpoint=ep.label,
            taken_at=now,
            subnets=MappingProxyType(subnets),
            watched=watched,
            export_all=frozenset(n for n in self.plan.export_all if self.plan.owns(n)),
            deregistrations=MappingProxyType(self.tracker.counts()),
            events=events,
            chain_wide=wide,
            runtime=runtime,
            reveals=reveals,
            registration_cost_alert_tao=MappingProxyType(
                dict(self.plan.registration_cost_alert_tao)
            ),
            chain_id=self.tracker.chain,
        )
        # Saved by poll()'s _commit_state, with the rest of the state file.
        self.tracker.set_section("runtime", self.runtime.state())
        self.tracker.set_section("reveals", self.reveal_watch.state())
        self._record_changes(previous, snapshot)
        return snapshot

    async def _observe_events(self, snap: Any, head: int, subnets: dict, reads: list, watched):
        """Chain events (``exporters/events/``) into the change log and the state file."""
        if self.events is None:
            return None
        mgs = {n: r[1] for n, r in zip(subnets, reads, strict=True)}  # subnets is in read order
        coldkeys = [cw.coldkey for cw in self.plan.coldkeys]
        for e in await self.events.observe(snap, head, subnets, mgs, watched, coldkeys, self.reads):
            self.changes.append(Change(self._clock(), e.block, e.netuid, e.key, e.kind, e.detail))
        self.tracker.set_section("events", self.events.state())
        return self.events.view

    async def _judge(self, ep: Any, head: int) -> tuple[str, str, str]:
        """Check the endpoint's chain against the tracker's anchor: (verdict, genesis, hash).

        Every hash it compares is read from the node now (``exporters/chain_trust.py``):
        neither the memo nor the SDK's block-hash cache may answer for a chain that can have
        changed behind the same URL since.
        """
        anchor = self.tracker.anchor
        check = await check_chain(ep.memo, anchor, head, lag_blocks=self.tracker.lag_blocks)
        verdict, genesis, head_hash = check.verdict, check.genesis, check.head_hash
        if verdict in MISMATCH_KINDS and self._status.chain_mismatch != verdict:
            self._log.warning(
                "endpoint chain changed" if verdict == CHANGED else "endpoint rewound",
                endpoint=ep.label,
                head=head,
                trusted_block=anchor.block if anchor else None,
                genesis=genesis,
                trusted_genesis=anchor.genesis if anchor else None,
                trusted_chain=self.tracker.chain,
            )
        elif verdict == LAGGING:
            self._log.debug("endpoint behind the trusted block", endpoint=ep.label, head=head)
        return verdict, genesis, head_hash

    def _adopted(self) -> None:
        """The state file was replaced by an adoption (``taowatch agent --adopt-chain``):
        everything remembered about the old chain goes, the file's history takes over."""
        self._log.warning("adopted a new chain", chain=self.tracker.chain)
        if self.events is not None:
            self.events = EventWatcher(self.tracker.section("events"), logger=self._log)
        self.runtime = RuntimeWatch(self.tracker.section("runtime"), logger=self._log)
        self.reveal_watch = RevealWatch(self.tracker.section("reveals"), logger=self._log)
        self._discovered = {}
        for netuid, hotkey, source in self.tracker.known("coldkey:"):
            self._discovered.setdefault(netuid, set()).add((hotkey, source))
        self._snapshot = None

    def _head_only(self, ep: Any, head: int, now: float, kind: str | None) -> ChainSnapshot:
        """The endpoint's head with no data read there, next to the last trusted poll's
        values, whether the endpoint lags (``kind`` None) or is rewound or on another chain.

        Kept, not withheld: a withheld series resolves every alert that reads it (a stake
        drop, a take change) and releases what it inhibited, and the same alert fires again
        as a new incident once the chain is trusted again. Frozen values keep each alert's
        state as it was at the last trusted block, for however long the mismatch lasts
        (``keep_firing_for``, which Prometheus has since 2.42, would hold firing alerts for
        a fixed time only, delay every genuine resolve, and still reset pending ones; guards
        on the mismatch gauge in every rule would be one more clause each rule could miss).
        They are marked: ``bittensor_exporter_chain_mismatch{kind}`` is 1 and
        ``bittensor_exporter_source_block`` stays at the trusted block. Nothing is counted:
        the tracker sees no read from this endpoint. An agent started while its endpoint is
        off the trusted chain has no values in memory to keep and exports none until then."""
        assert self._head_seen is not None
        chain = ChainView(
            head=head,
            finalized=None,
            block_time=ep.block_time,
            head_advanced_at=self._head_seen[1],
            finalized_source=None,
        )
        previous = self._snapshot
        if previous is not None:
            return replace(
                previous,
                chain=chain,
                endpoint=ep.label,
                taken_at=now,
                chain_mismatch=kind,
                values_block=previous.source_block,
            )
        return ChainSnapshot(
            chain=chain,
            endpoint=ep.label,
            taken_at=now,
            subnets=MappingProxyType({}),
            watched=(),
            export_all=frozenset(),
            deregistrations=MappingProxyType(self.tracker.counts()),
            chain_mismatch=kind,
            events=self.events.view if self.events is not None else None,
            chain_id=self.tracker.chain,
        )

    async def _maybe_discover(self, client: Any, head: int) -> None:
        everywhere = [cw for cw in self.plan.coldkeys if cw.netuids is None]
        if not everywhere:
            return
        n = self._polls_since_discovery
        if n is not None and n < self.plan.rediscover_every_polls:
            self._polls_since_discovery = n + 1
            return
        snap = await client.at(head)
        found = await self.reads.read("coldkey_discovery", self._discover(snap, everywhere))
        if found is None:
            return  # failed alone: the subnets found before are read, and the next poll retries
        for netuid, hk, source in found:
            self._discovered.setdefault(netuid, set()).add((hk, source))
        self._polls_since_discovery = 1

    @staticmethod
    async def _discover(snap: Any, everywhere: list[ColdkeyWatch]) -> list[tuple[int, str, str]]:
        found = []
        for cw in everywhere:
            hotkeys = await snap.neurons.owned_hotkeys(cw.coldkey)
            memberships = await asyncio.gather(
                *(snap.neurons.netuids_for_hotkey(hk) for hk in hotkeys)
            )
            for hk, netuids in zip(hotkeys, memberships, strict=True):
                found += [(int(n), hk, cw.source) for n in netuids]
        return found

    def _watch(self, subnets: dict[int, SubnetView], head: int) -> tuple[WatchedNeuron, ...]:
        """The watched (netuid, hotkey) pairs at this block, and deregistration bookkeeping."""
        wanted: dict[int, dict[str, str]] = {}
        for n, hk in self.plan.hotkeys:
            wanted.setdefault(n, {})[hk] = "config"
        for cw in self.plan.coldkeys:
            for n, view in subnets.items():
                if cw.netuids is not None and n not in cw.netuids:
                    continue
                for neuron in view.neurons:
                    if neuron.coldkey == cw.coldkey:
                        wanted.setdefault(n, {}).setdefault(neuron.hotkey, cw.source)
                        self._discovered.setdefault(n, set()).add((neuron.hotkey, cw.source))
        for n, pairs in self._discovered.items():
            for hk, source in pairs:
                wanted.setdefault(n, {}).setdefault(hk, source)
        out = []
        for n in sorted(wanted):
            view = subnets.get(n)
            if view is None:
                continue
            hotkeys = wanted[n]
            present = {
                hk: (nv.uid, nv.block_at_registration)
                for hk in hotkeys
                if (nv := view.by_hotkey.get(hk)) is not None
            }
            transitions = self.tracker.observe(n, head, present, sorted(hotkeys.items()))
            for t in transitions:
                if t.kind != "registered":
                    self.changes.append(
                        Change(
                            self._clock(),
                            t.block,
                            t.netuid,
                            t.hotkey,
                            t.kind,
                            f"uid {t.previous_uid} -> {t.uid}",
                        )
                    )
            for hk in sorted(hotkeys):
                out.append(WatchedNeuron(n, hk, hotkeys[hk], view.by_hotkey.get(hk)))
        return tuple(out)

    def _record_changes(self, previous: ChainSnapshot | None, new: ChainSnapshot) -> None:
        if previous is None:
            return
        before = {(w.netuid, w.hotkey): w.neuron for w in previous.watched}
        now = self._clock()
        for w in new.watched:
            old = before.get((w.netuid, w.hotkey))
            cur = w.neuron
            if old is None or cur is None or old.block_at_registration != cur.block_at_registration:
                continue
            for kind, detail in _diff(old, cur, self.plan.stake_drop_ratio):
                self.changes.append(Change(now, new.block, w.netuid, w.hotkey, kind, detail))
                self._log.info(
                    "neuron changed", kind=kind, netuid=w.netuid, hotkey=w.hotkey, detail=detail
                )

    def recent_changes(self, limit: int = 50) -> Iterable[Change]:
        return list(self.changes)[-limit:]

    async def close(self) -> None:
        await self.pool.close()


class _NoEndpoint(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _diff(old: Any, cur: Any, drop_ratio: float) -> list[tuple[str, str]]:
    out = []
    if old.stake_alpha > 0 and cur.stake_alpha <= old.stake_alpha * (1 - drop_ratio):
        held = (
            old.stake_alpha_own is not None
            and cur.stake_alpha_own is not None
            and cur.stake_alpha_own > old.stake_alpha_own * (1 - drop_ratio)
        )
        # Its own stake held: the inherited stake moved to (or back from) childkeys.
        kind = "stake_moved_to_childkeys" if held else "stake_drop"
        out.append((kind, f"stake {old.stake_alpha:.6g} -> {cur.stake_alpha:.6g} alpha"))
    if old.validator_permit and not cur.validator_permit:
        out.append(("validator_permit_lost", "validator permit lost"))
    if old.active and not cur.active:
        out.append(("inactive", f"inactive; last update at block {cur.last_update}"))
    if old.axon != cur.axon:
        fmt = lambda a: f"{a.ip}:{a.port}" if a else "none"  # noqa: E731
        out.append(("axon_changed", f"axon {fmt(old.axon)} -> {fmt(cur.axon)}"))
    return out
