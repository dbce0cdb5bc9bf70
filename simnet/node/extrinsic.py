"""The extrinsic format and the outer enums: addresses, signatures, eras, the signed
extensions subtensor's runtime checks (``runtime/src/lib.rs`` ``TransactionExtensions``), and
``RuntimeCall`` / ``RuntimeEvent`` / ``RuntimeError``.

The node serves reads; its call, event and error enums are declared empty until the node
takes writes (issue #22 step 4), so a client composing a call is told the call is unknown
rather than handed a layout simnet does not dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from simnet.node.registry import Enum, Newtype, Struct, TypeRegistry


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
        "RuntimeCall": Enum("node_subtensor_runtime::RuntimeCall", ()),
        "RuntimeEvent": Enum("node_subtensor_runtime::RuntimeEvent", ()),
        "RuntimeError": Enum("node_subtensor_runtime::RuntimeError", ()),
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


def call_enum(pallet: str) -> bool:
    """Whether the pallet declares calls (none yet: the node serves reads)."""
    return f"{pallet}Call" in EXTRINSIC_TYPES


def event_types(registry: TypeRegistry) -> None:
    """Intern the outer enums so their ids exist before the registry is written out."""
    for name in ("RuntimeCall", "RuntimeEvent", "RuntimeError"):
        registry.id_of(name)
