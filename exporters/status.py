"""The exporter itself: poll outcome, endpoints, chain trust and sharding, from the poller's
status (not the snapshot), so it follows the snapshot's families in every exposition."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.metric_names import Exporter as N
from exporters.family import Family, num
from exporters.snapshot import ChainSnapshot

if TYPE_CHECKING:  # the poller's module builds on the areas, not the other way round
    from exporters.chain import PollStatus


def families(snap: ChainSnapshot | None, st: PollStatus) -> list[Family]:
    out = [Family.single(N.EXPORTER_UP, st.up)]
    if st.last_duration is not None:
        out.append(Family.single(N.EXPORTER_POLL_DURATION_SECONDS, st.last_duration))
    if st.last_success_at is not None:
        out.append(Family.single(N.EXPORTER_LAST_SUCCESS_TIMESTAMP_SECONDS, st.last_success_at))
    if snap is not None:
        out.append(Family.single(N.EXPORTER_SOURCE_BLOCK, snap.block))
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
    out.append(Family.single(N.EXPORTER_CHAIN_MISMATCH, st.chain_mismatch is not None))
    kinds = sorted(st.chain_mismatches.items())
    out.append(
        Family(N.EXPORTER_CHAIN_MISMATCHES, [(k,) for k, _ in kinds], [float(n) for _, n in kinds])
    )
    index, count = st.shard
    out.append(Family(N.EXPORTER_SHARDS, ((str(index),),), (float(count),)))
    return out
