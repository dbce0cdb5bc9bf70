"""Chain events an operator pages on, as storage diffs between two trusted polls.

Per poll (only on the trusted path, only at a block newer than the last one observed) the
:class:`EventWatcher` compares what the chain holds now with what it held at the previous
poll and counts the differences as events:

* **coldkey swap** per watched coldkey (``ColdkeySwapAnnouncements``, ``ColdkeySwapDisputes``):
  announced (an announcement appears or its execution block moves), disputed (a dispute
  appears), executed (the announcement is gone and the coldkey's watched hotkeys now belong to
  another coldkey), reset (the announcement is gone otherwise: root's reset, or the announcer
  clearing it after the window);
* **delegate take** per watched hotkey (``Delegates``, u16 parts -> ratio);
* **childkeys** per watched (netuid, hotkey) (``PendingChildKeys``: a new proposal is
  ``pending``; ``ChildKeys``: the applied set changed is ``applied``);
* **hyperparameters** per read subnet, from the ``subnets.metagraph`` record the poll already
  read (no extra call): every scalar hyperparameter in it, old and new value;
* **churn** per read subnet, from the neuron records the poll already read: a uid that
  appears, or whose hotkey or registration block changed, is a registration (the second case
  also a deregistration of the neuron it replaced, whose last epoch emission is kept);
* **served axons** per read subnet (the axon-collapse alert compares this with its trailing
  median in Prometheus).

Why storage diffs and not ``System.Events`` at the pinned block: events belong to one block,
so a poll that is late, skipped or restarted loses every event of the blocks it did not read
(reading them all costs one ``System.Events`` read per block since the last poll, and mainnet
blocks carry hundreds of events to filter); a storage diff between two polls sees every change
however many blocks lie between them, at a cost that does not grow with the gap. Cost per
poll: 3 ``query_batch`` when coldkeys are watched (with ``ColdkeySuccessor``), 3 when hotkeys
are (take, children, pending children), whatever the number of keys; hyperparameters and
churn cost nothing extra. What a diff cannot see is a change undone between two polls
(announce and reset inside one poll interval); the default interval is one block.

The previous value of each changed quantity is exported as a gauge next to the current one
(``*_previous_*``), not only logged in ``/api/status``: alert templates can query series but
not the agent's change log, so the old -> new text of a notification comes from the gauges.
Each change is also appended to the poller's change log for ``/api/status`` (a coldkey swap or
a take change belongs to a key, not a subnet: its entry has netuid -1 and the key in
``hotkey``).

State (last values and counts) round-trips through :meth:`EventWatcher.state` into the
deregistration tracker's state file, so counters survive an agent restart; the uid table
behind churn is kept in memory only (the first poll after a restart is a new baseline, so
churn during the downtime is not counted).

Simplified against subtensor by simnet (what these tests can show): simnet's metagraph record
reports ``liquid_alpha_enabled``, ``alpha_high``/``alpha_low`` and ``rho`` as constants, so
changing them there shows no diff. A coldkey swap execution is told from a reset by
``ColdkeySuccessor`` (spec 475: the new coldkey of every executed swap, root's ``swap_coldkey``
of a disputed swap included; one more ``query_batch`` when coldkeys are watched); on a runtime
without it, by the watched hotkeys' new owner, which reports an execution as a reset for a
watched coldkey with no registered watched hotkey.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import bittensor as bt
import structlog

from exporters.reads import ReadBook
from exporters.snapshot import SubnetView, WatchedNeuron

U16_MAX = 65535
U64_MAX = 2**64 - 1
SWAP_ACTIONS = ("announced", "disputed", "reset", "executed")
CHILD_STAGES = ("pending", "applied")
# Scalar hyperparameters of the ``get_metagraph`` record (runtime names).
HYPERPARAMETERS = (
    "tempo", "rho", "kappa", "min_allowed_weights", "max_weights_limit", "weights_version",
    "weights_rate_limit", "activity_cutoff", "max_validators", "max_uids", "immunity_period",
    "min_burn", "max_burn", "adjustment_alpha", "adjustment_interval",
    "target_regs_per_interval", "max_regs_per_block", "serving_rate_limit",
    "registration_allowed", "commit_reveal_weights_enabled", "commit_reveal_period",
    "liquid_alpha_enabled", "alpha_high", "alpha_low", "bonds_moving_avg",
)  # fmt: skip
# No subnet-wide (netuid) label: a coldkey swap or a take change belongs to a key.
NO_NETUID = -1


@dataclass(frozen=True, slots=True)
class EventChange:
    """One event, for the poller's change log."""

    block: int
    netuid: int
    key: str
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class SwapView:
    coldkey: str
    execution_block: int | None
    new_coldkey_hash: str | None
    disputed: bool
    new_coldkey: str | None  # known after an execution, from the hotkeys' new owner


@dataclass(frozen=True, slots=True)
class ChildrenView:
    netuid: int
    hotkey: str
    applied: tuple[tuple[str, float], ...]
    previous: tuple[tuple[str, float], ...]
    pending: tuple[tuple[str, float], ...]
    pending_block: int | None


@dataclass(frozen=True, slots=True)
class ChurnView:
    netuid: int
    registrations: int
    deregistrations: int
    axons_served: int
    last_deregistered_block: int | None = None
    last_deregistered_hotkey: str | None = None
    last_deregistered_emission_alpha: float | None = None


@dataclass(frozen=True, slots=True)
class EventsView:
    """Everything the event families render, frozen with the snapshot."""

    swaps: tuple[SwapView, ...] = ()
    swap_counts: Mapping[tuple[str, str], int] = field(default_factory=lambda: MappingProxyType({}))
    takes: Mapping[str, tuple[float, float | None, int]] = field(
        default_factory=lambda: MappingProxyType({})
    )  # hotkey -> (take, previous take, changes)
    children: tuple[ChildrenView, ...] = ()
    child_counts: Mapping[tuple[int, str, str], int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # (netuid, name) -> changes, for every tracked hyperparameter of a read subnet.
    hyper_counts: Mapping[tuple[int, str], int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # (netuid, name) -> (value, previous), only for hyperparameters that changed.
    hyper_changed: Mapping[tuple[int, str], tuple[float, float]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    churn: tuple[ChurnView, ...] = ()


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    rao = getattr(value, "rao", None)
    if isinstance(rao, int):
        return float(rao)
    return None


def _pairs(raw: Any) -> list[list[Any]]:
    """``[(proportion u64, child)]`` as sorted ``[child, ratio]`` (JSON-friendly)."""
    out = [[str(c), int(p) / U64_MAX] for p, c in (raw or [])]
    return sorted(out)


def _fmt_children(pairs: Iterable[Sequence[Any]]) -> str:
    text = ", ".join(f"{c} {p:.4g}" for c, p in pairs)
    return text or "none"


class EventWatcher:
    """Turns per-poll storage reads into event counters; state is plain JSON."""

    def __init__(self, state: Mapping[str, Any] | None = None, *, logger: Any = None):
        self._log = logger or structlog.get_logger("taowatch.exporter")
        state = dict(state or {})
        self._block: int | None = state.get("block")
        self._swaps: dict[str, dict[str, Any]] = dict(state.get("swaps", {}))
        self._takes: dict[str, dict[str, Any]] = dict(state.get("takes", {}))
        self._children: dict[str, dict[str, Any]] = dict(state.get("children", {}))
        self._hyper: dict[str, dict[str, Any]] = dict(state.get("hyper", {}))
        self._churn: dict[str, dict[str, Any]] = dict(state.get("churn", {}))
        # netuid -> uid -> (hotkey, registration block, emission): memory only.
        self._uids: dict[int, dict[int, tuple[str, int, float]]] = {}
        self._view = EventsView()

    def state(self) -> dict[str, Any]:
        return {
            "block": self._block,
            "swaps": self._swaps,
            "takes": self._takes,
            "children": self._children,
            "hyper": self._hyper,
            "churn": self._churn,
        }

    @property
    def view(self) -> EventsView:
        return self._view

    async def observe(
        self,
        snap: Any,
        block: int,
        subnets: Mapping[int, SubnetView],
        metagraphs: Mapping[int, Any],
        watched: Sequence[WatchedNeuron],
        coldkeys: Sequence[str],
        book: ReadBook | None = None,
    ) -> list[EventChange]:
        """Read the governance items at the pinned ``snap`` and diff everything against the
        last observation. A block not newer than the last one observed changes nothing. Each
        item's read fails alone (``book``, ``exporters/reads.py``): a failed one is not diffed
        this poll (a refused read is never an announcement gone or a take changed)."""
        if self._block is not None and block <= self._block:
            return []
        hotkeys = sorted({w.hotkey for w in watched})
        pairs = sorted({(w.netuid, w.hotkey) for w in watched if w.netuid != 0})
        reads = await _read_governance(snap, coldkeys, hotkeys, pairs, book or ReadBook())
        out: list[EventChange] = []
        if reads["announcements"] is not None and reads["disputes"] is not None:
            out += self._diff_swaps(
                block,
                coldkeys,
                reads["announcements"],
                reads["disputes"],
                watched,
                reads["successors"],
            )
        if reads["takes"] is not None:
            out += self._diff_takes(block, hotkeys, reads["takes"])
        if reads["children"] is not None and reads["pending"] is not None:
            out += self._diff_children(block, pairs, reads["children"], reads["pending"])
        out += self._diff_hyper(block, metagraphs, subnets)
        out += self._diff_churn(block, subnets)
        self._block = block
        self._view = self._build_view(coldkeys, hotkeys, pairs, subnets)
        for e in out:
            self._log.info("chain event", kind=e.kind, netuid=e.netuid, key=e.key, detail=e.detail)
        return out

    # -- coldkey swaps --------------------------------------------------------------------

    def _diff_swaps(
        self,
        block: int,
        coldkeys: Sequence[str],
        announcements: Sequence[Any],
        disputes: Sequence[Any],
        watched: Sequence[WatchedNeuron],
        successors: Sequence[Any] | None = None,
    ) -> list[EventChange]:
        out = []
        # ColdkeySuccessor names the new coldkey of every executed swap (root's included);
        # a runtime without it leaves only the watched hotkeys' new owner to go by.
        known = successors is not None
        for ck, ann, disp, succ in zip(
            coldkeys,
            announcements,
            disputes,
            successors if known else [None] * len(coldkeys),
            strict=True,
        ):
            first_sight = ck not in self._swaps
            rec = self._swaps.setdefault(
                ck,
                {"execution_block": None, "hash": None, "disputed": False, "new_coldkey": None},
            )
            counts = rec.setdefault("counts", dict.fromkeys(SWAP_ACTIONS, 0))
            was_at, was_disputed = rec["execution_block"], rec["disputed"]
            now_at, now_hash = (int(ann[0]), str(ann[1])) if ann else (None, None)
            now_disputed = bool(disp)
            actions: list[tuple[str, str]] = []
            if now_at is not None and now_at != was_at:
                actions.append(
                    ("announced", f"swap to {now_hash} announced, executes at block {now_at}")
                )
                rec["new_coldkey"] = None
            if now_disputed and not was_disputed:
                actions.append(("disputed", "swap disputed: frozen until root resets it"))
            now_successor = str(succ) if succ else None
            if known and first_sight:
                rec["successor"] = now_successor  # a baseline, not an event
            if known and now_successor is not None and now_successor != rec.get("successor"):
                rec["new_coldkey"] = now_successor
                actions.append(("executed", f"swap executed: {ck} -> {now_successor}"))
            elif known and now_at is None and was_at is not None:
                actions.append(("reset", f"announced swap (block {was_at}) cleared"))
            elif now_at is None and was_at is not None:
                owned = set(rec.get("hotkeys", ()))
                moved = sorted(
                    {
                        w.neuron.coldkey
                        for w in watched
                        if w.hotkey in owned and w.neuron is not None and w.neuron.coldkey != ck
                    }
                )
                if moved and not was_disputed:
                    rec["new_coldkey"] = moved[0]
                    actions.append(("executed", f"swap executed: {ck} -> {moved[0]}"))
                else:
                    actions.append(("reset", f"announced swap (block {was_at}) cleared"))
            for action, detail in actions:
                counts[action] = counts.get(action, 0) + 1
                out.append(EventChange(block, NO_NETUID, ck, f"coldkey_swap_{action}", detail))
            rec.update(execution_block=now_at, hash=now_hash, disputed=now_disputed)
            if known:
                rec["successor"] = now_successor
            # The hotkeys it owns now: after an execution, their new owner names the new key.
            rec["hotkeys"] = sorted(
                {w.hotkey for w in watched if w.neuron is not None and w.neuron.coldkey == ck}
            )
        return out

    # -- delegate take --------------------------------------------------------------------

    def _diff_takes(
        self, block: int, hotkeys: Sequence[str], takes: Sequence[Any]
    ) -> list[EventChange]:
        out = []
        for hk, raw in zip(hotkeys, takes, strict=True):
            if raw is None:
                continue
            now = int(raw) / U16_MAX
            rec = self._takes.get(hk)
            if rec is None:
                self._takes[hk] = {"take": now, "previous": None, "changes": 0}
                continue
            if now != rec["take"]:
                rec.update(previous=rec["take"], take=now, changes=rec["changes"] + 1)
                out.append(
                    EventChange(
                        block,
                        NO_NETUID,
                        hk,
                        "take_changed",
                        f"take {rec['previous']:.2%} -> {now:.2%}",
                    )
                )
        return out

    # -- childkeys ------------------------------------------------------------------------

    def _diff_children(
        self,
        block: int,
        pairs: Sequence[tuple[int, str]],
        children: Sequence[Any],
        pending: Sequence[Any],
    ) -> list[EventChange]:
        out = []
        for (netuid, hk), applied_raw, pending_raw in zip(pairs, children, pending, strict=True):
            applied = _pairs(applied_raw)
            kids, at = pending_raw if pending_raw else ([], 0)
            proposal, pending_block = _pairs(kids), (int(at) or None)
            key = f"{netuid}:{hk}"
            rec = self._children.get(key)
            if rec is None:
                self._children[key] = {
                    "applied": applied,
                    "previous": [],
                    "pending": proposal,
                    "pending_block": pending_block,
                    "counts": dict.fromkeys(CHILD_STAGES, 0),
                }
                continue
            counts = rec["counts"]
            if pending_block is not None and (
                proposal != rec["pending"] or pending_block != rec["pending_block"]
            ):
                counts["pending"] += 1
                out.append(
                    EventChange(
                        block,
                        netuid,
                        hk,
                        "childkeys_pending",
                        f"children {_fmt_children(rec['applied'])} -> "
                        f"{_fmt_children(proposal)} pending until block {pending_block}",
                    )
                )
            if applied != rec["applied"]:
                counts["applied"] += 1
                out.append(
                    EventChange(
                        block,
                        netuid,
                        hk,
                        "childkeys_applied",
                        f"children {_fmt_children(rec['applied'])} -> {_fmt_children(applied)}",
                    )
                )
                rec["previous"] = rec["applied"]
            rec.update(applied=applied, pending=proposal, pending_block=pending_block)
        return out

    # -- hyperparameters ------------------------------------------------------------------

    def _diff_hyper(
        self,
        block: int,
        metagraphs: Mapping[int, Any],
        subnets: Mapping[int, SubnetView] | None = None,
    ) -> list[EventChange]:
        out = []
        for netuid, mg in sorted(metagraphs.items()):
            raw = getattr(mg, "raw", None) or {}
            values = {name: v for name in HYPERPARAMETERS if (v := _num(raw.get(name))) is not None}
            # The storage-only switches (exporters.storage_switches), by storage name.
            view = (subnets or {}).get(netuid)
            if view is not None and view.exists:
                values.update(view.rules.settings)
            rec = self._hyper.get(str(netuid))
            if rec is None:
                self._hyper[str(netuid)] = {"values": values, "changed": {}}
                continue
            for name, now in values.items():
                was = rec["values"].get(name)
                if was is None or was == now:
                    continue
                changed = rec["changed"].setdefault(name, {"previous": was, "count": 0})
                changed.update(previous=was, count=changed["count"] + 1)
                out.append(
                    EventChange(
                        block, netuid, "", "hyperparameter_changed", f"{name} {was:g} -> {now:g}"
                    )
                )
            rec["values"] = values
        return out

    # -- churn ----------------------------------------------------------------------------

    def _diff_churn(self, block: int, subnets: Mapping[int, SubnetView]) -> list[EventChange]:
        out = []
        for netuid, view in sorted(subnets.items()):
            if not view.exists:
                continue
            now = {
                n.uid: (n.hotkey, n.block_at_registration, n.emission_alpha) for n in view.neurons
            }
            rec = self._churn.setdefault(
                str(netuid), {"registrations": 0, "deregistrations": 0, "last": None}
            )
            before = self._uids.get(netuid)
            self._uids[netuid] = now
            if before is None:
                continue
            registered = gone = 0
            for uid, (hk, reg_at, _emission) in now.items():
                was = before.get(uid)
                if was is None:
                    registered += 1
                elif was[0] != hk or was[1] != reg_at:
                    registered += 1
                    gone += 1
                    rec["last"] = {"block": block, "hotkey": was[0], "emission_alpha": was[2]}
                    out.append(
                        EventChange(
                            block,
                            netuid,
                            was[0],
                            "pruned",
                            f"uid {uid} pruned with emission {was[2]:.6g} alpha; now {hk}",
                        )
                    )
            gone += sum(1 for uid in before if uid not in now)
            rec["registrations"] += registered
            rec["deregistrations"] += gone
        return out

    # -- the frozen view ------------------------------------------------------------------

    def _build_view(
        self,
        coldkeys: Sequence[str],
        hotkeys: Sequence[str],
        pairs: Sequence[tuple[int, str]],
        subnets: Mapping[int, SubnetView],
    ) -> EventsView:
        swaps, swap_counts = [], {}
        for ck in coldkeys:
            rec = self._swaps[ck]
            swaps.append(
                SwapView(
                    ck, rec["execution_block"], rec["hash"], rec["disputed"], rec["new_coldkey"]
                )
            )
            for action in SWAP_ACTIONS:
                swap_counts[(ck, action)] = rec["counts"].get(action, 0)
        takes = {
            hk: (r["take"], r["previous"], r["changes"])
            for hk in hotkeys
            if (r := self._takes.get(hk)) is not None
        }
        children, child_counts = [], {}
        for netuid, hk in pairs:
            rec = self._children.get(f"{netuid}:{hk}")
            if rec is None:
                continue
            children.append(
                ChildrenView(
                    netuid,
                    hk,
                    tuple((c, p) for c, p in rec["applied"]),
                    tuple((c, p) for c, p in rec["previous"]),
                    tuple((c, p) for c, p in rec["pending"]),
                    rec["pending_block"],
                )
            )
            for stage in CHILD_STAGES:
                child_counts[(netuid, hk, stage)] = rec["counts"][stage]
        hyper_counts, hyper_changed = {}, {}
        churn = []
        for netuid, view in sorted(subnets.items()):
            if not view.exists:
                continue
            rec = self._hyper.get(str(netuid))
            if rec is not None:
                for name, value in rec["values"].items():
                    changed = rec["changed"].get(name)
                    hyper_counts[(netuid, name)] = changed["count"] if changed else 0
                    if changed:
                        hyper_changed[(netuid, name)] = (value, changed["previous"])
            c = self._churn.get(str(netuid), {})
            last = c.get("last") or {}
            churn.append(
                ChurnView(
                    netuid,
                    c.get("registrations", 0),
                    c.get("deregistrations", 0),
                    sum(1 for n in view.neurons if n.axon is not None),
                    last.get("block"),
                    last.get("hotkey"),
                    last.get("emission_alpha"),
                )
            )
        return EventsView(
            swaps=tuple(swaps),
            swap_counts=MappingProxyType(swap_counts),
            takes=MappingProxyType(takes),
            children=tuple(children),
            child_counts=MappingProxyType(child_counts),
            hyper_counts=MappingProxyType(hyper_counts),
            hyper_changed=MappingProxyType(hyper_changed),
            churn=tuple(churn),
        )


async def _read_governance(
    snap: Any,
    coldkeys: Sequence[str],
    hotkeys: Sequence[str],
    pairs: Sequence[tuple[int, str]],
    book: ReadBook,
) -> dict[str, list[Any] | None]:
    """The governance items for every watched key, one ``query_batch`` per item, each
    failing alone (None). A runtime without the coldkey-swap maps has no announcement and
    no dispute for anyone (their default)."""
    sm = bt.storage.SubtensorModule
    reads: dict[str, Any] = {}
    if coldkeys:
        keys = [[ck] for ck in coldkeys]
        none = [None] * len(keys)
        reads["announcements"] = book.read(
            "coldkey_swap_announcements",
            snap.query_batch(sm.ColdkeySwapAnnouncements, keys),
            fallback=none,
        )
        reads["disputes"] = book.read(
            "coldkey_swap_disputes", snap.query_batch(sm.ColdkeySwapDisputes, keys), fallback=none
        )
        reads["successors"] = _unless_missing(snap.query_batch(sm.ColdkeySuccessor, keys))
    if hotkeys:
        reads["takes"] = book.read(
            "delegate_take", snap.query_batch(sm.Delegates, [[hk] for hk in hotkeys])
        )
    if pairs:
        reads["children"] = book.read(
            "child_keys", snap.query_batch(sm.ChildKeys, [[hk, n] for n, hk in pairs])
        )
        reads["pending"] = book.read(
            "pending_child_keys",
            snap.query_batch(sm.PendingChildKeys, [[n, hk] for n, hk in pairs]),
        )
    values = await asyncio.gather(*reads.values())
    out: dict[str, Any] = {
        k: [] for k in ("announcements", "disputes", "takes", "children", "pending")
    }
    out["successors"] = None
    return out | dict(zip(reads, values, strict=True))


async def _unless_missing(read: Any) -> Any:
    """None where the runtime has no such item (``ColdkeySuccessor`` is spec 475's)."""
    try:
        return await read
    except Exception:
        return None
