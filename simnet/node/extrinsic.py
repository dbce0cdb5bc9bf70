"""The extrinsic format and the outer enums: addresses, signatures, eras, the signed
extensions subtensor's runtime checks (``runtime/src/lib.rs`` ``TransactionExtensions``), and
``RuntimeCall`` / ``RuntimeEvent`` / ``RuntimeError``.

Calls are the ones simnet's call table dispatches (:mod:`simnet.dispatch`), each at the
call index and with the parameter names and types of subtensor's ``macros/dispatches.rs``
(``#[pallet::call_index]``) as the SDK's ``_generated/calls.py`` spells them. Events are the
ones a node's extrinsic outcome is read from (``System.ExtrinsicSuccess`` /
``ExtrinsicFailed``, ``TransactionPayment.TransactionFeePaid``). Error enums carry the names
and indexes of the SDK's error catalog (``_generated/errors.py``), which was generated from
the runtime, so ``DispatchError::Module`` resolves to the runtime's error name.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from simnet.node.registry import Enum, Newtype, Struct, TypeRegistry

NETUID = ("netuid", "NetUid")
MECHID = ("mecid", "MechId")
HOTKEY = ("hotkey", "AccountId32")
VERSION = ("version_key", "u64")
DEST = ("dest", "MultiAddress")
UNSTAKED = ("amount_unstaked", "AlphaBalance")
CR_VERSION = ("commit_reveal_version", "u16")
LIMIT = (("limit_price", "TaoBalance"), ("allow_partial", "bool"))
AXON = (
    ("version", "u32"), ("ip", "u128"), ("port", "u16"), ("ip_type", "u8"), ("protocol", "u8"),
    ("placeholder1", "u8"), ("placeholder2", "u8"),
)  # fmt: skip
# pallet -> ((call index, name, ((param, type), ...)), ...)
CALLS = MappingProxyType(
    {
        "Timestamp": ((0, "set", (("now", "Compact<u64>"),)),),
        "Balances": (
            (0, "transfer_allow_death", (DEST, ("value", "Compact<TaoBalance>"))),
            (3, "transfer_keep_alive", (DEST, ("value", "Compact<TaoBalance>"))),
            (4, "transfer_all", (DEST, ("keep_alive", "bool"))),
        ),
        "SubtensorModule": (
            (0, "set_weights", (NETUID, ("dests", "Vec<u16>"), ("weights", "Vec<u16>"), VERSION)),
            (2, "add_stake", (HOTKEY, NETUID, ("amount_staked", "TaoBalance"))),
            (3, "remove_stake", (HOTKEY, NETUID, UNSTAKED)),
            (4, "serve_axon", (NETUID, *AXON)),
            (7, "burned_register", (NETUID, HOTKEY)),
            (88, "add_stake_limit", (HOTKEY, NETUID, ("amount_staked", "TaoBalance"), *LIMIT)),
            (89, "remove_stake_limit", (HOTKEY, NETUID, UNSTAKED, *LIMIT)),
            (
                118,
                "commit_timelocked_mechanism_weights",
                (NETUID, MECHID, ("commit", "BoundedVec<u8>"), ("reveal_round", "u64"), CR_VERSION),
            ),
            (
                119,
                "set_mechanism_weights",
                (NETUID, MECHID, ("dests", "Vec<u16>"), ("weights", "Vec<u16>"), VERSION),
            ),
        ),
    }
)  # fmt: skip
EVENT_PALLETS = ("System", "TransactionPayment")


def _error_variants(pallet: str) -> tuple:
    """The pallet's errors by index, from the SDK's catalog of the runtime's errors."""
    from bittensor._generated.errors import ERRORS

    return tuple(
        (index, info.name, ())
        for (_pallet_index, index), info in sorted(ERRORS.items())
        if info.pallet == pallet
    )


def pallet_enums(pallet_indexes: dict[str, int]) -> dict:
    """Call, event and error enums per pallet and the outer enums over them."""
    out: dict = {}
    call_variants, event_variants, error_variants = [], [], []
    for pallet, index in pallet_indexes.items():
        calls = CALLS.get(pallet)
        if calls:
            out[f"{pallet}Call"] = Enum(f"pallet_{pallet.lower()}::pallet::Call", calls)
            call_variants.append((index, pallet, (f"{pallet}Call",)))
        errors = _error_variants(pallet)
        if errors:
            out[f"{pallet}Error"] = Enum(f"pallet_{pallet.lower()}::pallet::Error", errors)
            error_variants.append((index, pallet, (f"{pallet}Error",)))
        if pallet in EVENT_PALLETS:
            event_variants.append((index, pallet, (f"{pallet}Event",)))
    out["RuntimeCall"] = Enum("node_subtensor_runtime::RuntimeCall", tuple(call_variants))
    out["RuntimeEvent"] = Enum("node_subtensor_runtime::RuntimeEvent", tuple(event_variants))
    out["RuntimeError"] = Enum("node_subtensor_runtime::RuntimeError", tuple(error_variants))
    return out


@dataclass(frozen=True)
class SignedExtension:
    identifier: str
    extra: str  # travels in the extrinsic
    additional: str  # signed, not sent


def _era_variants() -> tuple:
    # sp_runtime::generic::Era: Immortal, then Mortal1..Mortal255 each carrying one byte.
    return ((0, "Immortal", ()), *tuple((i, f"Mortal{i}", ("u8",)) for i in range(1, 256)))


EXTRINSIC_TYPES = MappingProxyType(
    {
        "MultiAddress": Enum(
            "sp_runtime::multiaddress::MultiAddress",
            (
                ("Id", ("AccountId32",)),
                ("Index", ("Compact<()>",)),
                ("Raw", ("Vec<u8>",)),
                ("Address32", ("[u8; 32]",)),
                ("Address20", ("[u8; 20]",)),
            ),
        ),
        "MultiSignature": Enum(
            "sp_runtime::MultiSignature",
            (("Ed25519", ("[u8; 64]",)), ("Sr25519", ("[u8; 64]",)), ("Ecdsa", ("[u8; 65]",))),
        ),
        "Era": Enum("sp_runtime::generic::era::Era", _era_variants()),
        "CheckMortality": Newtype(
            "frame_system::extensions::check_mortality::CheckMortality", "Era"
        ),
        "CheckNonce": Newtype("frame_system::extensions::check_nonce::CheckNonce", "Compact<u32>"),
        "ChargeTransactionPayment": Newtype(
            "pallet_transaction_payment::ChargeTransactionPayment", "Compact<u64>"
        ),
        "Mode": Enum("frame_metadata_hash_extension::Mode", (("Disabled", ()), ("Enabled", ()))),
        "CheckMetadataHash": Struct(
            "frame_metadata_hash_extension::CheckMetadataHash", (("mode", "Mode"),)
        ),
        # The opaque extrinsic a runtime API takes: its SCALE bytes, length-prefixed.
        "UncheckedExtrinsic": Newtype(
            "sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic", "Vec<u8>"
        ),
        "RuntimeDispatchInfo": Struct(
            "pallet_transaction_payment::types::RuntimeDispatchInfo",
            (("weight", "Weight"), ("class", "DispatchClass"), ("partial_fee", "TaoBalance")),
        ),
        "Weight": Struct(
            "sp_weights::weight_v2::Weight",
            (("ref_time", "Compact<u64>"), ("proof_size", "Compact<u64>")),
        ),
        "DispatchClass": Enum(
            "frame_support::dispatch::DispatchClass",
            (("Normal", ()), ("Operational", ()), ("Mandatory", ())),
        ),
        "Pays": Enum("frame_support::dispatch::Pays", (("Yes", ()), ("No", ()))),
        "DispatchEventInfo": Struct(
            "frame_system::DispatchEventInfo",
            (("weight", "Weight"), ("class", "DispatchClass"), ("pays_fee", "Pays")),
        ),
        "ModuleError": Struct("sp_runtime::ModuleError", (("index", "u8"), ("error", "[u8; 4]"))),
        "DispatchError": Enum(
            "sp_runtime::DispatchError",
            (
                (0, "Other", ()),
                (1, "CannotLookup", ()),
                (2, "BadOrigin", ()),
                (3, "Module", ("ModuleError",)),
                (4, "ConsumerRemaining", ()),
                (5, "NoProviders", ()),
                (6, "TooManyConsumers", ()),
                (9, "Transactional", ()),
                (10, "Exhausted", ()),
                (11, "Corruption", ()),
                (12, "Unavailable", ()),
                (13, "RootNotAllowed", ()),
            ),
        ),
        "SystemEvent": Enum(
            "frame_system::pallet::Event",
            (
                (0, "ExtrinsicSuccess", (("dispatch_info", "DispatchEventInfo"),)),
                (
                    1,
                    "ExtrinsicFailed",
                    (("dispatch_error", "DispatchError"), ("dispatch_info", "DispatchEventInfo")),
                ),
            ),
        ),
        "TransactionPaymentEvent": Enum(
            "pallet_transaction_payment::pallet::Event",
            (
                (
                    0,
                    "TransactionFeePaid",
                    (("who", "AccountId32"), ("actual_fee", "TaoBalance"), ("tip", "TaoBalance")),
                ),
            ),
        ),
        "Phase": Enum(
            "frame_system::Phase",
            (("ApplyExtrinsic", ("u32",)), ("Finalization", ()), ("Initialization", ())),
        ),
        "EventRecord": Struct(
            "frame_system::EventRecord",
            (("phase", "Phase"), ("event", "RuntimeEvent"), ("topics", "Vec<H256>")),
        ),
    }
)

SIGNED_EXTENSIONS = (
    SignedExtension("CheckNonZeroSender", "()", "()"),
    SignedExtension("CheckSpecVersion", "()", "u32"),
    SignedExtension("CheckTxVersion", "()", "u32"),
    SignedExtension("CheckGenesis", "()", "H256"),
    SignedExtension("CheckMortality", "CheckMortality", "H256"),
    SignedExtension("CheckNonce", "CheckNonce", "()"),
    SignedExtension("CheckWeight", "()", "()"),
    SignedExtension("ChargeTransactionPayment", "ChargeTransactionPayment", "()"),
    SignedExtension("CheckMetadataHash", "CheckMetadataHash", "Option<[u8; 32]>"),
)


def event_types(registry: TypeRegistry) -> None:
    """Intern the outer enums so their ids exist before the registry is written out."""
    for name in ("RuntimeCall", "RuntimeEvent", "RuntimeError"):
        registry.id_of(name)
