"""Childkeys per watched (netuid, hotkey): ``PendingChildKeys`` (a new proposal is
``pending``) and ``ChildKeys`` (the applied set changed is ``applied``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import bittensor as bt

from common.series import Series
from exporters.events.kind import (
    Annotation,
    EventChange,
    EventKind,
    PanelQuery,
    Poll,
    Read,
    child_pairs,
    children_text,
)
from exporters.family import Family

STAGES = ("pending", "applied")

CHANGES = Series(
    "bittensor_childkey_changes",
    "counter",
    "Childkey changes of the watched hotkey on the subnet, by stage: pending (a new "
    "proposal is scheduled) and applied (the applied children changed).",
    ("netuid", "hotkey", "stage"),
)
PROPORTION = Series(
    "bittensor_childkey_proportion",
    "gauge",
    "Share of the hotkey's stake weight given to the child, 0..1, by stage: applied, "
    "previous (the applied set before its last change) and pending.",
    ("netuid", "hotkey", "child", "stage"),
)
PENDING_APPLY_BLOCK = Series(
    "bittensor_childkey_pending_apply_block",
    "gauge",
    "Block at which the pending childkey proposal applies; absent with none pending.",
    ("netuid", "hotkey"),
)


class Childkeys(EventKind):
    key = "children"
    series = (CHANGES, PROPORTION, PENDING_APPLY_BLOCK)
    alerts = ("BittensorChildkeysChanged",)
    order = 30
    dashboard = (
        Annotation(
            "neuron", 30, CHANGES, "netuid, hotkey, stage", "neuron", "Childkey changes", "blue",
            "Childkeys changed", "sn{{netuid}} {{hotkey}}: childkeys {{stage}}",
        ),
        PanelQuery("neuron", 20, CHANGES, "stage", "neuron", "childkeys {{stage}}"),
    )  # fmt: skip

    def reads(self, poll: Poll) -> tuple[Read, ...]:
        if not poll.pairs:
            return ()
        sm = bt.storage.SubtensorModule
        return (
            Read("children", sm.ChildKeys, [[hk, n] for n, hk in poll.pairs], book="child_keys"),
            Read(
                "pending",
                sm.PendingChildKeys,
                [[n, hk] for n, hk in poll.pairs],
                book="pending_child_keys",
            ),
        )

    def diff(self, poll: Poll, results: Mapping[str, Sequence[Any]]) -> list[EventChange]:
        out = []
        rows = zip(poll.pairs, results.get("children", []), results.get("pending", []), strict=True)
        for (netuid, hk), applied_raw, pending_raw in rows:
            applied = child_pairs(applied_raw)
            kids, at = pending_raw if pending_raw else ([], 0)
            proposal, pending_block = child_pairs(kids), (int(at) or None)
            key = f"{netuid}:{hk}"
            rec = self.state.get(key)
            if rec is None:
                self.state[key] = {
                    "applied": applied,
                    "previous": [],
                    "pending": proposal,
                    "pending_block": pending_block,
                    "counts": dict.fromkeys(STAGES, 0),
                }
                continue
            counts = rec["counts"]
            if pending_block is not None and (
                proposal != rec["pending"] or pending_block != rec["pending_block"]
            ):
                counts["pending"] += 1
                detail = (
                    f"children {children_text(rec['applied'])} -> "
                    f"{children_text(proposal)} pending until block {pending_block}"
                )
                out.append(EventChange(poll.block, netuid, hk, "childkeys_pending", detail))
            if applied != rec["applied"]:
                counts["applied"] += 1
                detail = f"children {children_text(rec['applied'])} -> {children_text(applied)}"
                out.append(EventChange(poll.block, netuid, hk, "childkeys_applied", detail))
                rec["previous"] = rec["applied"]
            rec.update(applied=applied, pending=proposal, pending_block=pending_block)
        return out

    def families(self, poll: Poll) -> list[Family]:
        recs = [
            (netuid, hk, r)
            for netuid, hk in poll.pairs
            if (r := self.state.get(f"{netuid}:{hk}")) is not None
        ]
        counts = sorted(
            ((netuid, hk, stage), r["counts"][stage]) for netuid, hk, r in recs for stage in STAGES
        )
        proportions: list[tuple[tuple[str, ...], float]] = []
        for netuid, hk, r in recs:
            for stage in ("applied", "previous"):
                proportions += [((str(netuid), hk, c, stage), p) for c, p in r[stage]]
            if r["pending_block"] is not None:
                proportions += [((str(netuid), hk, c, "pending"), p) for c, p in r["pending"]]
        pending = [(netuid, hk, r) for netuid, hk, r in recs if r["pending_block"] is not None]
        return [
            Family(
                CHANGES,
                [(str(n), hk, st) for (n, hk, st), _ in counts],
                [float(x) for _, x in counts],
            ),
            Family(PROPORTION, [k for k, _ in proportions], [p for _, p in proportions]),
            Family(
                PENDING_APPLY_BLOCK,
                [(str(n), hk) for n, hk, _ in pending],
                [float(r["pending_block"]) for _, _, r in pending],
            ),
        ]
