"""The chain's clock and memory: block numbers and hashes, finality, events, sealed history.

* **Blocks.** Each produced block is sealed into an immutable :class:`BlockRecord` (state as
  of the end of that block). Reads at a block hash are served from that record, so
  ``client.at(block)`` sees older values. Only the last ``history_blocks`` records are kept;
  older ones raise :class:`BlockUnavailable`, like a pruned node. The finalized head trails
  the best head by ``finality_lag`` blocks. A block hash encodes its number in its first four
  bytes, so hashes map back to numbers without a table. ``Timestamp.Now`` is ``genesis_unix``
  plus ``block_time`` per block.
* **Setup between blocks.** A direct (operator) change made while no block is being built
  re-seals the head record at once, so reads see it without waiting for a block; its events
  are carried into the next block.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from simnet.account_book import AccountBook
from simnet.records import BlockRecord, BlockUnavailable, EventRecord, Receipt, Subnet


class Ledger:
    """Owns the head, the finalized head, the events of the block being built and the sealed
    records. It reads (never changes) the live subnets and accounts it seals."""

    def __init__(
        self,
        *,
        subnets: Mapping[int, Subnet],
        accounts: AccountBook,
        block_time: float,
        start_block: int,
        finality_lag: int,
        seed: int,
        history_blocks: int,
        genesis_unix: float,
        genesis_nonce: str = "",
    ):
        if block_time <= 0:
            raise ValueError(f"block_time must be positive seconds, got {block_time!r}")
        if start_block < 0:
            raise ValueError(f"start_block must be >= 0, got {start_block!r}")
        self._subnets = subnets
        self._accounts = accounts
        self.block_time = float(block_time)
        self.finality_lag = max(0, int(finality_lag))
        self.seed = int(seed)
        # Part of every block hash: two servers started from one scenario still hash apart,
        # as a restarted dev chain does (its timestamps differ), so clients can tell them apart.
        self.genesis_nonce = str(genesis_nonce)
        self.history_blocks = max(1, int(history_blocks))
        self.genesis_ms = int(genesis_unix * 1000) - start_block * int(block_time * 1000)
        self.head = start_block
        self.finalized = start_block
        self.building: int | None = None  # the block being produced, None between blocks
        self.extrinsic_index: int | None = None  # the extrinsic being applied, for its events
        self._events: list[EventRecord] = []  # events of the block being built
        self._setup_events: list[EventRecord] = []  # direct calls between blocks
        self._history: dict[int, BlockRecord] = {}
        self._dirty_subnets: set[int] = set()
        self._resealing_deferred = False
        self._finality_waiters: list[tuple[int, Callable[[], None]]] = []
        self.seal(self.head, events=(), receipts=())

    # ---------------------------------------------------------------- numbers and hashes

    def block_hash(self, n: int) -> str:
        tag = (
            f"simnet:{self.seed}:{self.genesis_nonce}:{n}"
            if self.genesis_nonce
            else f"simnet:{self.seed}:{n}"
        )
        digest = hashlib.blake2b(tag.encode(), digest_size=28).hexdigest()
        return f"0x{n:08x}{digest}"

    def block_of(self, block_hash: str) -> int:
        text = str(block_hash).lower()
        try:
            n = int(text[2:10], 16)
        except ValueError:
            raise BlockUnavailable(f"unknown block hash {block_hash!r}") from None
        if not text.startswith("0x") or self.block_hash(n) != text:
            raise BlockUnavailable(f"unknown block hash {block_hash!r}")
        return n

    def timestamp_ms(self, n: int) -> int:
        return self.genesis_ms + n * int(self.block_time * 1000)

    @property
    def building_block(self) -> int:
        """The block whose state changes are being made now (head + 1 while producing)."""
        return self.building if self.building is not None else self.head

    def record(self, n: int | None = None) -> BlockRecord:
        """The sealed state at block ``n`` (the head when None)."""
        n = self.head if n is None else int(n)
        rec = self._history.get(n)
        if rec is not None:
            return rec
        if n > self.head:
            raise BlockUnavailable(f"block {n} is beyond the best block {self.head}")
        raise BlockUnavailable(
            f"State already discarded for block {n}: simnet keeps the last "
            f"{self.history_blocks} blocks (head {self.head})"
        )

    # ---------------------------------------------------------------- events

    def emit(self, module: str, event: str, attributes: Any) -> None:
        if self.building is None:
            self._setup_events.append(EventRecord(module, event, attributes, None))
        else:
            self._events.append(EventRecord(module, event, attributes, self.extrinsic_index))

    def event_mark(self) -> int:
        """A position in the block's events, to collect or drop what came after it."""
        return len(self._events)

    def events_since(self, mark: int) -> tuple[EventRecord, ...]:
        return tuple(self._events[mark:])

    def drop_events_since(self, mark: int) -> None:
        del self._events[mark:]

    # ---------------------------------------------------------------- producing a block

    def begin_block(self) -> int:
        """Start building ``head + 1``; the setup events since the last block come first."""
        self.building = self.head + 1
        self._events = list(self._setup_events)
        self._setup_events = []
        return self.building

    def advance_head(self, b: int) -> None:
        self.head = b
        self.finalized = max(self.finalized, b - self.finality_lag)

    def seal_block(self, b: int, receipts: tuple[Receipt, ...]) -> None:
        self.seal(b, events=tuple(self._events), receipts=receipts)
        self._events = []

    def end_block(self) -> None:
        self.building = None

    # ---------------------------------------------------------------- finality

    def finalize_to_head(self) -> None:
        self.finalized = self.head
        self.notify_finality()

    def when_finalized(self, block: int, fn: Callable[[], None]) -> None:
        if self.finalized >= block:
            fn()
        else:
            self._finality_waiters.append((block, fn))

    def notify_finality(self) -> None:
        due = [w for w in self._finality_waiters if w[0] <= self.finalized]
        if due:
            self._finality_waiters = [w for w in self._finality_waiters if w[0] > self.finalized]
            for _block, fn in due:
                fn()

    # ---------------------------------------------------------------- sealing history

    def subnet_changed(self, netuid: int) -> None:
        self._dirty_subnets.add(netuid)
        if self.building is None and not self._resealing_deferred:
            self._reseal_head()

    def accounts_changed(self) -> None:
        self._accounts.changed()
        if self.building is None and not self._resealing_deferred:
            self._reseal_head()

    @contextlib.contextmanager
    def one_reseal(self) -> Iterator[None]:
        """Direct changes inside reseal the head once, on exit. Each reseal copies every
        account, so setting up a large world change by change would be quadratic (a
        32k-neuron scenario: minutes instead of seconds)."""
        outer = self._resealing_deferred
        self._resealing_deferred = True
        try:
            yield
        finally:
            self._resealing_deferred = outer
            if not outer and self.building is None:
                self._reseal_head()

    def _frozen_subnets(self, previous: BlockRecord | None) -> MappingProxyType:
        # Only changed subnets are copied; an untouched one shares the previous block's record.
        out = {}
        for netuid, sn in self._subnets.items():
            if previous is not None and netuid not in self._dirty_subnets:
                kept = previous.subnets.get(netuid)
                if kept is not None:
                    out[netuid] = kept
                    continue
            out[netuid] = sn.frozen()
        self._dirty_subnets.clear()
        return MappingProxyType(out)

    def seal(self, b: int, *, events: tuple, receipts: tuple) -> None:
        previous = self._history.get(b - 1) or self._history.get(b)
        self._history[b] = BlockRecord(
            number=b,
            hash=self.block_hash(b),
            parent_hash=self.block_hash(b - 1) if b > 0 else "0x" + "00" * 32,
            timestamp_ms=self.timestamp_ms(b),
            subnets=self._frozen_subnets(previous),
            accounts=self._accounts.frozen(),
            events=events,
            receipts=receipts,
        )
        stale = b - self.history_blocks
        for old in [k for k in self._history if k <= stale]:
            del self._history[old]

    def _reseal_head(self) -> None:
        rec = self._history.get(self.head)
        if rec is None:
            return
        self._history[self.head] = replace(
            rec, subnets=self._frozen_subnets(rec), accounts=self._accounts.frozen()
        )
