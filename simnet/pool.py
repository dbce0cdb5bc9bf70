"""The transaction pool: pool-level validity, queueing, and applying an extrinsic in a block.

A pool-level failure (nonce, fee, unknown call) never reaches a block. An included
extrinsic consumes its nonce and pays a flat ``FEE_RAO`` (weights and serving are free, as
on chain) whether or not its dispatch succeeds; a failed dispatch leaves no events of its
own, only ``ExtrinsicFailed``.

MEV shield: a signed inner extrinsic parked by the seam is brought into the block right
after the ``MevShield.submit_encrypted`` carrier from the same signer at the preceding
nonce, as the block author's decryption would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simnet.dispatch import FREE_CALLS, dispatch_info
from simnet.records import FEE_RAO, ChainFailure, Extrinsic, Pending, Receipt

if TYPE_CHECKING:
    from simnet.accounts import Balances
    from simnet.dispatch import CallTable
    from simnet.ledger import Ledger

MAX_PARKED_INNER = 10_000  # abandoned shielded inner extrinsics must not accumulate forever


class TxPool:
    def __init__(self, ledger: Ledger, balances: Balances, calls: CallTable):
        self._ledger = ledger
        self._balances = balances
        self._calls = calls
        self._queue: list[Pending] = []
        self._shield_inner: dict[tuple[str, int], Extrinsic] = {}

    def __len__(self) -> int:
        return len(self._queue)

    def next_index(self, ss58: str) -> int:
        return self._balances.nonce(ss58) + sum(
            1 for p in self._queue if p.extrinsic.signer == ss58
        )

    def validate(self, ext: Extrinsic) -> None:
        """Pool-level validity (nonce, fee): a failure here never reaches a block."""
        on_chain = self._balances.nonce(ext.signer)
        expected = self.next_index(ext.signer)
        if ext.nonce < on_chain:
            raise ChainFailure("Stale", "Invalid Transaction: Transaction is outdated")
        if ext.nonce > expected:
            raise ChainFailure("Future", "Invalid Transaction: will be valid in the future")
        if ext.nonce < expected:
            raise ChainFailure(
                "Usurped", "Priority is too low: another transaction uses this nonce"
            )
        key = (ext.call.module, ext.call.function)
        if key not in FREE_CALLS and self._balances.balance(ext.signer) < FEE_RAO:
            raise ChainFailure("Payment", "Invalid Transaction: Inability to pay some fees")
        if not self._calls.implements(key):
            raise ChainFailure(
                "CallUnavailable",
                f"simnet does not implement {ext.call.module}.{ext.call.function}",
            )

    def submit(self, ext: Extrinsic) -> Pending:
        """Validate and queue; the next block includes it."""
        self.validate(ext)
        pending = Pending(ext)
        self._queue.append(pending)
        return pending

    def park_shield_inner(self, ext: Extrinsic) -> None:
        self._shield_inner[(ext.signer, ext.nonce)] = ext
        if len(self._shield_inner) > MAX_PARKED_INNER:
            self._shield_inner.pop(next(iter(self._shield_inner)))

    def include(self, block: int) -> list[tuple[Pending | None, Receipt]]:
        """Apply the queue in submission order; ``None`` marks a shielded inner extrinsic,
        which nobody waits on directly."""
        out: list[tuple[Pending | None, Receipt]] = []
        queue, self._queue = self._queue, []
        idx = 1  # extrinsic 0 is the timestamp inherent
        for pending in queue:
            ext = pending.extrinsic
            if ext.nonce != self._balances.nonce(ext.signer):
                continue  # superseded while queued; the pool drops it
            receipt = self.apply(ext, block, idx)
            out.append((pending, receipt))
            idx += 1
            if ext.call.module == "MevShield" and receipt.success:
                inner = self._shield_inner.pop((ext.signer, ext.nonce + 1), None)
                if inner is not None and inner.nonce == self._balances.nonce(inner.signer):
                    out.append((None, self.apply(inner, block, idx)))
                    idx += 1
        return out

    def apply(self, ext: Extrinsic, block: int, idx: int) -> Receipt:
        ledger = self._ledger
        key = (ext.call.module, ext.call.function)
        fee = 0 if key in FREE_CALLS else min(FEE_RAO, self._balances.balance(ext.signer))
        self._balances.use_nonce_and_charge(ext.signer, fee)
        ledger.extrinsic_index = idx
        start = ledger.event_mark()
        error: ChainFailure | None = None
        try:
            self._calls.dispatch(ext)
        except ChainFailure as failure:
            error = failure
            ledger.drop_events_since(start)
        if fee:
            ledger.emit(
                "TransactionPayment",
                "TransactionFeePaid",
                {"who": ext.signer, "actual_fee": fee, "tip": 0},
            )
        if error is None:
            ledger.emit("System", "ExtrinsicSuccess", {"dispatch_info": dispatch_info(key)})
        else:
            ledger.emit(
                "System",
                "ExtrinsicFailed",
                {
                    "dispatch_error": self._calls.errors.dispatch_error(error.name),
                    "dispatch_info": dispatch_info(key),
                },
            )
        ledger.extrinsic_index = None
        return Receipt(
            block=block,
            block_hash=ledger.block_hash(block),
            index=idx,
            extrinsic=ext,
            success=error is None,
            error=error,
            events=ledger.events_since(start),
            fee_rao=fee,
        )
