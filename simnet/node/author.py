"""Writes as a node takes them: a signed extrinsic decoded with the node's metadata, its
signature checked against the payload the runtime signs (``CheckSpecVersion``,
``CheckTxVersion``, ``CheckGenesis``, ``CheckMortality``, ``CheckNonce``,
``ChargeTransactionPayment``), its era checked against the head, then handed to simnet's
transaction pool (which applies the nonce, the fee and the call through
:mod:`simnet.dispatch`). A refusal is the node's ``1010 Invalid Transaction`` with the pool's
reason; an included extrinsic's outcome is read back, as on a node, from ``System.Events``
(``ExtrinsicSuccess`` / ``ExtrinsicFailed`` with the runtime's module error index, and
``TransactionPayment.TransactionFeePaid``).

The node keeps the raw bytes of what it accepted so ``chain_getBlock`` can list them; calls
that reached the chain through ``sim://`` have no SCALE form and are left out of a block's
extrinsics and events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from bittensor import keyfiles

from simnet.calls import ComposedCall
from simnet.dispatch import FREE_CALLS, UNKNOWN_ERROR, load_error_index
from simnet.node.answers import NodeError
from simnet.node.metadata import NodeMetadata
from simnet.records import BlockRecord, ChainFailure, Extrinsic, Pending
from simnet.state import FEE_RAO

INVALID_TRANSACTION = 1010
POOL_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "Stale": "Transaction is outdated",
        "Future": "Transaction will be valid in the future",
        "Payment": "Inability to pay some fees (e.g. account balance too low)",
        "BadProof": "Transaction has a bad signature",
        "AncientBirthBlock": "Transaction has an ancient birth block",
    }
)
_CRYPTO = MappingProxyType({"Sr25519": 1, "Ed25519": 0})
_DISPATCH_INFO = MappingProxyType(
    {"weight": {"ref_time": 1_000_000, "proof_size": 0}, "class": "Normal"}
)


def invalid(reason: str, detail: str = "") -> NodeError:
    data = POOL_REASONS.get(reason, reason) + (f": {detail}" if detail else "")
    return NodeError(INVALID_TRANSACTION, "Invalid Transaction", data)


class Author:
    """Accepts signed extrinsics for one chain under one runtime's metadata."""

    def __init__(self, chain: Any, metadata_now: Callable[[], NodeMetadata]):
        self.chain = chain
        self._metadata_now = metadata_now  # the runtime at the head: it validates and signs
        self.raw: dict[str, str] = {}  # extrinsic hash -> 0x-hex bytes, for chain_getBlock
        self._errors: Mapping[str, tuple[int, int]] | None = None

    # ------------------------------------------------------------------ accepting

    @property
    def metadata(self) -> NodeMetadata:
        return self._metadata_now()

    def accept(self, extrinsic_hex: str) -> tuple[Pending, str]:
        try:
            data = bytes.fromhex(str(extrinsic_hex).removeprefix("0x"))
            decoded = self.metadata.runtime.decode_extrinsic(data, True)
        except (ValueError, TypeError) as error:
            detail = f"cannot decode the extrinsic: {error}"
            raise NodeError(1002, "Verification Error", detail) from None
        signature = decoded.get("signature")
        if not isinstance(signature, dict):
            raise invalid("BadProof", "simnet's node takes signed extrinsics only")
        scheme, sig_hex = next(iter(signature.items()))
        if scheme not in _CRYPTO:
            raise invalid("BadProof", f"{scheme} signatures are not supported")
        call = decoded["call"]
        args = {a["name"]: a["value"] for a in call["call_args"]}
        call_data = bytes(
            self.metadata.runtime.compose_call(call["call_module"], call["call_function"], args)
        )
        era, birth = self._era(decoded.get("era"))
        payload = bytes(
            self.metadata.runtime.signature_payload(
                call_data,
                era=era,
                nonce=int(decoded["nonce"]),
                tip=int(decoded.get("tip") or 0),
                tip_asset_id=None,
                genesis_hash=bytes.fromhex(self.chain.block_hash(0)[2:]),
                era_block_hash=bytes.fromhex(self.chain.block_hash(birth)[2:]),
                metadata_hash=None,
            )
        )
        signer = str(decoded["address"])
        public = keyfiles.Keypair(ss58_address=signer, crypto_type=_CRYPTO[scheme])
        signature_bytes = bytes.fromhex(sig_hex.removeprefix("0x"))
        if not public.verify(payload, signature_bytes):
            raise invalid("BadProof")
        ext_hash = "0x" + hashlib.blake2b(data, digest_size=32).hexdigest()
        extrinsic = Extrinsic(
            call=ComposedCall(call["call_module"], call["call_function"], args),
            signer=signer,
            crypto_type=_CRYPTO[scheme],
            nonce=int(decoded["nonce"]),
            period=era["period"] if isinstance(era, dict) else 0,
            signature=signature_bytes,
            hash=ext_hash,
        )
        try:
            pending = self.chain.submit(extrinsic)
        except ChainFailure as failure:
            raise invalid(failure.name, failure.message) from None
        self.raw[ext_hash] = "0x" + data.hex()
        chain = self.chain
        if not chain.auto_blocks and not chain.halted:
            # Nobody produces blocks on a manual chain: include it now, as SimSubstrate does.
            chain.step()
            chain.finalize_to_head()
        return pending, ext_hash

    def _era(self, era: Any) -> tuple[Any, int]:
        """(the era as the codec signs it, its birth block); refuses an era out of range."""
        head = self.chain.head
        if era in (None, "Immortal", "00") or not isinstance(era, (list, tuple)):
            return "00", 0
        period, phase = int(era[0]), int(era[1])
        # frame_system's CheckMortality: the birth is the latest block at the era's phase; an
        # era past its period thus names a later block than the signer's, and fails the proof.
        birth = head - ((head - phase) % period)
        if birth < 0:
            raise invalid("AncientBirthBlock")
        return {"period": period, "current": birth}, birth

    def fee_info(self, extrinsic: bytes) -> dict[str, Any]:
        """``TransactionPaymentApi.query_info``: simnet's flat fee, none for the calls
        subtensor declares ``Pays::No`` (:data:`simnet.dispatch.FREE_CALLS`)."""
        try:
            call = self.metadata.runtime.decode_extrinsic(bytes(extrinsic), True)["call"]
        except (ValueError, TypeError) as error:
            raise NodeError(-32602, f"cannot decode the extrinsic: {error}") from None
        free = (call["call_module"], call["call_function"]) in FREE_CALLS
        return {
            "weight": _DISPATCH_INFO["weight"],
            "class": "Normal",
            "partial_fee": 0 if free else FEE_RAO,
        }

    # ------------------------------------------------------------------ blocks and events

    def extrinsics(self, rec: BlockRecord) -> list[str]:
        """The block's extrinsics the node can list: the timestamp inherent, then those it
        accepted, in block order."""
        listed = [self.raw[r.extrinsic.hash] for r in rec.receipts if r.extrinsic.hash in self.raw]
        return [self._timestamp_inherent(rec), *listed]

    def _timestamp_inherent(self, rec: BlockRecord) -> str:
        # An unsigned extrinsic (format version 4, no signature bit) carrying Timestamp.set.
        runtime = self.metadata.runtime
        call = bytes(runtime.compose_call("Timestamp", "set", {"now": rec.timestamp_ms}))
        return "0x" + bytes(runtime.encode("Vec<u8>", list(b"\x04" + call))).hex()

    def events(self, rec: BlockRecord) -> list[dict[str, Any]]:
        """``System.Events`` of a block, for the extrinsics :meth:`extrinsics` lists."""
        inherent = {**_DISPATCH_INFO, "class": "Mandatory", "pays_fee": "No"}
        out = [
            self._record(
                {"ApplyExtrinsic": 0}, "System", "ExtrinsicSuccess", {"dispatch_info": inherent}
            )
        ]
        listed = [r for r in rec.receipts if r.extrinsic.hash in self.raw]
        for index, receipt in enumerate(listed, start=1):
            phase = {"ApplyExtrinsic": index}
            pays = "No" if receipt.fee_rao == 0 else "Yes"
            info = {**_DISPATCH_INFO, "pays_fee": pays}
            if receipt.fee_rao:
                fee = {
                    "who": receipt.extrinsic.signer,
                    "actual_fee": receipt.fee_rao,
                    "tip": 0,
                }
                out.append(self._record(phase, "TransactionPayment", "TransactionFeePaid", fee))
            if receipt.success:
                out.append(
                    self._record(phase, "System", "ExtrinsicSuccess", {"dispatch_info": info})
                )
            else:
                failed = {
                    "dispatch_error": self._dispatch_error(receipt.error),
                    "dispatch_info": info,
                }
                out.append(self._record(phase, "System", "ExtrinsicFailed", failed))
        return out

    @staticmethod
    def _record(phase: dict, pallet: str, event: str, fields: dict) -> dict[str, Any]:
        return {"phase": phase, "event": {pallet: {event: fields}}, "topics": []}

    def _dispatch_error(self, error: ChainFailure | None) -> Any:
        name = error.name if error is not None else "Other"
        if name == "BadOrigin":
            return "BadOrigin"
        if self._errors is None:
            self._errors = load_error_index()
        pallet, index = self._errors.get(name, UNKNOWN_ERROR)
        return {"Module": {"index": pallet, "error": [index, 0, 0, 0]}}
