"""The exporter itself: its part of what a poll leaves behind (:class:`PollStatus`, swapped
as a whole after every poll attempt, and the :class:`Change` log entries) and its families:
poll outcome, endpoints, chain trust, sharding and each read's failures. They come from the
status, not the snapshot, so they follow the snapshot's families in every exposition."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from common.metric_names import Exporter as N
from exporters.deregistration import MISMATCH_KINDS
from exporters.endpoints import EndpointStatus
from exporters.family import Family, num
from exporters.reads import ReadsView, read_families
from exporters.snapshot import ChainSnapshot


@dataclass(frozen=True)
class Change:
    """Something an operator would want to know happened between two polls."""

    at: float
    block: int
    netuid: int
    hotkey: str
    kind: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "block": self.block,
            "netuid": self.netuid,
            "hotkey": self.hotkey,
            "kind": self.kind,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class PollStatus:
    """The exporter's view of itself, swapped as a whole after every poll attempt."""

    up: bool = False
    polls: int = 0
    errors: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    last_poll_at: float | None = None
    last_success_at: float | None = None
    last_duration: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    interval: float | None = None
    endpoints: tuple[EndpointStatus, ...] = ()
    # The active endpoint's chain next to the trusted anchor: a kind from MISMATCH_KINDS
    # while it is rewound or another chain (last trusted values kept), else None.
    chain_mismatch: str | None = None
    chain_mismatches: MappingProxyType = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(MISMATCH_KINDS, 0))
    )
    # (index, count) of the subnets this agent reads; (0, 1) when it reads them all.
    shard: tuple[int, int] = (0, 1)
    # Each read's failures and whether the runtime lacks its item (exporters/reads.py).
    reads: ReadsView = field(default_factory=ReadsView)


def families(snap: ChainSnapshot | None, st: PollStatus) -> list[Family]:
    out = [Family.single(N.EXPORTER_UP, st.up)]
    if st.last_duration is not None:
        out.append(Family.single(N.EXPORTER_POLL_DURATION_SECONDS, st.last_duration))
    if st.last_success_at is not None:
        out.append(Family.single(N.EXPORTER_LAST_SUCCESS_TIMESTAMP_SECONDS, st.last_success_at))
    if snap is not None:
        out.append(Family.single(N.EXPORTER_SOURCE_BLOCK, snap.source_block))
        if snap.chain_id is not None:
            out.append(Family(N.EXPORTER_TRUSTED_CHAIN_INFO, ((snap.chain_id,),), (1.0,)))
    if st.interval is not None:
        out.append(Family.single(N.EXPORTER_POLL_INTERVAL_SECONDS, st.interval))
    out.append(Family.single(N.EXPORTER_POLLS, st.polls))
    reasons = sorted(st.errors.items())
    out.append(
        Family(N.EXPORTER_POLL_ERRORS, [(r,) for r, _ in reasons], [float(n) for _, n in reasons])
    )
    endpoints = [(ep.label,) for ep in st.endpoints]
    out += [
        Family(
            N.EXPORTER_RPC_ENDPOINT_UP, endpoints, [1.0 if ep.up else 0.0 for ep in st.endpoints]
        ),
        Family(
            N.EXPORTER_RPC_ENDPOINT_ACTIVE,
            endpoints,
            [1.0 if ep.active else 0.0 for ep in st.endpoints],
        ),
        Family(
            N.EXPORTER_RPC_ENDPOINT_HEAD_LAG_BLOCKS, endpoints, [num(ep.lag) for ep in st.endpoints]
        ),
        Family(
            N.EXPORTER_RPC_ENDPOINT_PROBES, endpoints, [float(ep.probes) for ep in st.endpoints]
        ),
    ]
    errors = [(ep.label, r, n) for ep in st.endpoints for r, n in ep.errors_by_reason]
    out.append(
        Family(
            N.EXPORTER_RPC_ENDPOINT_ERRORS,
            [(e, r) for e, r, _ in errors],
            [float(n) for _, _, n in errors],
        )
    )
    kinds = sorted(st.chain_mismatches.items())
    out.append(
        Family(
            N.EXPORTER_CHAIN_MISMATCH,
            [(k,) for k, _ in kinds],
            [1.0 if st.chain_mismatch == k else 0.0 for k, _ in kinds],
        )
    )
    out.append(
        Family(N.EXPORTER_CHAIN_MISMATCHES, [(k,) for k, _ in kinds], [float(n) for _, n in kinds])
    )
    index, count = st.shard
    out.append(Family(N.EXPORTER_SHARDS, ((str(index),),), (float(count),)))
    return out + read_families(st.reads)
