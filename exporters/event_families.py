"""The metric families of the chain events (``exporters/events.py``), from one snapshot.

Every counter exists at 0 from the first poll that sees its key (each watched coldkey and
action, each watched hotkey, each tracked hyperparameter of a read subnet), so the alerts'
``increase()`` sees the first event as a step from 0, never as a new series.
"""

from __future__ import annotations

from common.metric_names import Events as E
from exporters.events import EventsView
from exporters.family import CACHED, Family
from exporters.snapshot import ChainSnapshot


def event_families(snapshot: ChainSnapshot | None) -> list[Family]:
    view = getattr(snapshot, "events", None)
    if view is None:
        return []
    return _swaps(view) + _takes(view) + _children(view) + _hyper(view) + _churn(view)


def _swaps(v: EventsView) -> list[Family]:
    counts = sorted(v.swap_counts.items())
    pending = [s for s in v.swaps if s.execution_block is not None]
    executed = [s for s in v.swaps if s.new_coldkey is not None]
    return [
        Family(
            E.COLDKEY_SWAP_EVENTS,
            "counter",
            f"Coldkey swap events seen for the watched coldkey, by action (announced, disputed, "
            f"reset, executed); persisted across agent restarts. {CACHED}",
            ("coldkey", "action"),
            [k for k, _ in counts],
            [float(n) for _, n in counts],
        ),
        Family(
            E.COLDKEY_SWAP_EXECUTION_BLOCK,
            "gauge",
            "Block from which the announced swap of the coldkey can execute (the new coldkey's "
            "hash as a label); absent while none is announced.",
            ("coldkey", "new_coldkey_hash"),
            [(s.coldkey, s.new_coldkey_hash or "") for s in pending],
            [float(s.execution_block) for s in pending],  # type: ignore[arg-type]
        ),
        Family(
            E.COLDKEY_SWAP_DISPUTED,
            "gauge",
            "1 while the watched coldkey's announced swap is disputed (frozen), else 0.",
            ("coldkey",),
            [(s.coldkey,) for s in v.swaps],
            [1.0 if s.disputed else 0.0 for s in v.swaps],
        ),
        Family(
            E.COLDKEY_SWAP_NEW_COLDKEY,
            "gauge",
            "The coldkey the watched coldkey's hotkeys moved to by the last executed swap "
            "(value always 1).",
            ("coldkey", "new_coldkey"),
            [(s.coldkey, s.new_coldkey or "") for s in executed],
            [1.0] * len(executed),
        ),
    ]


def _takes(v: EventsView) -> list[Family]:
    rows = sorted(v.takes.items())
    changed = [(hk, t) for hk, t in rows if t[1] is not None]
    return [
        Family(
            E.DELEGATE_TAKE_RATIO,
            "gauge",
            f"The watched hotkey's delegate take, 0..1 (Delegates / 65535). {CACHED}",
            ("hotkey",),
            [(hk,) for hk, _ in rows],
            [t[0] for _, t in rows],
        ),
        Family(
            E.DELEGATE_TAKE_PREVIOUS_RATIO,
            "gauge",
            "The take before its last change, 0..1; absent until it changes.",
            ("hotkey",),
            [(hk,) for hk, _ in changed],
            [t[1] for _, t in changed],
        ),
        Family(
            E.DELEGATE_TAKE_CHANGES,
            "counter",
            "Changes of the watched hotkey's take (persisted across restarts).",
            ("hotkey",),
            [(hk,) for hk, _ in rows],
            [float(t[2]) for _, t in rows],
        ),
    ]


def _children(v: EventsView) -> list[Family]:
    counts = sorted(v.child_counts.items())
    proportions: list[tuple[tuple[str, ...], float]] = []
    for c in v.children:
        for stage, pairs in (("applied", c.applied), ("previous", c.previous)):
            proportions += [((str(c.netuid), c.hotkey, k, stage), p) for k, p in pairs]
        if c.pending_block is not None:
            proportions += [((str(c.netuid), c.hotkey, k, "pending"), p) for k, p in c.pending]
    pending = [c for c in v.children if c.pending_block is not None]
    return [
        Family(
            E.CHILDKEY_CHANGES,
            "counter",
            "Childkey changes of the watched hotkey on the subnet, by stage: pending (a new "
            "proposal is scheduled) and applied (the applied children changed).",
            ("netuid", "hotkey", "stage"),
            [(str(n), hk, st) for (n, hk, st), _ in counts],
            [float(x) for _, x in counts],
        ),
        Family(
            E.CHILDKEY_PROPORTION,
            "gauge",
            "Share of the hotkey's stake weight given to the child, 0..1, by stage: applied, "
            "previous (the applied set before its last change) and pending.",
            ("netuid", "hotkey", "child", "stage"),
            [k for k, _ in proportions],
            [p for _, p in proportions],
        ),
        Family(
            E.CHILDKEY_PENDING_APPLY_BLOCK,
            "gauge",
            "Block at which the pending childkey proposal applies; absent with none pending.",
            ("netuid", "hotkey"),
            [(str(c.netuid), c.hotkey) for c in pending],
            [float(c.pending_block) for c in pending],  # type: ignore[arg-type]
        ),
    ]


def _hyper(v: EventsView) -> list[Family]:
    counts = sorted(v.hyper_counts.items())
    changed = sorted(v.hyper_changed.items())
    labels = [(str(n), name) for (n, name), _ in changed]
    return [
        Family(
            E.HYPERPARAMETER_CHANGES,
            "counter",
            "Changes of the subnet's hyperparameter seen between two polls (persisted across "
            "restarts); the value is in the metagraph record the poll reads anyway.",
            ("netuid", "name"),
            [(str(n), name) for (n, name), _ in counts],
            [float(x) for _, x in counts],
        ),
        Family(
            E.HYPERPARAMETER_CHANGED_VALUE,
            "gauge",
            "Current value of a hyperparameter that changed (raw chain units: blocks, u16 "
            "parts, rao, 0/1); absent for one that never changed.",
            ("netuid", "name"),
            labels,
            [x[0] for _, x in changed],
        ),
        Family(
            E.HYPERPARAMETER_PREVIOUS_VALUE,
            "gauge",
            "The hyperparameter's value before its last change (raw chain units).",
            ("netuid", "name"),
            labels,
            [x[1] for _, x in changed],
        ),
    ]


def _churn(v: EventsView) -> list[Family]:
    labels = [(str(c.netuid),) for c in v.churn]
    return [
        Family(
            E.SUBNET_REGISTRATIONS,
            "counter",
            "Registrations on the subnet seen between polls (a new uid, or a uid taken by "
            "another hotkey or registration block); persisted across restarts.",
            ("netuid",),
            labels,
            [float(c.registrations) for c in v.churn],
        ),
        Family(
            E.SUBNET_DEREGISTRATIONS,
            "counter",
            "Neurons of the subnet replaced (pruned) or removed, seen between polls.",
            ("netuid",),
            labels,
            [float(c.deregistrations) for c in v.churn],
        ),
        Family(
            E.SUBNET_LAST_DEREGISTERED_EMISSION_ALPHA,
            "gauge",
            "Alpha emitted by the last epoch to the neuron last pruned on the subnet: what it "
            "took not to survive. Absent until one is seen.",
            ("netuid",),
            labels,
            [c.last_deregistered_emission_alpha for c in v.churn],
        ),
        Family(
            E.SUBNET_LAST_DEREGISTERED_BLOCK,
            "gauge",
            "Block of the poll that saw the subnet's last pruning.",
            ("netuid",),
            labels,
            [
                None if c.last_deregistered_block is None else float(c.last_deregistered_block)
                for c in v.churn
            ],
        ),
        Family(
            E.SUBNET_AXONS_SERVED,
            "gauge",
            f"Neurons of the subnet serving an axon (non-zero ip). {CACHED}",
            ("netuid",),
            labels,
            [float(c.axons_served) for c in v.churn],
        ),
    ]
