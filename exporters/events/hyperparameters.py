"""Hyperparameter changes per read subnet, from the ``subnets.metagraph`` record the poll
already read (no extra call): every scalar hyperparameter in it, and the storage-only
switches the poll read chain-wide (``exporters/storage_switches.py``), old and new value.

Simplified against subtensor by simnet: its metagraph record reports
``liquid_alpha_enabled``, ``alpha_high``/``alpha_low`` and ``rho`` as constants, so changing
them there shows no diff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from common.series import Series
from exporters.events.kind import Annotation, EventChange, EventKind, PanelQuery, Poll, number
from exporters.family import Family

# Scalar hyperparameters of the ``get_metagraph`` record (runtime names).
HYPERPARAMETERS = (
    "tempo", "rho", "kappa", "min_allowed_weights", "max_weights_limit", "weights_version",
    "weights_rate_limit", "activity_cutoff", "max_validators", "max_uids", "immunity_period",
    "min_burn", "max_burn", "adjustment_alpha", "adjustment_interval",
    "target_regs_per_interval", "max_regs_per_block", "serving_rate_limit",
    "registration_allowed", "commit_reveal_weights_enabled", "commit_reveal_period",
    "liquid_alpha_enabled", "alpha_high", "alpha_low", "bonds_moving_avg",
)  # fmt: skip

CHANGES = Series(
    "bittensor_subnet_hyperparameter_changes",
    "counter",
    "Changes of the subnet's hyperparameter seen between two polls (persisted across "
    "restarts); the value is in the metagraph record the poll reads anyway.",
    ("netuid", "name"),
)
CHANGED_VALUE = Series(
    "bittensor_subnet_hyperparameter_changed_value",
    "gauge",
    "Current value of a hyperparameter that changed (raw chain units: blocks, u16 "
    "parts, rao, 0/1); absent for one that never changed.",
    ("netuid", "name"),
)
PREVIOUS_VALUE = Series(
    "bittensor_subnet_hyperparameter_previous_value",
    "gauge",
    "The hyperparameter's value before its last change (raw chain units).",
    ("netuid", "name"),
)


class Hyperparameters(EventKind):
    key = "hyper"
    series = (CHANGES, CHANGED_VALUE, PREVIOUS_VALUE)
    alerts = ("BittensorSubnetHyperparameterChanged",)
    order = 40
    dashboard = (
        Annotation(
            "subnet", 10, CHANGES, "netuid, name", "subnet", "Hyperparameter changes", "yellow",
            "Hyperparameter changed", "sn{{netuid}}: {{name}} changed",
        ),
        Annotation(
            "neuron", 10, CHANGES, "netuid, name", "subnet", "Hyperparameter changes", "yellow",
            "Hyperparameter changed", "sn{{netuid}}: {{name}} changed",
        ),
        PanelQuery(
            "subnet", 10, CHANGES, "netuid, name", "subnet", "sn{{netuid}} {{name}} changed"
        ),
        PanelQuery("neuron", 30, CHANGES, "name", "subnet", "{{name}} changed"),
    )  # fmt: skip

    def diff(self, poll: Poll, results: Mapping[str, Sequence[Any]]) -> list[EventChange]:
        out = []
        for netuid, mg in sorted(poll.metagraphs.items()):
            raw = getattr(mg, "raw", None) or {}
            values = {
                name: v for name in HYPERPARAMETERS if (v := number(raw.get(name))) is not None
            }
            # The storage-only switches (exporters.storage_switches), by storage name.
            view = poll.subnets.get(netuid)
            if view is not None and view.exists:
                values.update(view.rules.settings)
            rec = self.state.get(str(netuid))
            if rec is None:
                self.state[str(netuid)] = {"values": values, "changed": {}}
                continue
            for name, now in values.items():
                was = rec["values"].get(name)
                if was is None or was == now:
                    continue
                changed = rec["changed"].setdefault(name, {"previous": was, "count": 0})
                changed.update(previous=was, count=changed["count"] + 1)
                detail = f"{name} {was:g} -> {now:g}"
                out.append(EventChange(poll.block, netuid, "", "hyperparameter_changed", detail))
            rec["values"] = values
        return out

    def families(self, poll: Poll) -> list[Family]:
        counts, changed = {}, {}
        for netuid, view in sorted(poll.subnets.items()):
            rec = self.state.get(str(netuid))
            if not view.exists or rec is None:
                continue
            for name, value in rec["values"].items():
                change = rec["changed"].get(name)
                counts[(netuid, name)] = change["count"] if change else 0
                if change:
                    changed[(netuid, name)] = (value, change["previous"])
        count_rows, changed_rows = sorted(counts.items()), sorted(changed.items())
        labels = [(str(n), name) for (n, name), _ in changed_rows]
        return [
            Family(
                CHANGES,
                [(str(n), name) for (n, name), _ in count_rows],
                [float(x) for _, x in count_rows],
            ),
            Family(CHANGED_VALUE, labels, [x[0] for _, x in changed_rows]),
            Family(PREVIOUS_VALUE, labels, [x[1] for _, x in changed_rows]),
        ]
