"""Transient read failures retried at the substrate, inside the poll's own deadline.

A public endpoint under load refuses a share of requests (HTTP 429/503, a JSON-RPC "rate
limited" frame, a dropped connection). One refused request used to fail the whole poll: with
30% of requests refused, 171 of 176 polls failed (issue #21). :class:`RetryingSubstrate`
goes between an endpoint's substrate and its ``BlockHashMemo`` and tries each *read* again
after a short, growing pause, up to ``attempts`` times. Writes are never retried (the agent
makes none, and a resubmission is not idempotent).

What is transient: connection errors, the SDK's ``RpcConnectionError`` family and its
transport's ``SubstrateRequestException`` family (JSON-RPC error frames, the rate-limit
rejection) except those a retry cannot change (state discarded, block not found). Not
retried: a timeout (it has spent its time already, and the SDK's transport retries response
timeouts itself; retrying here would eat the budget the pool needs to fail over to another
endpoint), ``ChainError`` (the chain answered), ``StorageFunctionNotFound`` (the runtime has
no such item; see ``exporters/reads.py``) and everything else.

The budget: every poll runs under ``asyncio.timeout(poll.timeout_seconds)``
(``ChainPoller.poll``), and the pauses here sum to at most ``backoff * (2**attempts - 1)``
(0.75 s with the defaults), so a retry never outlives the poll that asked for it; a read
that is still failing when the poll's deadline comes is cancelled with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bittensor._transport.errors import (
    BlockNotFound,
    StateDiscardedError,
    SubstrateRequestException,
)
from bittensor.result import RpcConnectionError

# The members of bittensor's Substrate protocol that only read.
READ_MEMBERS = frozenset(
    {
        "block_hash",
        "block_number",
        "finalized_block_number",
        "block_time",
        "spec_version",
        "get_block",
        "query",
        "query_map",
        "query_batch",
        "map_has_entries",
        "runtime_call",
        "constant",
        "events",
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether asking again might get an answer (see the module docstring)."""
    if isinstance(exc, StateDiscardedError | BlockNotFound | TimeoutError):
        return False
    return isinstance(
        exc,
        ConnectionError | OSError | RpcConnectionError | SubstrateRequestException,
    )


class RetryingSubstrate:
    """A Substrate whose reads are retried on transient failures; everything else passes."""

    def __init__(
        self,
        inner: Any,
        *,
        attempts: int = 5,
        backoff: float = 0.025,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_attempts", attempts)
        object.__setattr__(self, "_backoff", backoff)
        object.__setattr__(self, "_sleep", sleep)
        object.__setattr__(self, "retries", 0)

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._inner, name)
        if name not in READ_MEMBERS or not callable(member):
            return member

        async def retried(*args: Any, **kwargs: Any) -> Any:
            for attempt in range(self._attempts):
                try:
                    return await member(*args, **kwargs)
                except Exception as exc:
                    if attempt + 1 == self._attempts or not is_transient(exc):
                        raise
                object.__setattr__(self, "retries", self.retries + 1)
                await self._sleep(self._backoff * 2**attempt)
            raise AssertionError("unreachable")  # pragma: no cover

        return retried

    def __setattr__(self, name: str, value: Any) -> None:
        # Client.connect installs token_symbols on its substrate: pass it through.
        setattr(self._inner, name, value)
