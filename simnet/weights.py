"""Weights and serving: ``set_weights`` and ``serve_axon`` with the chain's checks.

Plain ``set_weights`` with the chain's checks, in subtensor's order; weights are stored
max-upscaled to u16 (raw on a Null-consensus subnet). Commit-reveal subnets refuse plaintext
weights with ``CommitRevealEnabled``; their weights arrive through :mod:`simnet.commit_reveal`,
whose reveal skips the rate limit and leaves ``last_update`` at the commit, as the runtime's
``internal_set_weights`` does when commit-reveal is on. ``serve_axon`` checks the address,
port and the subnet's serving rate limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from simnet import mechanisms
from simnet.records import U16_MAX, Axon, ChainFailure

if TYPE_CHECKING:
    from simnet.ledger import Ledger
    from simnet.subnets import Subnets


def _upscale_u16(values: list[float]) -> list[int]:
    """subtensor's ``vec_u16_max_upscale``: the largest becomes 65535, others round, zeros stay."""
    top = max(values) if values else 0
    if top <= 0:
        return [0 for _ in values]
    return [int(v * U16_MAX / top + 0.5) for v in values]


class Weights:
    def __init__(self, subnets: Subnets, ledger: Ledger):
        self._subnets = subnets
        self._ledger = ledger

    def set_weights(
        self,
        netuid: int,
        hotkey: str,
        uids: Iterable[int],
        weights_u16: Iterable[int],
        *,
        version_key: int = 0,
        revealed: bool = False,
        mechid: int = 0,
    ) -> None:
        """subtensor's ``do_set_weights`` checks, in its order, then store max-upscaled u16.
        ``revealed`` is the chain applying a timelocked commit, not a signed call; ``mechid``
        the mechanism (:mod:`simnet.mechanisms`), checked first as the runtime does."""
        sn = self._subnets.get(netuid)
        mechanisms.ensure_exists(sn, mechid)
        uids, weights = [int(u) for u in uids], [int(w) for w in weights_u16]
        block = self._ledger.building_block
        if sn.commit_reveal and not revealed:
            raise ChainFailure(
                "CommitRevealEnabled",
                f"subnet {netuid} has commit-reveal on; plaintext weights are refused",
            )
        if len(uids) != len(weights):
            raise ChainFailure("WeightVecNotEqualSize", "uids and weights differ in length")
        uid = sn.uids.get(hotkey)
        if uid is None:
            raise ChainFailure(
                "HotKeyNotRegisteredInSubNet", f"{hotkey} is not registered on subnet {netuid}"
            )
        if version_key < sn.weights_version:
            raise ChainFailure(
                "IncorrectWeightVersionKey",
                f"version_key {version_key} is below the subnet's {sn.weights_version}",
            )
        mine = mechanisms.terms(sn.neurons[uid], mechid)
        last = mine.last_update
        rate_limited = sn.weights_rate_limit and last > 0 and block - last < sn.weights_rate_limit
        if rate_limited and not sn.commit_reveal:
            raise ChainFailure(
                "SettingWeightsTooFast",
                f"weights were set {block - last} blocks ago; the limit is "
                f"{sn.weights_rate_limit} blocks",
            )
        if len(set(uids)) != len(uids):
            raise ChainFailure("DuplicateUids", "a uid appears twice")
        if any(u < 0 or u >= sn.n for u in uids):
            raise ChainFailure("UidVecContainInvalidOne", f"a uid is not below {sn.n}")
        self_only = uids == [uid]
        if not self_only and len(uids) < min(sn.min_allowed_weights, sn.n):
            raise ChainFailure(
                "WeightVecLengthIsLow",
                f"{len(uids)} weights given; subnet {netuid} requires {sn.min_allowed_weights}",
            )
        if any(w < 0 or w > U16_MAX for w in weights):
            raise ChainFailure("InvalidValue", "weights are u16 values")
        # A Null subnet stores the row as given (null_consensus.rs
        # null_consensus_preserves_raw_weights_and_epoch_budget); Yuma max-upscales it.
        stored = list(weights) if sn.null_consensus_enabled else _upscale_u16(weights)
        row = tuple(sorted(zip(uids, stored, strict=True)))
        last_update = last if sn.commit_reveal else block
        sn.neurons[uid] = mechanisms.with_terms(
            sn.neurons[uid], mechid, replace(mine, weights=row, last_update=last_update)
        )
        self._ledger.subnet_changed(sn.netuid)
        index = mechanisms.storage_index(sn.netuid, mechid)
        self._ledger.emit("SubtensorModule", "WeightsSet", [index, uid])

    def touch(self, sn, uid: int, block: int, mechid: int = 0) -> None:
        """``set_last_update_for_uid``: a commit counts as weight activity."""
        mine = mechanisms.terms(sn.neurons[uid], mechid)
        sn.neurons[uid] = mechanisms.with_terms(
            sn.neurons[uid], mechid, replace(mine, last_update=block)
        )
        self._ledger.subnet_changed(sn.netuid)

    def serve_axon(
        self,
        netuid: int,
        hotkey: str,
        ip: int,
        port: int,
        ip_type: int = 4,
        protocol: int = 4,
        version: int = 1,
        placeholder1: int = 0,
        placeholder2: int = 0,
    ) -> None:
        sn = self._subnets.get(netuid)
        block = self._ledger.building_block
        if hotkey not in sn.uids:
            raise ChainFailure(
                "HotKeyNotRegisteredInNetwork", f"{hotkey} is not registered on subnet {netuid}"
            )
        if ip_type not in (4, 6):
            raise ChainFailure("InvalidIpType", f"ip_type must be 4 or 6, got {ip_type}")
        try:
            if ip_type == 4:
                ipaddress.IPv4Address(int(ip))
            else:
                ipaddress.IPv6Address(int(ip))
        except ValueError:
            raise ChainFailure("InvalidIpAddress", f"{ip} is not an IPv{ip_type} address") from None
        if not 0 < int(port) < 65536:
            raise ChainFailure("InvalidPort", f"port {port} is not 1..65535")
        prev = sn.axons.get(hotkey)
        if (
            prev is not None
            and sn.serving_rate_limit
            and block - prev.block < sn.serving_rate_limit
        ):
            raise ChainFailure(
                "ServingRateLimitExceeded",
                f"axon served {block - prev.block} blocks ago; the limit is "
                f"{sn.serving_rate_limit} blocks",
            )
        sn.axons[hotkey] = Axon(
            block=block,
            version=int(version),
            ip=int(ip),
            port=int(port),
            ip_type=int(ip_type),
            protocol=int(protocol),
            placeholder1=int(placeholder1),
            placeholder2=int(placeholder2),
        )
        self._ledger.subnet_changed(sn.netuid)
        self._ledger.emit("SubtensorModule", "AxonServed", [sn.netuid, hotkey])
