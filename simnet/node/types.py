"""The runtime's named types simnet serves, declared as subtensor's source writes them.

Field names, order and types follow ``pallets/subtensor/src/rpc_info/*.rs`` (``NeuronInfoLite``,
``NeuronInfo``, ``Metagraph``, ``DynamicInfo``, ``SubnetInfo``, ``StakeInfo``), the
newtypes of ``subtensor_runtime_common`` (``NetUid``, ``TaoBalance``, ``AlphaBalance``,
``MechId``, ``NetUidStorageIndex``) and the FRAME types (``AccountInfo``, ``AccountData``).
A path's last segment is the name the SDK's decoder and its generated descriptors use.
"""

from __future__ import annotations

from types import MappingProxyType

from simnet.node.registry import Enum, Newtype, Struct


def _compact(*names: str, ty: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, f"Compact<{ty}>") for name in names)


_COMMON = "subtensor_runtime_common"


def _commitment_data() -> tuple:
    """``pallet_commitments::types::Data``: None, Raw0..Raw128 (that many bytes), then the
    hash variants and the timelocked one."""
    raw = tuple((i + 1, f"Raw{i}", (f"[u8; {i}]",)) for i in range(129))
    hashes = tuple(
        (130 + k, name, ("[u8; 32]",))
        for k, name in enumerate(("BlakeTwo256", "Sha256", "Keccak256", "ShaThree256"))
    )
    timelocked = (
        (134, "TimelockEncrypted", (("encrypted", "BoundedVec<u8>"), ("reveal_round", "u64"))),
        (135, "ResetBondsFlag", ()),
    )
    return ((0, "None", ()), *raw, *hashes, *timelocked)


_RPC = "pallet_subtensor::rpc_info"

_NEURON_HEAD = (
    ("hotkey", "AccountId32"),
    ("coldkey", "AccountId32"),
    ("uid", "Compact<u16>"),
    ("netuid", "Compact<NetUid>"),
    ("active", "bool"),
    ("axon_info", "AxonInfo"),
    ("prometheus_info", "PrometheusInfo"),
    ("stake", "Vec<(AccountId32, Compact<AlphaBalance>)>"),
    ("rank", "Compact<u16>"),
    ("emission", "Compact<AlphaBalance>"),
    *_compact("incentive", "consensus", "trust", "validator_trust", "dividends", ty="PerU16"),
    ("last_update", "Compact<u64>"),
    ("validator_permit", "bool"),
)

_METAGRAPH = (
    ("netuid", "Compact<NetUid>"),
    ("name", "Vec<Compact<u8>>"),
    ("symbol", "Vec<Compact<u8>>"),
    ("identity", "Option<SubnetIdentityV3>"),
    ("network_registered_at", "Compact<u64>"),
    ("owner_hotkey", "AccountId32"),
    ("owner_coldkey", "AccountId32"),
    ("block", "Compact<u64>"),
    ("tempo", "Compact<u16>"),
    ("last_step", "Compact<u64>"),
    ("blocks_since_last_step", "Compact<u64>"),
    ("subnet_emission", "Compact<u64>"),
    ("alpha_in", "Compact<AlphaBalance>"),
    ("alpha_out", "Compact<AlphaBalance>"),
    ("tao_in", "Compact<TaoBalance>"),
    ("alpha_out_emission", "Compact<AlphaBalance>"),
    ("alpha_in_emission", "Compact<AlphaBalance>"),
    ("tao_in_emission", "Compact<TaoBalance>"),
    ("pending_alpha_emission", "Compact<AlphaBalance>"),
    ("pending_root_emission", "Compact<TaoBalance>"),
    ("subnet_volume", "Compact<u128>"),
    ("moving_price", "FixedI128"),
    ("rho", "Compact<u16>"),
    ("kappa", "Compact<u16>"),
    ("min_allowed_weights", "Compact<u16>"),
    ("max_weights_limit", "Compact<u16>"),
    ("weights_version", "Compact<u64>"),
    ("weights_rate_limit", "Compact<u64>"),
    ("activity_cutoff", "Compact<u64>"),
    ("max_validators", "Compact<u16>"),
    ("num_uids", "Compact<u16>"),
    ("max_uids", "Compact<u16>"),
    ("burn", "Compact<TaoBalance>"),
    ("difficulty", "Compact<u64>"),
    ("registration_allowed", "bool"),
    ("pow_registration_allowed", "bool"),
    ("immunity_period", "Compact<u16>"),
    ("min_difficulty", "Compact<u64>"),
    ("max_difficulty", "Compact<u64>"),
    ("min_burn", "Compact<TaoBalance>"),
    ("max_burn", "Compact<TaoBalance>"),
    ("adjustment_alpha", "Compact<u64>"),
    ("adjustment_interval", "Compact<u16>"),
    ("target_regs_per_interval", "Compact<u16>"),
    ("max_regs_per_block", "Compact<u16>"),
    ("serving_rate_limit", "Compact<u64>"),
    ("commit_reveal_weights_enabled", "bool"),
    ("commit_reveal_period", "Compact<u64>"),
    ("liquid_alpha_enabled", "bool"),
    ("alpha_high", "Compact<u16>"),
    ("alpha_low", "Compact<u16>"),
    ("bonds_moving_avg", "Compact<u64>"),
    ("hotkeys", "Vec<AccountId32>"),
    ("coldkeys", "Vec<AccountId32>"),
    ("identities", "Vec<Option<ChainIdentityOfV2>>"),
    ("axons", "Vec<AxonInfo>"),
    ("active", "Vec<bool>"),
    ("validator_permit", "Vec<bool>"),
    ("pruning_score", "Vec<Compact<u16>>"),
    ("last_update", "Vec<Compact<u64>>"),
    ("emission", "Vec<Compact<AlphaBalance>>"),
    ("dividends", "Vec<Compact<PerU16>>"),
    ("incentives", "Vec<Compact<PerU16>>"),
    ("consensus", "Vec<Compact<PerU16>>"),
    ("trust", "Vec<Compact<PerU16>>"),
    ("rank", "Vec<Compact<u16>>"),
    ("block_at_registration", "Vec<Compact<u64>>"),
    ("alpha_stake", "Vec<Compact<AlphaBalance>>"),
    ("tao_stake", "Vec<Compact<TaoBalance>>"),
    ("total_stake", "Vec<Compact<TaoBalance>>"),
    ("tao_dividends_per_hotkey", "Vec<(AccountId32, Compact<TaoBalance>)>"),
    ("alpha_dividends_per_hotkey", "Vec<(AccountId32, Compact<AlphaBalance>)>"),
    ("collateral_locked", "Vec<Compact<AlphaBalance>>"),
    ("collateral_min", "Vec<Compact<AlphaBalance>>"),
    ("collateral_earned", "Vec<Compact<AlphaBalance>>"),
)

_SELECTIVE_EXTRA = (
    ("validators", "Vec<Compact<u16>>"),
    ("commitments", "Vec<(AccountId32, Vec<Compact<u8>>)>"),
)


def _selective() -> tuple[tuple[str, str], ...]:
    """``SelectiveMetagraph``: every metagraph field as an Option, validators and
    commitments before the collateral columns (``rpc_info/metagraph.rs``)."""
    head = [f for f in _METAGRAPH if not f[0].startswith("collateral_")]
    tail = [f for f in _METAGRAPH if f[0].startswith("collateral_")]
    return tuple((name, f"Option<{ty}>") for name, ty in (*head, *_SELECTIVE_EXTRA, *tail))


_HYPERPARAMS_V1 = (
    *_compact("rho", "kappa", "immunity_period", "min_allowed_weights", ty="u16"),
    ("max_weights_limit", "Compact<u16>"),
    ("tempo", "Compact<u16>"),
    *_compact("min_difficulty", "max_difficulty", "weights_version", ty="u64"),
    ("weights_rate_limit", "Compact<u64>"),
    ("adjustment_interval", "Compact<u16>"),
    ("activity_cutoff", "Compact<u16>"),
    ("registration_allowed", "bool"),
    ("target_regs_per_interval", "Compact<u16>"),
    ("min_burn", "Compact<TaoBalance>"),
    ("max_burn", "Compact<TaoBalance>"),
    ("bonds_moving_avg", "Compact<u64>"),
    ("max_regs_per_block", "Compact<u16>"),
    ("serving_rate_limit", "Compact<u64>"),
    ("max_validators", "Compact<u16>"),
    ("adjustment_alpha", "Compact<u64>"),
    ("difficulty", "Compact<u64>"),
    ("commit_reveal_period", "Compact<u64>"),
    ("commit_reveal_weights_enabled", "bool"),
    ("alpha_high", "Compact<u16>"),
    ("alpha_low", "Compact<u16>"),
    ("liquid_alpha_enabled", "bool"),
)

TYPES = MappingProxyType(
    {
        # primitives of the runtime
        "AccountId32": Newtype("sp_core::crypto::AccountId32", "[u8; 32]"),
        "H256": Newtype("primitive_types::H256", "[u8; 32]"),
        "NetUid": Newtype(f"{_COMMON}::NetUid", "u16"),
        "NetUidStorageIndex": Newtype(f"{_COMMON}::NetUidStorageIndex", "u16"),
        "MechId": Newtype(f"{_COMMON}::MechId", "u8"),
        "TaoBalance": Newtype(f"{_COMMON}::TaoBalance", "u64"),
        "AlphaBalance": Newtype(f"{_COMMON}::AlphaBalance", "u64"),
        "PerU16": Newtype("sp_arithmetic::per_things::PerU16", "u16"),
        "FixedI128": Struct("substrate_fixed::FixedI128", (("bits", "i128"),)),
        "FixedU128": Struct("substrate_fixed::FixedU128", (("bits", "u128"),)),
        "FixedI64": Struct("substrate_fixed::FixedI64", (("bits", "i64"),)),
        "ExtraFlags": Newtype("pallet_balances::types::ExtraFlags", "u128"),
        # FRAME
        "AccountData": Struct(
            "pallet_balances::types::AccountData",
            (
                ("free", "TaoBalance"),
                ("reserved", "TaoBalance"),
                ("frozen", "TaoBalance"),
                ("flags", "ExtraFlags"),
            ),
        ),
        "AccountInfo": Struct(
            "frame_system::AccountInfo",
            (
                ("nonce", "u32"),
                ("consumers", "u32"),
                ("providers", "u32"),
                ("sufficients", "u32"),
                ("data", "AccountData"),
            ),
        ),
        # pallet_subtensor
        "EpochConsensus": Enum("pallet_subtensor::EpochConsensus", (("Yuma", ()), ("Null", ()))),
        "AxonInfo": Struct(
            "pallet_subtensor::AxonInfo",
            (
                ("block", "u64"),
                ("version", "u32"),
                ("ip", "u128"),
                ("port", "u16"),
                ("ip_type", "u8"),
                ("protocol", "u8"),
                ("placeholder1", "u8"),
                ("placeholder2", "u8"),
            ),
        ),
        "PrometheusInfo": Struct(
            "pallet_subtensor::PrometheusInfo",
            (
                ("block", "u64"),
                ("version", "u32"),
                ("ip", "u128"),
                ("port", "u16"),
                ("ip_type", "u8"),
            ),
        ),
        "SubnetIdentityV3": Struct(
            "pallet_subtensor::SubnetIdentityV3",
            tuple(
                (name, "Vec<u8>")
                for name in (
                    "subnet_name",
                    "github_repo",
                    "subnet_contact",
                    "subnet_url",
                    "discord",
                    "description",
                    "logo_url",
                    "additional",
                )
            ),
        ),
        "ChainIdentityOfV2": Struct(
            "pallet_subtensor::ChainIdentityOfV2",
            tuple(
                (name, "Vec<u8>")
                for name in (
                    "name",
                    "url",
                    "github_repo",
                    "image",
                    "discord",
                    "description",
                    "additional",
                )
            ),
        ),
        "NeuronInfoLite": Struct(
            f"{_RPC}::neuron_info::NeuronInfoLite",
            (*_NEURON_HEAD, ("pruning_score", "Compact<u16>")),
        ),
        "NeuronInfo": Struct(
            f"{_RPC}::neuron_info::NeuronInfo",
            (
                *_NEURON_HEAD,
                ("weights", "Vec<(Compact<u16>, Compact<u16>)>"),
                ("bonds", "Vec<(Compact<u16>, Compact<u16>)>"),
                ("pruning_score", "Compact<u16>"),
            ),
        ),
        "Metagraph": Struct(f"{_RPC}::metagraph::Metagraph", _METAGRAPH),
        "SelectiveMetagraph": Struct(f"{_RPC}::metagraph::SelectiveMetagraph", _selective()),
        "DynamicInfo": Struct(
            f"{_RPC}::dynamic_info::DynamicInfo",
            (
                ("netuid", "Compact<NetUid>"),
                ("owner_hotkey", "AccountId32"),
                ("owner_coldkey", "AccountId32"),
                ("subnet_name", "Vec<Compact<u8>>"),
                ("token_symbol", "Vec<Compact<u8>>"),
                ("tempo", "Compact<u16>"),
                *_compact("last_step", "blocks_since_last_step", "emission", ty="u64"),
                ("alpha_in", "Compact<AlphaBalance>"),
                ("alpha_out", "Compact<AlphaBalance>"),
                ("tao_in", "Compact<TaoBalance>"),
                ("alpha_out_emission", "Compact<AlphaBalance>"),
                ("alpha_in_emission", "Compact<AlphaBalance>"),
                ("tao_in_emission", "Compact<TaoBalance>"),
                ("pending_alpha_emission", "Compact<AlphaBalance>"),
                ("pending_root_emission", "Compact<TaoBalance>"),
                ("subnet_volume", "Compact<u128>"),
                ("network_registered_at", "Compact<u64>"),
                ("subnet_identity", "Option<SubnetIdentityV3>"),
                ("moving_price", "FixedI128"),
            ),
        ),
        "SubnetInfo": Struct(
            f"{_RPC}::subnet_info::SubnetInfo",
            (
                ("netuid", "Compact<NetUid>"),
                *_compact("rho", "kappa", ty="u16"),
                ("difficulty", "Compact<u64>"),
                *_compact("immunity_period", "max_allowed_validators", ty="u16"),
                *_compact("min_allowed_weights", "max_weights_limit", ty="u16"),
                *_compact("scaling_law_power", "subnetwork_n", "max_allowed_uids", ty="u16"),
                ("blocks_since_last_step", "Compact<u64>"),
                ("tempo", "Compact<u16>"),
                ("network_modality", "Compact<u16>"),
                ("network_connect", "Vec<[u16; 2]>"),
                ("emission_values", "Compact<u64>"),
                ("burn", "Compact<TaoBalance>"),
                ("owner", "AccountId32"),
            ),
        ),
        "SubnetHyperparams": Struct(f"{_RPC}::subnet_info::SubnetHyperparams", _HYPERPARAMS_V1),
        # v3 hyperparameters: a name and a tagged value per entry, so new ones need no
        # client change (the SDK's reads/subnets.py keys on the tag).
        "HyperparamValue": Enum(
            f"{_RPC}::subnet_info::HyperparamValue",
            (
                ("Bool", ("bool",)),
                ("U16", ("u16",)),
                ("U32", ("u32",)),
                ("U64", ("u64",)),
                ("TaoBalance", ("TaoBalance",)),
                ("I32F32", ("FixedI64",)),
            ),
        ),
        "HyperparamEntry": Struct(
            f"{_RPC}::subnet_info::HyperparamEntry",
            (("name", "Vec<u8>"), ("value", "HyperparamValue")),
        ),
        "StakeInfo": Struct(
            f"{_RPC}::stake_info::StakeInfo",
            (
                ("hotkey", "AccountId32"),
                ("coldkey", "AccountId32"),
                ("netuid", "Compact<NetUid>"),
                ("stake", "Compact<AlphaBalance>"),
                ("locked", "Compact<u64>"),
                ("emission", "Compact<AlphaBalance>"),
                ("tao_emission", "Compact<TaoBalance>"),
                ("drain", "Compact<u64>"),
                ("is_registered", "bool"),
            ),
        ),
        "StakeAvailability": Struct(
            f"{_RPC}::stake_info::StakeAvailability",
            (("total", "AlphaBalance"), ("locked", "AlphaBalance"), ("available", "AlphaBalance")),
        ),
        "RuntimeVersion": Struct(
            "sp_version::RuntimeVersion",
            (
                ("spec_name", "str"),
                ("impl_name", "str"),
                ("authoring_version", "u32"),
                ("spec_version", "u32"),
                ("impl_version", "u32"),
                ("apis", "Vec<([u8; 8], u32)>"),
                ("transaction_version", "u32"),
                ("system_version", "u8"),
            ),
        ),
        "OpaqueMetadata": Newtype("sp_core::OpaqueMetadata", "Vec<u8>"),
        # pallet_subtensor_swap
        "SubnetPrice": Struct(
            "pallet_subtensor_swap_runtime_api::SubnetPrice",
            (("netuid", "NetUid"), ("price", "u64")),
        ),
        "SimSwapResult": Struct(
            "pallet_subtensor_swap_runtime_api::SimSwapResult",
            tuple(
                (name, "TaoBalance" if name.startswith("tao") else "AlphaBalance")
                for name in (
                    "tao_amount",
                    "alpha_amount",
                    "tao_fee",
                    "alpha_fee",
                    "tao_slippage",
                    "alpha_slippage",
                )
            ),
        ),
        # pallet_commitments
        "Data": Enum("pallet_commitments::types::Data", _commitment_data()),
        "CommitmentInfo": Struct(
            "pallet_commitments::types::CommitmentInfo", (("fields", "BoundedVec<Data>"),)
        ),
        "Registration": Struct(
            "pallet_commitments::types::Registration",
            (("deposit", "TaoBalance"), ("block", "u32"), ("info", "CommitmentInfo")),
        ),
    }
)
