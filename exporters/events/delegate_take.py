"""The delegate take of each watched hotkey (``Delegates``, u16 parts -> ratio)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import bittensor as bt

from common.series import Series, cached
from exporters.events.kind import (
    NO_NETUID,
    U16_MAX,
    Annotation,
    EventChange,
    EventKind,
    PanelQuery,
    Poll,
    Read,
)
from exporters.family import Family

RATIO = Series(
    "bittensor_delegate_take_ratio",
    "gauge",
    cached("The watched hotkey's delegate take, 0..1 (Delegates / 65535)."),
    ("hotkey",),
)
PREVIOUS_RATIO = Series(
    "bittensor_delegate_take_previous_ratio",
    "gauge",
    "The take before its last change, 0..1; absent until it changes.",
    ("hotkey",),
)
CHANGES = Series(
    "bittensor_delegate_take_changes",
    "counter",
    "Changes of the watched hotkey's take (persisted across restarts).",
    ("hotkey",),
)


class DelegateTake(EventKind):
    key = "takes"
    series = (RATIO, PREVIOUS_RATIO, CHANGES)
    alerts = ("BittensorDelegateTakeChanged",)
    order = 20
    dashboard = (
        Annotation(
            "neuron", 20, CHANGES, "hotkey", "hotkey", "Take changes", "yellow",
            "Delegate take changed", "{{hotkey}}: take changed",
        ),
        PanelQuery("neuron", 10, CHANGES, "hotkey", "hotkey", "take changed"),
    )  # fmt: skip

    def reads(self, poll: Poll) -> tuple[Read, ...]:
        if not poll.hotkeys:
            return ()
        keys = [[hk] for hk in poll.hotkeys]
        return (Read("takes", bt.storage.SubtensorModule.Delegates, keys, book="delegate_take"),)

    def diff(self, poll: Poll, results: Mapping[str, Sequence[Any]]) -> list[EventChange]:
        out = []
        for hk, raw in zip(poll.hotkeys, results.get("takes", []), strict=True):
            if raw is None:
                continue
            now = int(raw) / U16_MAX
            rec = self.state.get(hk)
            if rec is None:
                self.state[hk] = {"take": now, "previous": None, "changes": 0}
                continue
            if now != rec["take"]:
                rec.update(previous=rec["take"], take=now, changes=rec["changes"] + 1)
                detail = f"take {rec['previous']:.2%} -> {now:.2%}"
                out.append(EventChange(poll.block, NO_NETUID, hk, "take_changed", detail))
        return out

    def families(self, poll: Poll) -> list[Family]:
        rows = sorted((hk, r) for hk in poll.hotkeys if (r := self.state.get(hk)) is not None)
        changed = [(hk, r) for hk, r in rows if r["previous"] is not None]
        return [
            Family(RATIO, [(hk,) for hk, _ in rows], [r["take"] for _, r in rows]),
            Family(
                PREVIOUS_RATIO, [(hk,) for hk, _ in changed], [r["previous"] for _, r in changed]
            ),
            Family(CHANGES, [(hk,) for hk, _ in rows], [float(r["changes"]) for _, r in rows]),
        ]
