"""The pallets simnet models, declared as the runtime declares them: storage items with
their key hashers, key types, value types and query kind; constants; pallet indexes.

Hashers and key types follow subtensor's ``pallets/subtensor/src/lib.rs`` storage (netuid keys
``Identity``, account keys ``Blake2_128Concat``, uid keys ``Identity``), as decoded from real
Finney metadata; value types follow the SDK's generated descriptors
(``bittensor/_generated/storage.py``, checked by ``tests/simnet/test_node_descriptors.py``).
Only what simnet answers is declared: an item here is an item :mod:`simnet.shapes` serves.
Items simnet keeps for itself and the real runtime lacks (``PendingEmission``,
``NullConsensusEnabled``) are deliberately absent, so a tool sees the runtime's surface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

NETUID = ("NetUid", "Identity")
INDEX = ("NetUidStorageIndex", "Identity")
UID = ("u16", "Identity")
ACCOUNT = ("AccountId32", "Blake2_128Concat")


@dataclass(frozen=True)
class StorageItem:
    name: str
    value: str
    keys: tuple[tuple[str, str], ...] = ()  # (key type, hasher), outermost first
    optional: bool = False  # OptionQuery: a miss decodes as None
    since: int = 0  # the first spec version that has it; an older runtime lacks it


@dataclass(frozen=True)
class Constant:
    name: str
    ty: str
    value: Callable[[float], Any]  # block time (s) -> the value


@dataclass(frozen=True)
class Pallet:
    name: str
    index: int
    storage: tuple[StorageItem, ...] = ()
    constants: tuple[Constant, ...] = ()


def _per_subnet(value: str, *names: str) -> tuple[StorageItem, ...]:
    return tuple(StorageItem(name, value, (NETUID,)) for name in names)


_SUBTENSOR_STORAGE = (
    *_per_subnet(
        "u16",
        "Tempo", "BurnHalfLife", "MinNonImmuneUids", "SubnetworkN", "MaxAllowedUids",
        "MaxAllowedValidators", "ImmunityPeriod", "ActivityCutoff", "MinAllowedWeights",
        "MaxWeightsLimit", "CollateralLockShare", "Kappa", "MaxRegistrationsPerBlock",
        "RegistrationsThisBlock", "SubnetMechanism", "BondsPenalty",
    ),
    *_per_subnet(
        "u64",
        "WeightsSetRateLimit", "WeightsVersionKey", "LastEpochBlock", "LastMechansimStepBlock",
        "BlocksSinceLastStep", "PendingEpochAt", "SubnetEpochIndex", "RevealPeriodEpochs",
        "NetworkRegisteredAt", "BondsMovingAverage", "ServingRateLimit",
    ),
    *_per_subnet(
        "bool",
        "NetworksAdded", "CommitRevealWeightsEnabled", "Yuma3On", "NetworkRegistrationAllowed",
        "LiquidAlphaOn", "BondsResetOn",
    ),
    *_per_subnet("TaoBalance", "Burn", "MinBurn", "MaxBurn", "SubnetTAO", "SubnetTaoInEmission"),
    *_per_subnet(
        "AlphaBalance", "SubnetAlphaIn", "SubnetAlphaOut", "SubnetAlphaInEmission",
        "SubnetAlphaOutEmission",
    ),
    *_per_subnet("AccountId32", "SubnetOwner", "SubnetOwnerHotkey"),
    StorageItem("BurnIncreaseMult", "FixedU128", (NETUID,)),
    # the emission eligibility and gate (simnet.emission_shares)
    StorageItem("SubnetEmissionEnabled", "bool", (NETUID,)),
    StorageItem("SubtokenEnabled", "bool", (NETUID,)),
    StorageItem("FirstEmissionBlockNumber", "u64", (NETUID,), optional=True),
    StorageItem("MinerBurned", "FixedU128", (NETUID,)),
    StorageItem("ImmuneOwnerUidsLimit", "u16", (NETUID,)),
    StorageItem("EmissionGateBar", "FixedU128"),
    StorageItem("EmissionBarRank", "u16"),
    StorageItem("EmissionBarQuantile", "FixedU128"),
    StorageItem("EmissionGateExponent", "FixedU128"),
    StorageItem("SubnetEpochConsensus", "EpochConsensus", (NETUID,), since=474),
    StorageItem("AlphaValues", "(u16, u16)", (NETUID,)),
    StorageItem("AlphaSigmoidSteepness", "i16", (NETUID,)),
    StorageItem("ActivityCutoffFactorMilli", "u32", (NETUID,)),
    StorageItem("TokenSymbol", "Vec<u8>", (NETUID,)),
    StorageItem("MechanismCountCurrent", "MechId", (NETUID,)),
    StorageItem("MechanismEmissionSplit", "Vec<u16>", (NETUID,), optional=True),
    StorageItem("SubnetMovingPrice", "FixedI128", (NETUID,)),
    StorageItem("SubnetIdentitiesV3", "SubnetIdentityV3", (NETUID,), optional=True),
    StorageItem("SubnetEmaTaoFlow", "(u64, FixedI128)", (NETUID,), optional=True),
    StorageItem("LastUpdate", "Vec<u64>", (INDEX,)),
    StorageItem("Incentive", "Vec<PerU16>", (INDEX,)),
    StorageItem("ValidatorPermit", "Vec<bool>", (NETUID,)),
    StorageItem("Active", "Vec<bool>", (NETUID,)),
    StorageItem("Consensus", "Vec<PerU16>", (NETUID,)),
    StorageItem("Dividends", "Vec<PerU16>", (NETUID,)),
    StorageItem("ValidatorTrust", "Vec<PerU16>", (NETUID,)),
    StorageItem("Emission", "Vec<AlphaBalance>", (NETUID,)),
    StorageItem("Keys", "AccountId32", (NETUID, UID)),
    StorageItem("BlockAtRegistration", "u64", (NETUID, UID)),
    StorageItem("Weights", "Vec<(u16, u16)>", (INDEX, UID)),
    StorageItem("Bonds", "Vec<(u16, u16)>", (INDEX, UID)),
    StorageItem("Uids", "u16", (NETUID, ACCOUNT), optional=True),
    StorageItem("Axons", "AxonInfo", (NETUID, ACCOUNT), optional=True),
    StorageItem("Prometheus", "PrometheusInfo", (NETUID, ACCOUNT), optional=True),
    StorageItem("IsNetworkMember", "bool", (ACCOUNT, NETUID)),
    StorageItem("Owner", "AccountId32", (ACCOUNT,)),
    StorageItem("OwnedHotkeys", "Vec<AccountId32>", (ACCOUNT,)),
    StorageItem("TotalHotkeyAlpha", "AlphaBalance", (ACCOUNT, NETUID)),
    StorageItem("Delegates", "PerU16", (ACCOUNT,)),
    StorageItem("ChildKeys", "Vec<(u64, AccountId32)>", (ACCOUNT, NETUID)),
    StorageItem("ParentKeys", "Vec<(u64, AccountId32)>", (ACCOUNT, NETUID)),
    StorageItem("PendingChildKeys", "(Vec<(u64, AccountId32)>, u64)", (NETUID, ACCOUNT)),
    StorageItem("ColdkeySwapAnnouncements", "(u32, H256)", (ACCOUNT,), optional=True),
    StorageItem("ColdkeySwapDisputes", "u32", (ACCOUNT,), optional=True),
    StorageItem("ColdkeySwapAnnouncementDelay", "u32"),
    StorageItem("TotalNetworks", "u16"),
    StorageItem("TxRateLimit", "u64"),
    StorageItem("CommitRevealWeightsVersion", "u16"),
    StorageItem("SubnetLimit", "u16"),
    StorageItem("TaoWeight", "u64"),
    StorageItem("MinDelegateTake", "PerU16"),
    StorageItem("MaxDelegateTake", "PerU16"),
)  # fmt: skip

PALLETS = (
    Pallet(
        "System",
        0,
        storage=(
            StorageItem("Account", "AccountInfo", (ACCOUNT,)),
            StorageItem("Number", "u32"),
            StorageItem("Events", "Vec<EventRecord>"),
        ),
    ),
    Pallet(
        "Timestamp",
        2,
        storage=(StorageItem("Now", "u64"),),
        constants=(Constant("MinimumPeriod", "u64", lambda bt: round(bt * 500)),),
    ),
    Pallet(
        "Aura",
        3,
        constants=(Constant("SlotDuration", "u64", lambda bt: round(bt * 1000)),),
    ),
    Pallet(
        "Balances",
        5,
        storage=(StorageItem("TotalIssuance", "TaoBalance"),),
        constants=(Constant("ExistentialDeposit", "TaoBalance", lambda bt: 500),),
    ),
    Pallet("TransactionPayment", 6),
    Pallet("SubtensorModule", 7, storage=_SUBTENSOR_STORAGE),
    Pallet(
        "MevShield",
        30,
        storage=(
            StorageItem("CurrentKey", "BoundedVec<u8>", optional=True),
            StorageItem("NextKey", "BoundedVec<u8>", optional=True),
        ),
    ),
    Pallet(
        "Commitments",
        18,
        storage=(
            StorageItem(
                "CommitmentOf", "Registration", (NETUID, ("AccountId32", "Twox64Concat")), True
            ),
            StorageItem(
                "RevealedCommitments",
                "Vec<(Vec<u8>, u64)>",
                (NETUID, ("AccountId32", "Twox64Concat")),
                optional=True,
            ),
        ),
    ),
)

PALLETS_BY_NAME = MappingProxyType({p.name: p for p in PALLETS})
