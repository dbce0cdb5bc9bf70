"""What one agent watches: hotkeys by subnet, coldkeys, whole subnets, and its shard."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColdkeyWatch:
    coldkey: str
    # None: every subnet the coldkey has a hotkey on (discovered); else only these subnets.
    netuids: tuple[int, ...] | None = None

    @property
    def source(self) -> str:
        return f"coldkey:{self.coldkey}"


@dataclass(frozen=True)
class WatchPlan:
    """What to read and export; built from the agent's config."""

    hotkeys: tuple[tuple[int, str], ...] = ()
    coldkeys: tuple[ColdkeyWatch, ...] = ()
    export_all: frozenset[int] = frozenset()
    rediscover_every_polls: int = 100
    registration_window_blocks: int | None = None
    # A drop of the stake by at least this fraction between two polls is recorded as a change.
    stake_drop_ratio: float = 0.05
    # (netuid, TAO): the operator's registration-cost alert thresholds, exported as series.
    registration_cost_alert_tao: tuple[tuple[int, float], ...] = ()
    # Several agents split the subnets: this one reads netuid n only if n % count == index.
    shard_index: int = 0
    shard_count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.shard_index < self.shard_count:
            raise ValueError(
                f"shard index {self.shard_index} is not in 0..{self.shard_count - 1}: "
                "number the agents 0 to count-1"
            )

    def owns(self, netuid: int) -> bool:
        """Whether this agent's shard reads ``netuid``. Modulo, not a hash: adjacent
        netuids land on different shards, so the split stays even as subnets are added,
        and an operator can tell a subnet's shard by heart."""
        return netuid % self.shard_count == self.shard_index

    def fixed_netuids(self) -> set[int]:
        out = {n for n, _ in self.hotkeys} | set(self.export_all)
        for cw in self.coldkeys:
            out |= set(cw.netuids or ())
        return {n for n in out if self.owns(n)}
