"""Reads that fail alone: each chain-wide, per-subnet and event read succeeds or fails on its own.

A poll is many reads (``exporters/chain.py`` lists them). Before, they ran in one
``asyncio.gather``, so one item the runtime lacks (``MechanismCountCurrent`` on an older
runtime) or one refused request failed the whole poll and nothing was exported. Now every
read goes through :meth:`ReadBook.read`, which never raises for a read's own failure:

* **unsupported** — the runtime has no such storage item (the SDK raises
  ``StorageFunctionNotFound``): ``bittensor_exporter_read_unsupported{read}`` is 1 and the
  caller gets its ``fallback`` (the chain's default where the item has one: one mechanism, no
  swap announced); a rule the runtime does not have is exported as absent, not as today's
  default (``exporters/economics.py``). The gauge goes back to 0 when the read next succeeds
  (a runtime upgrade that adds the item).
* **failed** — anything else, after the substrate's own retries of transient errors
  (``exporters/retry.py``): ``bittensor_exporter_read_errors_total{read,reason}`` counts it
  and the caller gets ``None``, so only that read's series are absent this poll.

Both families carry every read in :data:`READS` from start-up (errors at 0), so a rate()
over them has a baseline. A read failing poll after poll is logged once per
``log_every`` seconds per (read, reason), with how many failures that line stands for, not
once per request.

A poll's deadline (``asyncio.timeout``) still cancels every read in flight: that is the
poll's failure, not a read's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import structlog
from bittensor._transport.errors import StorageFunctionNotFound

from common.metric_names import Exporter as N
from exporters.endpoints import ERROR_REASONS, error_reason
from exporters.family import Family

T = TypeVar("T")

# Every read a poll makes, by the name its series carry (label ``read``).
READS = (
    "dynamic_info",  # SubnetInfoRuntimeApi.get_all_dynamic_info
    "yuma3",  # Yuma3On
    "epoch_consensus",  # SubnetEpochConsensus
    "min_non_immune_uids",  # MinNonImmuneUids
    "immune_owner_uids_limit",  # ImmuneOwnerUidsLimit
    "emission_enabled",  # SubnetEmissionEnabled
    "miner_burned",  # MinerBurned
    "emission_gate_bar",  # EmissionGateBar
    "emission_gate_exponent",  # EmissionGateExponent
    "emission_bar_rank",  # EmissionBarRank
    "mechanism_counts",  # MechanismCountCurrent
    "mechanism_incentives",  # Incentive per mechanism
    "neurons",  # NeuronInfoRuntimeApi (neurons.all), per subnet
    "metagraph",  # SubnetInfoRuntimeApi metagraph, per subnet
    "finalized",  # the finalized head, when the subscription is quiet
    "spec_version",  # the runtime's version
    "coldkey_discovery",  # OwnedHotkeys + IsNetworkMember of a coldkey watched everywhere
    "coldkey_swap_announcements",  # ColdkeySwapAnnouncements
    "coldkey_swap_disputes",  # ColdkeySwapDisputes
    "delegate_take",  # Delegates
    "child_keys",  # ChildKeys
    "pending_child_keys",  # PendingChildKeys
    "reveal_queue",  # TimelockedWeightCommits, per commit-reveal subnet with a watched validator
    "reveal_events",  # System.Events of a block a watched commit left the queue in
)
READ_ERROR_REASONS = ERROR_REASONS
# A failed read where None means something (a subnet that does not exist): ``failed=UNREAD``.
UNREAD = object()


async def ready(value: T) -> T:
    """An awaitable of a value already known, to gather with reads."""
    return value


@dataclass(frozen=True, slots=True)
class ReadsView:
    """The read counters at one moment, for the collector."""

    errors: Mapping[tuple[str, str], int] = field(
        default_factory=lambda: MappingProxyType(
            {(r, why): 0 for r in READS for why in READ_ERROR_REASONS}
        )
    )
    unsupported: Mapping[str, bool] = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(READS, False))
    )


class ReadBook:
    """Runs reads so each fails alone, and keeps their counters (see the module docstring)."""

    def __init__(
        self,
        *,
        log_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ):
        self._log = logger or structlog.get_logger("taowatch.exporter")
        self._log_every = log_every
        self._monotonic = monotonic
        self._errors = {(r, why): 0 for r in READS for why in READ_ERROR_REASONS}
        self._unsupported = dict.fromkeys(READS, False)
        # (read, reason) -> (when last logged, failures since then)
        self._logged: dict[tuple[str, str], tuple[float, int]] = {}

    def view(self) -> ReadsView:
        return ReadsView(
            MappingProxyType(dict(self._errors)), MappingProxyType(dict(self._unsupported))
        )

    def lacks(self, read: str) -> bool:
        """Whether the runtime lacked ``read``'s item the last time it was asked."""
        return self._unsupported[read]

    async def read(
        self,
        read: str,
        pending: Awaitable[T],
        *,
        fallback: Any = None,
        failed: Any = None,
        context: Any = None,
    ) -> T | Any:
        """``pending``'s value; ``fallback`` when the runtime lacks the item; ``failed``
        (None unless given) when the read failed. ``context`` (a netuid, say) goes into the
        log line only."""
        if read not in self._unsupported:
            raise ValueError(f"unknown read {read!r}: add it to exporters.reads.READS")
        try:
            value = await pending
        except StorageFunctionNotFound as exc:
            if not self._unsupported[read]:
                self._log.warning(
                    "runtime lacks a storage item: its series are absent",
                    read=read,
                    error=str(exc),
                )
            self._unsupported[read] = True
            return fallback
        except Exception as exc:
            reason = error_reason(exc)
            self._errors[(read, reason)] += 1
            self._note_failure(read, reason, exc, context)
            return failed
        if self._unsupported[read]:
            self._log.info("runtime has the storage item again", read=read)
        self._unsupported[read] = False
        return value

    def _note_failure(self, read: str, reason: str, exc: BaseException, context: Any) -> None:
        now = self._monotonic()
        last = self._logged.get((read, reason))
        if last is not None and now - last[0] < self._log_every:
            self._logged[(read, reason)] = (last[0], last[1] + 1)
            return
        self._log.warning(
            "read failed: only its series are absent",
            read=read,
            reason=reason,
            context=context,
            error=str(exc) or type(exc).__name__,
            failures_since_last_line=(last[1] if last is not None else 0) + 1,
        )
        self._logged[(read, reason)] = (now, 0)


def read_families(view: ReadsView) -> list[Family]:
    errors = sorted(view.errors.items())
    unsupported = sorted(view.unsupported.items())
    return [
        Family(N.EXPORTER_READ_ERRORS, [key for key, _ in errors], [float(n) for _, n in errors]),
        Family(
            N.EXPORTER_READ_UNSUPPORTED,
            [(r,) for r, _ in unsupported],
            [1.0 if lacks else 0.0 for _, lacks in unsupported],
        ),
    ]
