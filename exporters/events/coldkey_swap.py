"""Coldkey swaps per watched coldkey (``ColdkeySwapAnnouncements``, ``ColdkeySwapDisputes``).

Announced: an announcement appears or its execution block moves. Disputed: a dispute
appears. Executed: ``ColdkeySuccessor`` (spec 475: the new coldkey of every executed swap,
root's ``swap_coldkey`` of a disputed swap included) names a new successor. Reset: the
announcement is gone otherwise (root's reset, or the announcer clearing it after the window).
On a runtime without ``ColdkeySuccessor`` an execution is told from a reset by the watched
hotkeys' new owner (the watched hotkeys it owned at the previous poll), which reports an
execution as a reset for a watched coldkey with no registered watched hotkey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import bittensor as bt

from common.series import Series, cached
from exporters.events.kind import NO_NETUID, Annotation, EventChange, EventKind, Poll, Read
from exporters.family import Family

ACTIONS = ("announced", "disputed", "reset", "executed")

EVENTS = Series(
    "bittensor_coldkey_swap_events",
    "counter",
    cached(
        "Coldkey swap events seen for the watched coldkey, by action (announced, disputed, "
        "reset, executed); persisted across agent restarts."
    ),
    ("coldkey", "action"),
)
EXECUTION_BLOCK = Series(
    "bittensor_coldkey_swap_execution_block",
    "gauge",
    "Block from which the announced swap of the coldkey can execute (the new coldkey's "
    "hash as a label); absent while none is announced.",
    ("coldkey", "new_coldkey_hash"),
)
DISPUTED = Series(
    "bittensor_coldkey_swap_disputed",
    "gauge",
    "1 while the watched coldkey's announced swap is disputed (frozen), else 0.",
    ("coldkey",),
)
NEW_COLDKEY = Series(
    "bittensor_coldkey_swap_new_coldkey_info",
    "gauge",
    "The coldkey the watched coldkey's hotkeys moved to by the last executed swap "
    "(value always 1).",
    ("coldkey", "new_coldkey"),
)


class ColdkeySwaps(EventKind):
    key = "swaps"
    series = (EVENTS, EXECUTION_BLOCK, DISPUTED, NEW_COLDKEY)
    alerts = ("BittensorColdkeySwapAnnounced", "BittensorColdkeySwapChanged")
    order = 10
    dashboard = (
        Annotation(
            "neuron", 40, EVENTS, "coldkey, action", None, "Coldkey swaps", "red",
            "Coldkey swap", "coldkey {{coldkey}}: swap {{action}}",
        ),
    )  # fmt: skip

    def reads(self, poll: Poll) -> tuple[Read, ...]:
        if not poll.coldkeys:
            return ()
        sm = bt.storage.SubtensorModule
        keys = [[ck] for ck in poll.coldkeys]
        return (
            Read(
                "announcements",
                sm.ColdkeySwapAnnouncements,
                keys,
                book="coldkey_swap_announcements",
                absent_when_lacking=True,
            ),
            Read(
                "disputes",
                sm.ColdkeySwapDisputes,
                keys,
                book="coldkey_swap_disputes",
                absent_when_lacking=True,
            ),
            Read("successors", sm.ColdkeySuccessor, keys, optional=True),
        )

    def diff(self, poll: Poll, results: Mapping[str, Sequence[Any]]) -> list[EventChange]:
        out = []
        announcements, disputes = results.get("announcements", []), results.get("disputes", [])
        # ColdkeySuccessor names the new coldkey of every executed swap (root's included);
        # a runtime without it leaves only the watched hotkeys' new owner to go by.
        successors = results.get("successors")
        known = successors is not None
        rows = zip(
            poll.coldkeys,
            announcements,
            disputes,
            successors if known else [None] * len(poll.coldkeys),
            strict=True,
        )
        for ck, ann, disp, succ in rows:
            first_sight = ck not in self.state
            rec = self.state.setdefault(
                ck,
                {"execution_block": None, "hash": None, "disputed": False, "new_coldkey": None},
            )
            counts = rec.setdefault("counts", dict.fromkeys(ACTIONS, 0))
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
                        for w in poll.watched
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
                out.append(EventChange(poll.block, NO_NETUID, ck, f"coldkey_swap_{action}", detail))
            rec.update(execution_block=now_at, hash=now_hash, disputed=now_disputed)
            if known:
                rec["successor"] = now_successor
            # The hotkeys it owns now: after an execution, their new owner names the new key.
            rec["hotkeys"] = sorted(
                {w.hotkey for w in poll.watched if w.neuron is not None and w.neuron.coldkey == ck}
            )
        return out

    def families(self, poll: Poll) -> list[Family]:
        recs = [(ck, self.state[ck]) for ck in poll.coldkeys]
        counts = sorted(
            ((ck, action), r["counts"].get(action, 0)) for ck, r in recs for action in ACTIONS
        )
        pending = [(ck, r) for ck, r in recs if r["execution_block"] is not None]
        executed = [(ck, r) for ck, r in recs if r["new_coldkey"] is not None]
        return [
            Family(EVENTS, [k for k, _ in counts], [float(n) for _, n in counts]),
            Family(
                EXECUTION_BLOCK,
                [(ck, r["hash"] or "") for ck, r in pending],
                [float(r["execution_block"]) for _, r in pending],
            ),
            Family(
                DISPUTED,
                [(ck,) for ck, _ in recs],
                [1.0 if r["disputed"] else 0.0 for _, r in recs],
            ),
            Family(
                NEW_COLDKEY, [(ck, r["new_coldkey"]) for ck, r in executed], [1.0] * len(executed)
            ),
        ]
