"""Subnets: creating them, looking them up, and their hyperparameters.

A hyperparameter is validated on the way in (a non-negative integer, a u16 where the chain
stores one, the switches booleans, ``alpha_sigmoid_steepness`` an i16), whether it comes
from ``create`` or a later ``set_hyperparameter``; the SDK's names for a few of them are
accepted as aliases. Epoch switches: ``yuma3_on`` (new subnets on, as on chain),
``liquid_alpha_on`` with ``alpha_low``/``alpha_high``/``alpha_sigmoid_steepness`` (read only
under Yuma3), ``bonds_penalty``, ``bonds_reset_enabled`` (off), ``activity_cutoff_factor``
(per-mille of tempo; the epoch ignores the deprecated ``activity_cutoff``) and
``null_consensus_enabled``.

The root subnet's record (netuid 0, see :mod:`simnet.economy`) and the max-uids limit over all
mechanisms (``ensure_max_uids_over_all_mechanisms``, also run by :mod:`simnet.mechanisms`) live
here, where the setters that need them are, so this module imports neither of those.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from simnet.records import NULL_ACCOUNT, RAO_PER_TAO, U16_MAX, ChainFailure, Subnet

if TYPE_CHECKING:
    from simnet.accounts import Balances
    from simnet.ledger import Ledger

# What registration_defaults fills in: commit-reveal timing, the moving burn, the pruning floor.
DEFAULT_TAO_WEIGHT = 971_718_665_099_567_868  # the root subnet's TaoWeight until it is set
DEFAULT_MAX_ALLOWED_UIDS = 256  # max_uids * mechanism count may not exceed it

REGISTRATION_PARAMS = (
    "reveal_period_epochs",
    "min_burn_rao",
    "max_burn_rao",
    "burn_half_life",
    "burn_increase_mult",
    "min_non_immune_uids",
    "immune_owner_uids_limit",
)
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
    *REGISTRATION_PARAMS,
    *(
        "yuma3_on",
        "liquid_alpha_on",
        "alpha_low",
        "alpha_high",
        "alpha_sigmoid_steepness",
        "bonds_penalty",
        "bonds_reset_enabled",
        "activity_cutoff_factor",
        "null_consensus_enabled",
    ),
)
_BOOLEAN = frozenset(
    {
        "commit_reveal",
        "yuma3_on",
        "liquid_alpha_on",
        "bonds_reset_enabled",
        "null_consensus_enabled",
    }
)
_U16 = frozenset({"kappa", "max_weights_limit", "alpha_low", "alpha_high", "bonds_penalty"})
# Subtensor's storage item for each epoch switch, as the SDK's storage reads name them.
EPOCH_STORAGE = MappingProxyType(
    {
        "Yuma3On": "yuma3_on",
        "LiquidAlphaOn": "liquid_alpha_on",
        "AlphaSigmoidSteepness": "alpha_sigmoid_steepness",
        "BondsPenalty": "bonds_penalty",
        "BondsResetOn": "bonds_reset_enabled",
        "ActivityCutoffFactorMilli": "activity_cutoff_factor",
        "NullConsensusEnabled": "null_consensus_enabled",
    }
)
_ALIASES = MappingProxyType(
    {
        "burn": "burn_rao",
        "max_allowed_uids": "max_uids",
        "commit_reveal_weights_enabled": "commit_reveal",
        "commit_reveal_period": "reveal_period_epochs",
        "min_burn": "min_burn_rao",
        "max_burn": "max_burn_rao",
        "liquid_alpha_enabled": "liquid_alpha_on",
        "bonds_reset": "bonds_reset_enabled",
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
        immunity_period: int = 4096,
        activity_cutoff: int = 5000,
        burn_rao: int = RAO_PER_TAO // 10,
        weights_rate_limit: int = 100,
        min_allowed_weights: int = 1,
        commit_reveal: bool = True,
        owner_coldkey: str | None = None,
        owner_hotkey: str | None = None,
        emission_per_block_rao: int = RAO_PER_TAO,
        tao_in_rao: int = 1_000 * RAO_PER_TAO,
        alpha_in_rao: int = 4_000 * RAO_PER_TAO,
        name: str | None = None,
        symbol: str | None = None,
        max_registrations_per_block: int = 1,
        serving_rate_limit: int = 50,
        yuma3_on: bool = True,
        activity_cutoff_factor: int | None = None,
        **params: Any,
    ) -> Subnet:
        """Defaults are a new subnet on today's runtime: commit-reveal on, Yuma3 on, immunity
        4096 blocks, a 0.1 TAO burn. ``params`` takes the :func:`registration_defaults` names
        (reveal period, moving burn, pruning floor) and the other epoch hyperparameters by
        name (``liquid_alpha_on``, ``alpha_low``, ``alpha_high``, ``alpha_sigmoid_steepness``,
        ``bonds_penalty``, ``bonds_reset_enabled``, ``null_consensus_enabled``).
        ``activity_cutoff_factor`` (per-mille of tempo) is what the epoch uses; left out, it is
        derived so that ``factor * tempo // 1000`` equals ``activity_cutoff`` (13889 for 5000
        blocks at tempo 360, the chain's default)."""
        moving = {name: params.pop(name) for name in list(params) if name in REGISTRATION_PARAMS}
        epoch_params = params
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
            **registration_defaults(moving),
        )
        if activity_cutoff_factor is None:
            activity_cutoff_factor = -(-int(activity_cutoff) * 1000 // max(1, int(tempo)))
        for param, value in {
            "yuma3_on": yuma3_on,
            "activity_cutoff_factor": activity_cutoff_factor,
            **epoch_params,
        }.items():
            if param not in HYPERPARAMETERS or param in _ALIASES:
                raise ValueError(
                    f"unknown subnet parameter {param!r}; known: {', '.join(HYPERPARAMETERS)}"
                )
            setattr(sn, param, value)
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
        if name == "burn_increase_mult":
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
                raise ValueError(f"hyperparameter burn_increase_mult must be >= 1, got {value!r}")
            return
        if name in _BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError(f"hyperparameter {name} must be true or false, got {value!r}")
            return
        if name == "alpha_sigmoid_steepness":
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not -32768 <= value <= 32767
            ):
                raise ValueError(
                    "hyperparameter alpha_sigmoid_steepness is an i16 (-32768..32767), "
                    f"got {value!r}"
                )
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"hyperparameter {name} must be a non-negative integer, got {value!r}")
        if name in ("max_uids", "max_validators") and value < 1:
            raise ValueError(f"hyperparameter {name} must be at least 1, got {value}")
        if name in _U16 and value > U16_MAX:
            raise ValueError(f"hyperparameter {name} is a u16 (0..65535), got {value}")

    def hyperparameter(self, netuid: int, name: str) -> Any:
        """The current value of ``name`` (or its runtime alias), None when there is none."""
        return getattr(self.get(netuid), _ALIASES.get(name, name), None)

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
        if param == "max_uids":
            check_max_uids(value, sn.mechanism_count)
        if param in ("alpha_low", "alpha_high"):
            low = value if param == "alpha_low" else sn.alpha_low
            high = value if param == "alpha_high" else sn.alpha_high
            if not low <= high:
                raise ValueError(
                    f"hyperparameter {param}={value} would make alpha_low ({low}) exceed "
                    f"alpha_high ({high}); set them so that low <= high"
                )
        setattr(sn, param, value)
        self._ledger.subnet_changed(sn.netuid)


def check_max_uids(max_uids: int, count: int) -> None:
    """``ensure_max_uids_over_all_mechanisms``: both the max-uids setter here and the
    mechanism count setter (:mod:`simnet.mechanisms`) run it."""
    if max_uids * count > DEFAULT_MAX_ALLOWED_UIDS:
        raise ChainFailure(
            "TooManyUIDsPerMechanism",
            f"max_uids {max_uids} x {count} mechanism(s) exceeds {DEFAULT_MAX_ALLOWED_UIDS}; "
            "lower max_uids or the mechanism count first",
        )


def root_subnet(netuid_zero_params: Mapping[str, int]) -> Subnet:
    """The root subnet's record: TAO stake only, price 1, no neurons of its own."""
    return Subnet(
        netuid=0,
        tempo=int(netuid_zero_params.get("tempo", 360)),
        max_uids=64,
        max_validators=64,
        immunity_period=0,
        activity_cutoff=5000,
        burn_rao=0,
        weights_rate_limit=100,
        min_allowed_weights=0,
        commit_reveal=False,
        owner_coldkey=NULL_ACCOUNT,
        owner_hotkey=NULL_ACCOUNT,
        emission_per_block_rao=0,
        tao_in=1,
        alpha_in=1,
        registered_at=int(netuid_zero_params.get("registered_at", 0)),
        name="root",
        symbol="\u03a4",
        tao_weight=int(netuid_zero_params.get("tao_weight", DEFAULT_TAO_WEIGHT)),
        moving_price=1.0,
    )


def registration_defaults(given: dict[str, Any]) -> dict[str, Any]:
    """The commit-reveal and moving-burn parameters with subtensor's defaults (runtime
    constants: min burn 500,000 rao, max burn 100 TAO, half-life 360 blocks, x1.26 per
    registration, reveal after 1 epoch, 10 non-immune uids kept)."""
    out = {
        "reveal_period_epochs": 1,
        "min_burn_rao": 500_000,
        "max_burn_rao": 100 * RAO_PER_TAO,
        "burn_half_life": 360,
        "burn_increase_mult": 1.26,
        "min_non_immune_uids": 10,
        "immune_owner_uids_limit": 1,
    }
    unknown = set(given) - set(out)
    if unknown:
        raise ValueError(f"unknown subnet parameter(s): {', '.join(sorted(unknown))}")
    out.update(given)
    out["burn_increase_mult"] = float(out["burn_increase_mult"])
    if not 0 <= int(out["immune_owner_uids_limit"]) <= 10:
        raise ValueError(
            f"immune_owner_uids_limit (ImmuneOwnerUidsLimit) must be 0..10, got "
            f"{out['immune_owner_uids_limit']}"
        )
    return out


def legacy_rules(burn_rao: int = RAO_PER_TAO) -> dict[str, Any]:
    """``create`` parameters for the rules simnet modelled before issue #11, for worlds
    that ask for them: commit-reveal off, a burn fixed at ``burn_rao``, and pruning with
    no floor of non-immune uids."""
    return {
        "commit_reveal": False,
        "burn_rao": burn_rao,
        "min_burn_rao": burn_rao,
        "max_burn_rao": burn_rao,
        "min_non_immune_uids": 0,
    }
