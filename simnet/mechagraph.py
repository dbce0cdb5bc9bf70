"""Reads of :mod:`simnet.mechanisms` in the SDK's decoded shapes (beside :mod:`simnet.shapes`).

The storage keyed by the mechanism index ``mechid * 4096 + netuid`` (``LastUpdate``,
``Incentive``, ``Weights``, ``Bonds``), ``MechanismCountCurrent`` and
``MechanismEmissionSplit``, and the runtime APIs ``get_mechagraph``,
``get_all_mechagraphs`` and ``get_selective_mechagraph``. As subtensor's ``rpc_info``: a
mechagraph is the subnet's metagraph with ``netuid`` set to the mechanism index and
``last_update``/``incentives`` taken from that mechanism (the SDK's ``Metagraph.mechid`` is
``netuid // 4096``); the selective mechagraph reports the plain netuid. An index whose
mechanism is at or above the count reads as the chain's removed entry (empty).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simnet import mechanisms
from simnet.metagraph_shape import metagraph
from simnet.records import BlockRecord, Neuron, Subnet
from simnet.views import selective_metagraph

MECHAGRAPH_METHODS = frozenset(
    {"get_mechagraph", "get_all_mechagraphs", "get_selective_mechagraph"}
)


def subnet_at(rec: BlockRecord, index: Any) -> tuple[Subnet | None, int]:
    """(subnet, mechid) of a mechanism storage index; no subnet when it has no such one."""
    try:
        netuid, mechid = mechanisms.split_index(index)
    except (TypeError, ValueError):
        return None, 0
    sn = rec.subnets.get(netuid)
    if sn is None or mechid >= sn.mechanism_count:
        return None, mechid
    return sn, mechid


def vector(getter: Callable[[mechanisms.MechanismTerms], Any]) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        sn, mechid = subnet_at(rec, params[0]) if params else (None, 0)
        return [] if sn is None else [getter(mechanisms.terms(n, mechid)) for n in sn.neurons]

    return read


def uid_value(getter: Callable[[mechanisms.MechanismTerms], Any], missing: Any) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        sn, mechid = subnet_at(rec, params[0]) if params else (None, 0)
        if sn is None or len(params) < 2:
            return missing
        uid = int(params[1])
        if not 0 <= uid < sn.n:
            return missing
        nrn: Neuron = sn.neurons[uid]
        return getter(mechanisms.terms(nrn, mechid))

    return read


def split_read(sn: Subnet, _rec: BlockRecord) -> list[int] | None:
    return None if sn.mechanism_split is None else list(sn.mechanism_split)


def mechagraph(rec: BlockRecord, netuid: Any, mechid: Any) -> dict[str, Any] | None:
    sn = rec.subnets.get(int(netuid))
    mechid = int(mechid)
    if sn is None or not 0 <= mechid < sn.mechanism_count:
        return None
    graph = metagraph(rec, sn.netuid)
    if graph is None:
        return None
    rows = [mechanisms.terms(n, mechid) for n in sn.neurons]
    return graph | {
        "netuid": mechanisms.storage_index(sn.netuid, mechid),
        "last_update": [t.last_update for t in rows],
        "incentives": [t.incentive for t in rows],
    }


def runtime_call(rec: BlockRecord, method: str, arg: Callable[[int, str], Any]) -> Any:
    """One of ``MECHAGRAPH_METHODS``; ``arg(i, name)`` reads the call's parameter."""
    if method == "get_all_mechagraphs":
        return [
            mechagraph(rec, netuid, m)
            for netuid, sn in sorted(rec.subnets.items())
            for m in range(sn.mechanism_count)
        ]
    netuid, mecid = int(arg(0, "netuid")), int(arg(1, "mecid"))
    if method == "get_mechagraph":
        return mechagraph(rec, netuid, mecid)
    if netuid not in rec.subnets:
        return None
    full = mechagraph(rec, netuid, mecid)
    if full is None:
        # The runtime reads each field by itself: the subnet's own fields still answer, and
        # a mechanism that does not exist has empty (removed) incentive and last_update rows.
        full = (metagraph(rec, netuid) or {}) | {"incentives": [], "last_update": []}
    out = selective_metagraph(full, list(arg(2, "metagraph_indexes")))
    out["netuid"] = netuid
    return out


def timelocked_commits(rec: BlockRecord, index: Any) -> list[tuple[int, list[tuple]]]:
    """``TimelockedWeightCommits[index]`` as ``(epoch, [(hotkey, block, commit, round)])``:
    the commits of the index's mechanism only."""
    sn, mechid = subnet_at(rec, index)
    if sn is None:
        return []
    out = []
    for epoch, commits in sorted(sn.timelocked_commits.items()):
        rows = [
            (c.hotkey, c.commit_block, "0x" + c.ciphertext.hex(), c.reveal_round)
            for c in commits
            if c.mechid == mechid
        ]
        if rows:
            out.append((epoch, rows))
    return out
