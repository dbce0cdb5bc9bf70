"""Subnets: creating them, looking them up, and their hyperparameters.

A hyperparameter is validated on the way in (a non-negative integer, a u16 where the chain
stores one, ``commit_reveal`` a boolean), whether it comes from ``create`` or a later
``set_hyperparameter``; the SDK's names for a few of them are accepted as aliases.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from simnet.records import NULL_ACCOUNT, RAO_PER_TAO, U16_MAX, ChainFailure, Subnet

if TYPE_CHECKING:
    from simnet.accounts import Balances
    from simnet.ledger import Ledger

HYPERPARAMETERS = (
    "tempo",
    "max_uids",
    "max_validators",
    "immunity_period",
    "activity_cutoff",
    "burn_rao",
    "weights_rate_limit",
    "min_allowed_weights",
    "commit_reveal",
    "emission_per_block_rao",
    "max_registrations_per_block",
    "serving_rate_limit",
    "max_weights_limit",
    "weights_version",
    "kappa",
    "bonds_moving_average",
)
_ALIASES = MappingProxyType(
    {
        "burn": "burn_rao",
        "max_allowed_uids": "max_uids",
        "commit_reveal_weights_enabled": "commit_reveal",
    }
)


class Subnets:
    """The live subnets, keyed by netuid (the same mapping the ledger seals)."""

    def __init__(self, table: dict[int, Subnet], ledger: Ledger, balances: Balances):
        self._table = table
        self._ledger = ledger
        self._balances = balances

    def get(self, netuid: int) -> Subnet:
        sn = self._table.get(int(netuid))
        if sn is None:
            raise ChainFailure("SubnetNotExists", f"subnet {netuid} does not exist")
        return sn

    def __iter__(self):
        return iter(self._table.values())

    @property
    def netuids(self) -> list[int]:
        return sorted(self._table)

    def create(
        self,
        netuid: int,
        *,
        tempo: int = 360,
        max_uids: int = 256,
        max_validators: int = 64,
        immunity_period: int = 5000,
        activity_cutoff: int = 5000,
        burn_rao: int = RAO_PER_TAO,
        weights_rate_limit: int = 100,
        min_allowed_weights: int = 1,
        commit_reveal: bool = False,
        owner_coldkey: str | None = None,
        owner_hotkey: str | None = None,
        emission_per_block_rao: int = RAO_PER_TAO,
        tao_in_rao: int = 1_000 * RAO_PER_TAO,
        alpha_in_rao: int = 4_000 * RAO_PER_TAO,
        name: str | None = None,
        symbol: str | None = None,
        max_registrations_per_block: int = 1,
        serving_rate_limit: int = 50,
    ) -> Subnet:
        netuid = int(netuid)
        if netuid <= 0 or netuid > 4095:
            raise ValueError(f"netuid must be 1..4095 (simnet has no root subnet), got {netuid}")
        if netuid in self._table:
            raise ValueError(f"subnet {netuid} already exists")
        if tao_in_rao <= 0 or alpha_in_rao <= 0:
            raise ValueError("tao_in_rao and alpha_in_rao must be positive (they set the price)")
        sn = Subnet(
            netuid=netuid,
            tempo=int(tempo),
            max_uids=int(max_uids),
            max_validators=int(max_validators),
            immunity_period=int(immunity_period),
            activity_cutoff=int(activity_cutoff),
            burn_rao=int(burn_rao),
            weights_rate_limit=int(weights_rate_limit),
            min_allowed_weights=int(min_allowed_weights),
            commit_reveal=bool(commit_reveal),
            owner_coldkey=owner_coldkey or NULL_ACCOUNT,
            owner_hotkey=owner_hotkey or owner_coldkey or NULL_ACCOUNT,
            emission_per_block_rao=int(emission_per_block_rao),
            tao_in=int(tao_in_rao),
            alpha_in=int(alpha_in_rao),
            registered_at=self._ledger.building_block,
            name=name if name is not None else f"simnet-{netuid}",
            symbol=symbol if symbol is not None else f"S{netuid}",
            max_registrations_per_block=int(max_registrations_per_block),
            serving_rate_limit=int(serving_rate_limit),
        )
        for param in HYPERPARAMETERS:
            self.check_param(param, getattr(sn, param))
        self._table[netuid] = sn
        if owner_hotkey and owner_coldkey:
            self._balances.set_owner(owner_hotkey, owner_coldkey)
        self._ledger.emit("SubtensorModule", "NetworkAdded", [netuid, 0])
        self._ledger.subnet_changed(netuid)
        return sn

    def create_root(self, *, tao_weight: int, tempo: int = 360) -> Subnet:
        """Netuid 0 (see :mod:`simnet.economy`): TAO stake, no miners, no epoch."""
        from simnet.economy import root_subnet

        if 0 in self._table:
            raise ValueError("the root subnet (netuid 0) already exists")
        sn = root_subnet(
            {"tao_weight": tao_weight, "tempo": tempo, "registered_at": self._ledger.building_block}
        )
        self._table[0] = sn
        self._ledger.emit("SubtensorModule", "NetworkAdded", [0, 0])
        self._ledger.subnet_changed(0)
        return sn

    @staticmethod
    def check_param(name: str, value: Any) -> None:
        if name == "commit_reveal":
            if not isinstance(value, bool):
                raise ValueError(
                    f"hyperparameter commit_reveal must be true or false, got {value!r}"
                )
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"hyperparameter {name} must be a non-negative integer, got {value!r}")
        if name in ("max_uids", "max_validators") and value < 1:
            raise ValueError(f"hyperparameter {name} must be at least 1, got {value}")
        if name in ("kappa", "max_weights_limit") and value > U16_MAX:
            raise ValueError(f"hyperparameter {name} is a u16 (0..65535), got {value}")

    def set_hyperparameter(self, netuid: int, name: str, value: Any) -> None:
        sn = self.get(netuid)
        param = _ALIASES.get(name, name)
        if param not in HYPERPARAMETERS:
            raise ValueError(
                f"unknown hyperparameter {name!r}; known: {', '.join(HYPERPARAMETERS)}"
            )
        self.check_param(param, value)
        if param == "max_uids" and value < sn.n:
            raise ValueError(
                f"hyperparameter max_uids={value} is below the {sn.n} neurons registered on "
                f"subnet {netuid}; simnet does not trim subnets"
            )
        setattr(sn, param, value)
        self._ledger.subnet_changed(sn.netuid)
