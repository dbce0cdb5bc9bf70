"""The 2026 read surface, in the decoded shapes of a spec-438 node (beside :mod:`simnet.shapes`).

Hyperparameters v1 (``get_subnet_hyperparams``) and v3 with the full name set, dynamic info
(one subnet and all), ``get_subnet_info``, ``get_selective_metagraph``, the root/stake columns
and collateral on the metagraph, and the storage of :mod:`simnet.economy` and
:mod:`simnet.governance`; :mod:`simnet.shapes` routes the runtime calls to these (and answers
the account-nonce API itself). Field names and order follow subtensor's ``rpc_info`` structs.
Parameters simnet does not model report the runtime's defaults (rho 10, difficulty
10_000_000, adjustment interval 100, ...); a subnet attribute of the same name, when some other
room of simnet adds one, takes precedence.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from simnet.records import BlockRecord, Subnet

I96F32_ONE = 1 << 32
U64F64_ONE = 1 << 64

# Runtime defaults for what simnet does not model (subtensor's pallet defaults).
DEFAULTS = MappingProxyType(
    {
        "rho": 10,
        "difficulty": 10_000_000,
        "min_difficulty": 10_000_000,
        "max_difficulty": 2**64 // 4,
        "adjustment_interval": 100,
        "adjustment_alpha": 0,
        "target_regs_per_interval": 2,
    }
)
# The runtime's name -> the Subnet attribute simnet keeps it in, where the two differ.
ATTRIBUTES = MappingProxyType(
    {
        "reveal_period": "reveal_period_epochs",
        "min_burn": "min_burn_rao",
        "max_burn": "max_burn_rao",
        "liquid_alpha_enabled": "liquid_alpha_on",
        "yuma3": "yuma3_on",
    }
)

SELECTIVE_FIELDS = (
    "netuid", "name", "symbol", "identity", "network_registered_at", "owner_hotkey",
    "owner_coldkey", "block", "tempo", "last_step", "blocks_since_last_step", "subnet_emission",
    "alpha_in", "alpha_out", "tao_in", "alpha_out_emission", "alpha_in_emission",
    "tao_in_emission", "pending_alpha_emission", "pending_root_emission", "subnet_volume",
    "moving_price", "rho", "kappa", "min_allowed_weights", "max_weights_limit",
    "weights_version", "weights_rate_limit", "activity_cutoff", "max_validators", "num_uids",
    "max_uids", "burn", "difficulty", "registration_allowed", "pow_registration_allowed",
    "immunity_period", "min_difficulty", "max_difficulty", "min_burn", "max_burn",
    "adjustment_alpha", "adjustment_interval", "target_regs_per_interval",
    "max_regs_per_block", "serving_rate_limit", "commit_reveal_weights_enabled",
    "commit_reveal_period", "liquid_alpha_enabled", "alpha_high", "alpha_low",
    "bonds_moving_avg", "hotkeys", "coldkeys", "identities", "axons", "active",
    "validator_permit", "pruning_score", "last_update", "emission", "dividends", "incentives",
    "consensus", "trust", "rank", "block_at_registration", "alpha_stake", "tao_stake",
    "total_stake", "tao_dividends_per_hotkey", "alpha_dividends_per_hotkey", "validators",
    "commitments", "collateral_locked", "collateral_min", "collateral_earned",
)  # fmt: skip


def param(sn: Subnet, name: str) -> Any:
    """A hyperparameter as the runtime names it: simnet's value, or the runtime default."""
    return getattr(sn, ATTRIBUTES.get(name, name), DEFAULTS.get(name))


def _text(value: str) -> list[int]:
    return list(value.encode("utf-8"))


def _full_hyperparameters(sn: Subnet) -> list[tuple[str, str, Any]]:
    """(name, v3 tag, value) for every hyperparameter, in the runtime's v1 order first."""
    yuma_version = 3 if param(sn, "yuma3") else 2
    return [
        ("rho", "U16", param(sn, "rho")),
        ("kappa", "U16", sn.kappa),
        ("immunity_period", "U16", sn.immunity_period),
        ("min_allowed_weights", "U16", sn.min_allowed_weights),
        ("max_weights_limit", "U16", sn.max_weights_limit),
        ("tempo", "U16", sn.tempo),
        ("min_difficulty", "U64", param(sn, "min_difficulty")),
        ("max_difficulty", "U64", param(sn, "max_difficulty")),
        ("weights_version", "U64", sn.weights_version),
        ("weights_rate_limit", "U64", sn.weights_rate_limit),
        ("adjustment_interval", "U16", param(sn, "adjustment_interval")),
        ("activity_cutoff", "U64", sn.activity_cutoff),
        ("registration_allowed", "Bool", not sn.is_root),
        ("target_regs_per_interval", "U16", param(sn, "target_regs_per_interval")),
        ("min_burn", "TaoBalance", param(sn, "min_burn")),
        ("max_burn", "TaoBalance", param(sn, "max_burn")),
        ("bonds_moving_avg", "U64", sn.bonds_moving_average),
        ("max_regs_per_block", "U16", sn.max_registrations_per_block),
        ("serving_rate_limit", "U64", sn.serving_rate_limit),
        ("max_validators", "U16", sn.max_validators),
        ("adjustment_alpha", "U64", param(sn, "adjustment_alpha")),
        ("difficulty", "U64", param(sn, "difficulty")),
        ("commit_reveal_period", "U64", param(sn, "reveal_period")),
        ("commit_reveal_weights_enabled", "Bool", sn.commit_reveal),
        ("alpha_high", "U16", param(sn, "alpha_high")),
        ("alpha_low", "U16", param(sn, "alpha_low")),
        ("liquid_alpha_enabled", "Bool", param(sn, "liquid_alpha_enabled")),
        ("activity_cutoff_factor", "U32", param(sn, "activity_cutoff_factor")),
        ("alpha_sigmoid_steepness", "I32F32", param(sn, "alpha_sigmoid_steepness")),
        ("yuma_version", "U16", yuma_version),
        ("subnet_is_active", "Bool", True),
        ("transfers_enabled", "Bool", True),
        ("bonds_reset_enabled", "Bool", param(sn, "bonds_reset_enabled")),
        ("user_liquidity_enabled", "Bool", False),
        ("max_allowed_uids", "U16", sn.max_uids),
        ("burn_half_life", "U16", sn.burn_half_life),
        ("bonds_penalty", "U16", sn.bonds_penalty),
        ("yuma3_enabled", "Bool", sn.yuma3_on),
    ]


V1_NAMES = (
    "rho", "kappa", "immunity_period", "min_allowed_weights", "max_weights_limit", "tempo",
    "min_difficulty", "max_difficulty", "weights_version", "weights_rate_limit",
    "adjustment_interval", "activity_cutoff", "registration_allowed",
    "target_regs_per_interval", "min_burn", "max_burn", "bonds_moving_avg",
    "max_regs_per_block", "serving_rate_limit", "max_validators", "adjustment_alpha",
    "difficulty", "commit_reveal_period", "commit_reveal_weights_enabled", "alpha_high",
    "alpha_low", "liquid_alpha_enabled",
)  # fmt: skip


def hyperparams_v1(sn: Subnet) -> dict[str, Any]:
    values = {name: value for name, _tag, value in _full_hyperparameters(sn)}
    return {name: values[name] for name in V1_NAMES}


def hyperparams_v3(sn: Subnet) -> list[dict[str, Any]]:
    out = []
    for name, tag, value in _full_hyperparameters(sn):
        if tag == "I32F32":
            value = {"bits": int(value) * I96F32_ONE}
        elif tag != "Bool":
            value = int(value)
        out.append({"name": name, "value": {tag: value}})
    return out


U64F64_ONE = 1 << 64
# storage item -> (root record attribute, stored as U64F64)
GATE_STORAGE = MappingProxyType(
    {
        "EmissionGateBar": ("emission_gate_bar", True),
        "EmissionBarRank": ("emission_bar_rank", False),
        "EmissionBarQuantile": ("emission_bar_quantile", True),
        "EmissionGateExponent": ("emission_gate_exponent", True),
    }
)


def _price_bits(sn: Subnet, price: float) -> dict[str, int]:
    return {"bits": int(price * I96F32_ONE)}


def moving_price(sn: Subnet) -> float:
    if sn.moving_price > 0:
        return sn.moving_price
    return sn.price_rao / 1e9  # before the first ranked block, the spot price


def dynamic_info(rec: BlockRecord, sn: Subnet) -> dict[str, Any]:
    return {
        "netuid": sn.netuid,
        "owner_hotkey": sn.owner_hotkey,
        "owner_coldkey": sn.owner_coldkey,
        "subnet_name": _text(sn.name),
        "token_symbol": _text(sn.symbol),
        "tempo": sn.tempo,
        "last_step": sn.last_epoch_block,
        "blocks_since_last_step": rec.number - sn.last_epoch_block,
        "emission": 0,
        "alpha_in": sn.alpha_in,
        "alpha_out": sn.alpha_out,
        "tao_in": sn.tao_in,
        "alpha_out_emission": sn.alpha_out_emission,
        "alpha_in_emission": sn.alpha_in_emission,
        "tao_in_emission": sn.tao_in_emission,
        "pending_alpha_emission": sn.pending_emission,
        "pending_root_emission": 0,
        "subnet_volume": 0,
        "network_registered_at": sn.registered_at,
        "subnet_identity": None,
        "moving_price": _price_bits(sn, moving_price(sn)),
    }


def subnet_info(rec: BlockRecord, sn: Subnet) -> dict[str, Any]:
    return {
        "netuid": sn.netuid,
        "rho": param(sn, "rho"),
        "kappa": sn.kappa,
        "difficulty": param(sn, "difficulty"),
        "immunity_period": sn.immunity_period,
        "max_allowed_validators": sn.max_validators,
        "min_allowed_weights": sn.min_allowed_weights,
        "max_weights_limit": sn.max_weights_limit,
        "scaling_law_power": 50,
        "subnetwork_n": sn.n,
        "max_allowed_uids": sn.max_uids,
        "blocks_since_last_step": rec.number - sn.last_epoch_block,
        "tempo": sn.tempo,
        "network_modality": 0,
        "network_connect": [],
        "emission_values": 0,
        "burn": sn.burn_rao,
        "owner": sn.owner_coldkey,
    }


def metagraph_economy(rec: BlockRecord, sn: Subnet) -> dict[str, Any]:
    """The metagraph fields :mod:`simnet.economy` decides: stake columns, dividends split,
    the emission terms, the full hyperparameter names and zero collateral."""
    from simnet.economy import inherited_stake, stake_weights

    root = rec.subnets.get(0)
    # get_metagraph's alpha_stake / tao_stake are after childkey inheritance, as the epoch's
    alpha, tao = inherited_stake(root, sn)
    weight = stake_weights(root, sn)
    nrns = sn.neurons
    out: dict[str, Any] = {
        "alpha_stake": [alpha.get(n.hotkey, 0) for n in nrns],
        "tao_stake": [tao.get(n.hotkey, 0) for n in nrns],
        "total_stake": [int(weight.get(n.hotkey, 0)) for n in nrns],
        "tao_dividends_per_hotkey": [(n.hotkey, sn.tao_dividends.get(n.hotkey, 0)) for n in nrns],
        "alpha_dividends_per_hotkey": [
            (n.hotkey, sn.alpha_dividends.get(n.hotkey, 0)) for n in nrns
        ],
        "alpha_out_emission": sn.alpha_out_emission or sn.emission_per_block_rao,
        "alpha_in_emission": sn.alpha_in_emission,
        "tao_in_emission": sn.tao_in_emission,
        "moving_price": _price_bits(sn, moving_price(sn)),
        "collateral_locked": [0 for _ in nrns],
        "collateral_min": [0 for _ in nrns],
        "collateral_earned": [0 for _ in nrns],
    }
    if sn.emission_ranked:
        out["subnet_emission"] = sn.tao_in_emission
    values = {name: value for name, _tag, value in _full_hyperparameters(sn)}
    for name in ("rho", "difficulty", "min_difficulty", "max_difficulty", "min_burn",
                 "max_burn", "adjustment_alpha", "adjustment_interval",
                 "target_regs_per_interval", "commit_reveal_period", "liquid_alpha_enabled",
                 "alpha_high", "alpha_low", "registration_allowed"):  # fmt: skip
        out[name] = values[name]
    return out


def selective_metagraph(full: dict[str, Any], indexes: list[int]) -> dict[str, Any]:
    wanted = {SELECTIVE_FIELDS[i] for i in indexes if 0 <= int(i) < len(SELECTIVE_FIELDS)}
    extra = {
        "validators": [uid for uid, permit in enumerate(full["validator_permit"]) if permit],
        "commitments": [],
    }
    out = {}
    for name in SELECTIVE_FIELDS:
        if name == "netuid":
            out[name] = full["netuid"]
        elif name in wanted:
            out[name] = extra[name] if name in extra else full.get(name)
        else:
            out[name] = None
    return out


def zero_stake_info(hotkey: str, coldkey: str, sn: Subnet) -> dict[str, Any]:
    return {
        "hotkey": hotkey,
        "coldkey": coldkey,
        "netuid": sn.netuid,
        "stake": 0,
        "locked": 0,
        "emission": 0,
        "tao_emission": 0,
        "drain": 0,
        "is_registered": hotkey in sn.uids,
    }


# ----------------------------------------------------------------------------- storage


# Per-subnet items :func:`query` answers, which a map read lists for every subnet.
PER_SUBNET_READS = frozenset(
    ("SubnetMovingPrice", "SubnetTaoInEmission", "SubnetAlphaInEmission", "SubnetAlphaOutEmission")
)
# OptionQuery maps simnet's subnets never write: no subnet publishes an identity, and simnet
# records no stake flow (subtensor's ``SubnetEmaTaoFlow``), so every read misses.
NEVER_RECORDED = frozenset(("SubnetIdentitiesV3", "SubnetEmaTaoFlow"))


def query(rec: BlockRecord, module: str, item: str, params: list) -> tuple[bool, Any]:
    """(found, value) for the storage items of simnet.economy and simnet.governance."""
    from simnet.governance import DEFAULT_TAKE, MAX_TAKE, MIN_TAKE

    acc = rec.accounts
    root = rec.subnets.get(0)
    if module != "SubtensorModule":
        return False, None
    if item in NEVER_RECORDED:
        return True, None
    if item == "TaoWeight":
        return True, root.tao_weight if root is not None else 0
    if item == "Delegates":
        return True, acc.takes.get(str(params[0]), DEFAULT_TAKE)
    if item == "MinDelegateTake":
        return True, MIN_TAKE
    if item == "MaxDelegateTake":
        return True, MAX_TAKE
    if item == "ColdkeySwapAnnouncements":
        held = acc.swap_announcements.get(str(params[0]))
        return True, None if held is None else (held[0], held[1])
    if item == "ColdkeySwapDisputes":
        return True, acc.swap_disputes.get(str(params[0]))
    if item == "ColdkeySuccessor":
        return True, acc.successors.get(str(params[0]))
    if item == "ColdkeySwapAnnouncementDelay":
        from simnet.governance import SWAP_ANNOUNCEMENT_DELAY

        return True, SWAP_ANNOUNCEMENT_DELAY
    if item in ("ChildKeys", "ParentKeys") and len(params) >= 2:
        sn = rec.subnets.get(int(params[1]))
        if sn is None:
            return True, []
        hotkey = str(params[0])
        if item == "ChildKeys":
            return True, [list(p) for p in sn.children.get(hotkey, ())]
        return True, [
            [p, parent] for parent, kids in sn.children.items() for p, c in kids if c == hotkey
        ]
    if item == "PendingChildKeys" and len(params) >= 2:
        sn = rec.subnets.get(int(params[0]))
        held = None if sn is None else sn.pending_children.get(str(params[1]))
        return True, ([], 0) if held is None else ([list(p) for p in held[0]], held[1])
    if item == "SubnetMovingPrice" and params:
        sn = rec.subnets.get(int(params[0]))
        return True, {"bits": 0} if sn is None else _price_bits(sn, moving_price(sn))
    if item in GATE_STORAGE:
        # Chain-wide values, held on the root record as TaoWeight is (defaults without one).
        attr, fixed = GATE_STORAGE[item]
        if root is None:
            value = Subnet.__dataclass_fields__[attr].default
        else:
            value = getattr(root, attr)
        return True, {"bits": int(value * U64F64_ONE)} if fixed else int(value)
    if item in ("SubnetTaoInEmission", "SubnetAlphaInEmission", "SubnetAlphaOutEmission"):
        sn = rec.subnets.get(int(params[0])) if params else None
        attr = {
            "SubnetTaoInEmission": "tao_in_emission",
            "SubnetAlphaInEmission": "alpha_in_emission",
            "SubnetAlphaOutEmission": "alpha_out_emission",
        }[item]
        return True, 0 if sn is None else getattr(sn, attr)
    return False, None
