"""Churn and served axons per read subnet, from the neuron records the poll already read.

A uid that appears, or whose hotkey or registration block changed, is a registration (the
second case also a deregistration of the neuron it replaced, whose last epoch emission is
kept). The uid table behind it is kept in memory only: the first poll after a restart is a
new baseline, so churn during the downtime is not counted. Served axons feed the
axon-collapse alert, which compares them with their trailing median in Prometheus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from common.series import Series, cached
from exporters.events.kind import Annotation, EventChange, EventKind, PanelQuery, Poll
from exporters.family import Family

SUBNET = ("netuid",)

REGISTRATIONS = Series(
    "bittensor_subnet_registrations",
    "counter",
    "Registrations on the subnet seen between polls (a new uid, or a uid taken by "
    "another hotkey or registration block); persisted across restarts.",
    SUBNET,
)
DEREGISTRATIONS = Series(
    "bittensor_subnet_deregistrations",
    "counter",
    "Neurons of the subnet replaced (pruned) or removed, seen between polls.",
    SUBNET,
)
LAST_DEREGISTERED_EMISSION_ALPHA = Series(
    "bittensor_subnet_last_deregistered_emission_alpha",
    "gauge",
    "Alpha emitted by the last epoch to the neuron last pruned on the subnet: what it "
    "took not to survive. Absent until one is seen.",
    SUBNET,
)
LAST_DEREGISTERED_BLOCK = Series(
    "bittensor_subnet_last_deregistered_block",
    "gauge",
    "Block of the poll that saw the subnet's last pruning.",
    SUBNET,
)
AXONS_SERVED = Series(
    "bittensor_subnet_axons_served",
    "gauge",
    cached("Neurons of the subnet serving an axon (non-zero ip)."),
    SUBNET,
)


class Churn(EventKind):
    key = "churn"
    series = (
        REGISTRATIONS,
        DEREGISTRATIONS,
        LAST_DEREGISTERED_EMISSION_ALPHA,
        LAST_DEREGISTERED_BLOCK,
        AXONS_SERVED,
    )
    alerts = ("BittensorSubnetChurnHigh",)
    order = 50
    dashboard = (
        Annotation(
            "subnet", 20, DEREGISTRATIONS, "netuid", "subnet", "Prunings", "red",
            "Neurons pruned", "sn{{netuid}}: neurons replaced by new registrations",
        ),
        PanelQuery("subnet", 20, REGISTRATIONS, "netuid", "subnet", "sn{{netuid}} registered"),
        PanelQuery("subnet", 30, DEREGISTRATIONS, "netuid", "subnet", "sn{{netuid}} pruned"),
    )  # fmt: skip

    def __init__(self, state: Mapping[str, Any] | None = None):
        super().__init__(state)
        # netuid -> uid -> (hotkey, registration block, emission): memory only.
        self._uids: dict[int, dict[int, tuple[str, int, float]]] = {}

    def diff(self, poll: Poll, results: Mapping[str, Sequence[Any]]) -> list[EventChange]:
        out = []
        for netuid, view in sorted(poll.subnets.items()):
            if not view.exists:
                continue
            now = {
                n.uid: (n.hotkey, n.block_at_registration, n.emission_alpha) for n in view.neurons
            }
            rec = self.state.setdefault(
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
                    rec["last"] = {"block": poll.block, "hotkey": was[0], "emission_alpha": was[2]}
                    detail = f"uid {uid} pruned with emission {was[2]:.6g} alpha; now {hk}"
                    out.append(EventChange(poll.block, netuid, was[0], "pruned", detail))
            gone += sum(1 for uid in before if uid not in now)
            rec["registrations"] += registered
            rec["deregistrations"] += gone
        return out

    def families(self, poll: Poll) -> list[Family]:
        views = [v for _, v in sorted(poll.subnets.items()) if v.exists]
        recs = [self.state.get(str(v.netuid), {}) for v in views]
        lasts = [r.get("last") or {} for r in recs]
        labels = [(str(v.netuid),) for v in views]
        blocks = [last.get("block") for last in lasts]
        return [
            Family(REGISTRATIONS, labels, [float(r.get("registrations", 0)) for r in recs]),
            Family(DEREGISTRATIONS, labels, [float(r.get("deregistrations", 0)) for r in recs]),
            Family(
                LAST_DEREGISTERED_EMISSION_ALPHA,
                labels,
                [last.get("emission_alpha") for last in lasts],
            ),
            Family(
                LAST_DEREGISTERED_BLOCK, labels, [None if b is None else float(b) for b in blocks]
            ),
            Family(
                AXONS_SERVED,
                labels,
                [float(sum(1 for n in v.neurons if n.axon is not None)) for v in views],
            ),
        ]
