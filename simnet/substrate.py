"""``SimSubstrate``: the bittensor SDK's ``Substrate`` protocol over an in-process Chain.

Pass it to the SDK and the SDK's own reads, intents and executor run unmodified::

    client = bt.Client("ws://simnet-inproc.invalid", substrate=SimSubstrate(chain))

Reads resolve a block hash to the sealed state of that block (the head when no hash is
given) and answer with the transport's decoded shapes (:mod:`simnet.shapes`). Unmodelled
storage or runtime APIs raise ``ChainError`` naming the item, and so does a pruned block.

Writes are signed exactly like the chain requires: ``submit`` signs
:func:`simnet.calls.signing_payload` with the caller's keypair and hands the signature to
:meth:`SimSubstrate.submit_verified`, which checks it against the signer's ss58 before the
pool sees the call. The loopback server calls ``submit_verified`` directly with a signature
made on the client side, so a caller holding only a public key cannot write. A bad signature
is refused like the pool refuses it (``BadProof``, nothing included); pool-level nonce and fee
problems come back as ``Stale`` / ``Future`` / ``Payment``; a dispatch failure is included in
a block, consumes the nonce, and returns the runtime error name (``result.error.name``).

Inclusion: with a ``BlockClock`` running (``chain.auto_blocks``), a submission waits for the
next produced block, then for finality when asked. In manual mode (tests step the chain by
hand) a submission produces its block at once and lets finality catch up, so the SDK's
executor, which sleeps ``block_time`` between polls, never waits on a chain nobody advances.

MEV shield: ``sign_extrinsic`` (the shielded inner call) is signed and verified the same way
and parked; the ``MevShield.submit_encrypted`` carrier from the same signer at the preceding
nonce brings it into the carrier's block, as the block author's decryption would. The key
from ``mev_next_key`` is a well-formed ML-KEM-768 encapsulation key so the SDK's client-side
encryption works; simnet never decrypts the ciphertext.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

from bittensor.balance import Balance
from bittensor.result import ChainError, ExtrinsicResult

from simnet import shapes
from simnet.calls import (
    ComposedCall,
    call_from_data,
    canonical,
    compose,
    extrinsic_hash,
    signing_payload,
    verify_signature,
)
from simnet.state import FEE_RAO, BlockUnavailable, Chain, ChainFailure, Extrinsic, Receipt

DEFAULT_PERIOD = 128
BAD_PROOF_MESSAGE = "Invalid Transaction: Transaction has a bad signature"


class BadProof(Exception):
    """A signature that does not verify against the signer's address."""


def _failure(name: str, message: str) -> ExtrinsicResult:
    return ExtrinsicResult(success=False, message=message, error=ChainError(message, name))


def result_from_receipt(receipt: Receipt) -> ExtrinsicResult:
    """The SDK's typed result for an included extrinsic."""
    extrinsic_id = f"{receipt.block}-{receipt.index:04d}"
    events = [shapes.event_dict(ev) for ev in receipt.events]
    fee = Balance.from_rao(receipt.fee_rao)
    if receipt.success:
        return ExtrinsicResult(
            success=True,
            message="Success",
            block_hash=receipt.block_hash,
            extrinsic_id=extrinsic_id,
            fee=fee,
            events=events,
        )
    err = receipt.error
    assert err is not None
    return ExtrinsicResult(
        success=False,
        message=f"{err.name}: {err.message}",
        block_hash=receipt.block_hash,
        extrinsic_id=extrinsic_id,
        fee=fee,
        events=events,
        error=ChainError(f"{err.name}: {err.message}", err.name),
    )


class SimSubstrate:
    """All members of ``bittensor.Substrate`` over one :class:`~simnet.state.Chain`."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.token_symbols: dict[int, str] = {}
        self._mev_key = shapes.mlkem768_public_key(chain.seed)

    # ------------------------------------------------------------------ plumbing

    def balance(self, rao: int, netuid: int = 0) -> Balance:
        symbol = self.token_symbols.get(netuid) if netuid else None
        return Balance(int(rao), netuid, symbol)

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _record(self, block_hash: str | None):
        try:
            if block_hash is None:
                return self.chain.record()
            return self.chain.record(self.chain.block_of(block_hash))
        except BlockUnavailable as error:
            raise ChainError(str(error)) from error

    @staticmethod
    def _unmodelled(error: Exception) -> ChainError:
        return ChainError(str(error))

    # ------------------------------------------------------------------ reads

    async def block_hash(self, block: int | None = None) -> str:
        if block is None:
            return self.chain.block_hash(self.chain.head)
        if int(block) > self.chain.head or int(block) < 0:
            return None  # type: ignore[return-value]  # as the RPC answers for a future height
        return self.chain.block_hash(int(block))

    async def block_number(self) -> int:
        return self.chain.head

    async def finalized_block_number(self) -> int:
        return self.chain.finalized

    async def block_time(self) -> float:
        return int(await self.constant("Aura", "SlotDuration")) / 1000.0

    async def spec_version(self) -> int:
        return self.chain.runtime.spec_version

    async def get_block(
        self, block_number: int | None = None, block_hash: str | None = None
    ) -> dict | None:
        try:
            if block_hash is not None:
                rec = self.chain.record(self.chain.block_of(block_hash))
            else:
                rec = self.chain.record(block_number)
        except BlockUnavailable:
            return None
        extrinsics: list[dict] = [
            {
                "extrinsic_hash": None,
                "call": {
                    "call_index": "0x0200",
                    "call_function": "set",
                    "call_module": "Timestamp",
                    "call_args": [{"name": "now", "type": "Moment", "value": rec.timestamp_ms}],
                },
            }
        ]
        for receipt in rec.receipts:
            ext = receipt.extrinsic
            extrinsics.append(
                {
                    "extrinsic_hash": ext.hash,
                    "address": ext.signer,
                    "nonce": ext.nonce,
                    "signature": {"Sr25519" if ext.crypto_type == 1 else "Ed25519": ext.signature},
                    "call": {
                        "call_module": ext.call.module,
                        "call_function": ext.call.function,
                        "call_args": [{"name": k, "value": v} for k, v in ext.call.params.items()],
                        "call_hash": ext.call.call_hash,
                    },
                }
            )
        return {
            "header": {
                "number": rec.number,
                "hash": rec.hash,
                "parentHash": rec.parent_hash,
                "stateRoot": rec.hash,
                "extrinsicsRoot": rec.hash,
            },
            "extrinsics": extrinsics,
        }

    async def query(
        self,
        module: str,
        storage_function: str,
        params: list | None = None,
        block_hash: str | None = None,
    ) -> Any:
        self.chain.runtime.check(module, storage_function)
        rec = self._record(block_hash)
        try:
            return shapes.query(rec, module, storage_function, params or [], mev_key=self._mev_key)
        except (shapes.Unmodelled, IndexError) as error:
            raise self._unmodelled(error) from error

    async def map_has_entries(
        self,
        module: str,
        storage_function: str,
        params: list,
        block_hash: str | None = None,
    ) -> bool:
        return bool(await self.query_map(module, storage_function, params, block_hash))

    async def query_map(
        self,
        module: str,
        storage_function: str,
        params: list | None = None,
        block_hash: str | None = None,
    ) -> list[tuple[Any, Any]]:
        self.chain.runtime.check(module, storage_function)
        rec = self._record(block_hash)
        try:
            return shapes.query_map(rec, module, storage_function, params or [])
        except (shapes.Unmodelled, IndexError) as error:
            raise self._unmodelled(error) from error

    async def query_batch(
        self,
        module: str,
        storage_function: str,
        param_sets: list[list],
        block_hash: str | None = None,
    ) -> list[Any]:
        self.chain.runtime.check(module, storage_function)
        rec = self._record(block_hash)
        try:
            return [
                shapes.query(rec, module, storage_function, list(p), mev_key=self._mev_key)
                for p in param_sets
            ]
        except (shapes.Unmodelled, IndexError) as error:
            raise self._unmodelled(error) from error

    async def runtime_call(
        self, api: str, method: str, params: Any, block_hash: str | None = None
    ) -> Any:
        rec = self._record(block_hash)
        try:
            return shapes.runtime_call(rec, api, method, params)
        except (shapes.Unmodelled, IndexError, KeyError) as error:
            raise self._unmodelled(error) from error

    async def constant(self, module: str, name: str) -> Any:
        try:
            return shapes.constant(module, name, block_time=self.chain.block_time)
        except shapes.Unmodelled as error:
            raise self._unmodelled(error) from error

    async def decode_scale(self, type_string: str, data: Any) -> Any:
        raise ChainError(f"simnet has no SCALE codec (asked to decode {type_string})")

    async def blocks(self, *, finalized: bool = False) -> AsyncIterator[dict]:
        """The current head (or finalized head) first, as a node sends on subscribing, then
        every block after it, none skipped."""
        chain = self.chain
        seen = (chain.finalized if finalized else chain.head) - 1
        while True:
            top = chain.finalized if finalized else chain.head
            while seen < top:
                seen += 1
                yield {
                    "header": {
                        "number": seen,
                        "parentHash": chain.block_hash(seen - 1),
                        "hash": chain.block_hash(seen),
                    }
                }
            await asyncio.sleep(min(0.05, chain.block_time / 4))

    async def events(self, block_hash: str | None = None) -> list[dict]:
        rec = self._record(block_hash)
        return [shapes.event_dict(ev) for ev in rec.events]

    # ------------------------------------------------------------------ calls and fees

    async def compose(self, call: Any) -> ComposedCall:
        return compose(call)

    async def estimate_fee(self, call: Any, keypair: Any) -> Balance:
        return Balance.from_rao(FEE_RAO)

    async def estimate_weight(self, call: Any, keypair: Any) -> dict:
        return {"ref_time": 1_000_000, "proof_size": 0}

    async def account_next_index(self, address: str) -> int:
        return self.chain.next_index(address)

    # ------------------------------------------------------------------ writes

    async def mev_next_key(self) -> bytes | None:
        return self._mev_key

    @staticmethod
    async def _sign(keypair: Any, payload: bytes) -> bytes:
        signature = keypair.sign(payload)
        if inspect.isawaitable(signature):
            signature = await signature
        if isinstance(signature, str):
            signature = bytes.fromhex(signature.removeprefix("0x"))
        return bytes(signature)

    def _verified(
        self,
        call: ComposedCall,
        *,
        signer_ss58: str,
        crypto_type: int,
        nonce: int,
        period: int,
        signature: bytes,
    ) -> Extrinsic:
        """The extrinsic, once its signature checks out against the signer's ss58; raises
        :class:`BadProof` otherwise (each caller fails in the shape the SDK expects of it)."""
        call = compose(call)
        payload = signing_payload(call, signer=signer_ss58, nonce=nonce, period=period)
        if not verify_signature(signer_ss58, crypto_type, payload, signature):
            raise BadProof(BAD_PROOF_MESSAGE)
        return Extrinsic(
            call=call,
            signer=signer_ss58,
            crypto_type=int(crypto_type),
            nonce=int(nonce),
            period=int(period),
            signature=bytes(signature),
            hash=extrinsic_hash(payload, bytes(signature)),
        )

    async def _signed_by(self, keypair: Any, call: Any, *, nonce: int, period: int) -> dict:
        """Sign ``call`` with a local keypair: the arguments of the ``*_verified`` members."""
        call = compose(call)
        payload = signing_payload(call, signer=keypair.ss58_address, nonce=nonce, period=period)
        return {
            "call": call,
            "signer_ss58": keypair.ss58_address,
            "crypto_type": int(getattr(keypair, "crypto_type", 1)),
            "nonce": nonce,
            "period": period,
            "signature": await self._sign(keypair, payload),
        }

    async def sign_extrinsic(
        self, call: Any, keypair: Any, *, nonce: int, period: int
    ) -> tuple[bytes, str]:
        signed = await self._signed_by(keypair, call, nonce=nonce, period=period)
        return await self.sign_extrinsic_verified(**signed)

    async def sign_extrinsic_verified(
        self,
        call: ComposedCall,
        *,
        signer_ss58: str,
        crypto_type: int,
        nonce: int,
        period: int,
        signature: bytes,
    ) -> tuple[bytes, str]:
        """Park a verified inner extrinsic for the MEV-shield carrier that will follow it.
        A bad signature raises, as the SDK's ``sign_extrinsic`` does."""
        try:
            ext = self._verified(
                call,
                signer_ss58=signer_ss58,
                crypto_type=crypto_type,
                nonce=nonce,
                period=period,
                signature=signature,
            )
        except BadProof as error:
            raise ChainError(str(error), "BadProof") from None
        self.chain.record_shield_inner(ext)
        raw = canonical(
            {
                "signer": ext.signer,
                "crypto_type": ext.crypto_type,
                "nonce": ext.nonce,
                "period": ext.period,
                "call": ext.call.data,
                "signature": ext.signature,
            }
        )
        return raw, ext.hash

    async def find_extrinsic(self, extrinsic_hash: str, block_hash: str) -> ExtrinsicResult | None:
        try:
            rec = self.chain.record(self.chain.block_of(block_hash))
        except BlockUnavailable:
            return None
        for receipt in rec.receipts:
            if receipt.extrinsic.hash == extrinsic_hash:
                return result_from_receipt(receipt)
        return None

    async def submit(
        self,
        call: Any,
        keypair: Any,
        *,
        nonce: int | None = None,
        period: int | None = DEFAULT_PERIOD,
        wait_for_inclusion: bool = True,
        wait_for_finalization: bool = True,
    ) -> ExtrinsicResult:
        signer = keypair.ss58_address
        nonce = self.chain.next_index(signer) if nonce is None else int(nonce)
        period = DEFAULT_PERIOD if period is None else int(period)
        signed = await self._signed_by(keypair, call, nonce=nonce, period=period)
        return await self.submit_verified(
            **signed,
            wait_for_inclusion=wait_for_inclusion,
            wait_for_finalization=wait_for_finalization,
        )

    async def submit_verified(
        self,
        call: ComposedCall,
        *,
        signer_ss58: str,
        crypto_type: int,
        nonce: int,
        period: int,
        signature: bytes,
        wait_for_inclusion: bool = True,
        wait_for_finalization: bool = True,
    ) -> ExtrinsicResult:
        """Apply a call whose signature was made elsewhere, after checking it. A bad signature
        is a failed result (nothing included), as the SDK's ``submit`` reports it."""
        try:
            ext = self._verified(
                call,
                signer_ss58=signer_ss58,
                crypto_type=crypto_type,
                nonce=nonce,
                period=period,
                signature=signature,
            )
        except BadProof as error:
            return _failure("BadProof", str(error))
        try:
            pending = self.chain.submit(ext)
        except ChainFailure as failure:
            return _failure(failure.name, failure.message)
        chain = self.chain
        if not chain.auto_blocks:
            if not chain.halted:
                chain.step()
                if wait_for_finalization:
                    chain.finalize_to_head()
        if not (wait_for_inclusion or wait_for_finalization):
            return ExtrinsicResult(success=True, message="Submitted (not waiting).")
        if pending.receipt is None:
            loop = asyncio.get_running_loop()
            included = asyncio.Event()
            pending.add_listener(lambda _p: loop.call_soon_threadsafe(included.set))
            await included.wait()
        receipt = pending.receipt
        assert receipt is not None
        if wait_for_finalization and chain.finalized < receipt.block:
            loop = asyncio.get_running_loop()
            final = asyncio.Event()
            chain.when_finalized(receipt.block, lambda: loop.call_soon_threadsafe(final.set))
            await final.wait()
        return result_from_receipt(receipt)

    async def prepare(
        self,
        call: Any,
        *,
        address: str,
        crypto_type: int = 1,
        nonce: int | None = None,
        period: int | None = DEFAULT_PERIOD,
        tip: int = 0,
        metadata_hash: bytes | None = None,
    ):
        from bittensor._transport.contract import UnsignedExtrinsic
        from bittensor.keyfiles import Keypair

        call = compose(call)
        nonce = self.chain.next_index(address) if nonce is None else int(nonce)
        period = DEFAULT_PERIOD if period is None else int(period)
        payload = signing_payload(call, signer=address, nonce=nonce, period=period)
        public = Keypair(ss58_address=address, crypto_type=crypto_type).public_key
        head_hash = self.chain.block_hash(self.chain.head)
        return UnsignedExtrinsic(
            call_data=call.data,
            address=address,
            public_key=bytes(public),
            crypto_type=int(crypto_type),
            era={"period": period, "current": self.chain.head},
            nonce=nonce,
            tip=int(tip),
            tip_asset_id=None,
            genesis_hash=self.chain.block_hash(0),
            era_block_hash=head_hash,
            spec_version=self.chain.runtime.spec_version,
            transaction_version=1,
            metadata_hash=metadata_hash,
            payload=payload,
            payload_json={
                "address": address,
                "nonce": hex(nonce),
                "method": "0x" + call.data.hex(),
            },
            included_in_extrinsic=b"",
            included_in_signed_data=b"",
        )

    async def submit_signature(
        self,
        unsigned: Any,
        signature: bytes | str,
        *,
        wait_for_inclusion: bool = True,
        wait_for_finalization: bool = True,
    ) -> ExtrinsicResult:
        if isinstance(signature, str):
            signature = bytes.fromhex(signature.removeprefix("0x"))
        era = unsigned.era if isinstance(unsigned.era, dict) else {}
        return await self.submit_verified(
            call_from_data(unsigned.call_data),
            signer_ss58=unsigned.address,
            crypto_type=unsigned.crypto_type,
            nonce=unsigned.nonce,
            period=int(era.get("period", DEFAULT_PERIOD)),
            signature=bytes(signature),
            wait_for_inclusion=wait_for_inclusion,
            wait_for_finalization=wait_for_finalization,
        )

    async def submit_signed(
        self,
        extrinsic: Any,
        keypair: Any,
        *,
        wait_for_inclusion: bool = True,
        wait_for_finalization: bool = True,
    ) -> ExtrinsicResult:
        raise ChainError("simnet does not accept pre-built SCALE extrinsics (multisig flow)")

    def multisig_account(self, signatories: list[str], threshold: int):
        raise ChainError("simnet does not model multisig accounts")

    async def submit_multisig(
        self,
        call: Any,
        keypair: Any,
        multisig_account: Any,
        *,
        wait_for_inclusion: bool = True,
        wait_for_finalization: bool = True,
    ) -> ExtrinsicResult:
        raise ChainError("simnet does not model multisig accounts")
