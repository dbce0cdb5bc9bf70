"""Which runtime simnet answers as: its spec version and the storage items it lacks.

Today's simnet serves the spec-438 surface (``TODAY_SPEC_VERSION``). A scenario can
make it an older runtime instead (``runtime: {spec_version, lacks}``): a read of an item the
runtime lacks raises the SDK's own ``StorageFunctionNotFound``, as the SDK's codec does when
the runtime's metadata has no such entry (``bittensor/_transport/codec.py``,
``storage_entry``), so the agent meets exactly what an older testnet, localnet or archive
node gives it. The ``runtime_upgrade`` event replaces the runtime mid-run: spec version up,
items added (now readable) and removed (now missing), as a ``set_code`` upgrade does at the
block it is enacted.

Simplified against a real runtime: a lacking item is missing at every block, the ones before
the upgrade included (a real node answers an old block with the metadata of that block's
runtime), and nothing else about the runtime changes (calls, runtime APIs, defaults).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from bittensor._transport.errors import StorageFunctionNotFound
from pydantic import Field, field_validator

from common.config import StrictModel

TODAY_SPEC_VERSION = 438
# The error kind simnet's server answers a lacking item with (``simnet.remote`` re-raises it).
STORAGE_NOT_FOUND = "storage_not_found"
# What the spec-293 runtime (the offline wasm) lacks of what the agent reads.
OLDER_RUNTIME_LACKS = (
    "SubtensorModule.SubnetEpochConsensus",
    "SubtensorModule.MechanismCountCurrent",
    "SubtensorModule.MinNonImmuneUids",
    "SubtensorModule.ColdkeySwapAnnouncements",
    "SubtensorModule.ColdkeySwapDisputes",
)
ItemName = Annotated[str, Field(pattern=r"^[A-Za-z]+\.[A-Za-z0-9]+$")]


def _unique(items: list[str]) -> list[str]:
    if len(set(items)) != len(items):
        raise ValueError("each storage item may be named once")
    return items


class RuntimeSpec(StrictModel):
    """``runtime:`` in a scenario: the runtime simnet starts as."""

    spec_version: Annotated[int, Field(gt=0)] = TODAY_SPEC_VERSION
    # "Pallet.Item" names a read of which fails as on a runtime without it.
    lacks: list[ItemName] = []

    @field_validator("lacks")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        return _unique(value)


class RuntimeUpgrade(StrictModel):
    """The ``runtime_upgrade`` event: a new spec version, items it adds and removes."""

    spec_version: Annotated[int, Field(gt=0)]
    adds: list[ItemName] = []
    removes: list[ItemName] = []

    @field_validator("adds", "removes")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        return _unique(value)


@dataclass(frozen=True)
class Runtime:
    spec_version: int = TODAY_SPEC_VERSION
    lacks: frozenset[str] = frozenset()

    @classmethod
    def of(cls, spec: RuntimeSpec | None) -> Runtime:
        if spec is None:
            return cls()
        return cls(spec.spec_version, frozenset(spec.lacks))

    def check(self, module: str, item: str) -> None:
        """Raise what the SDK raises for an item this runtime's metadata does not have."""
        if f"{module}.{item}" in self.lacks:
            raise StorageFunctionNotFound(f"storage function {module}.{item} not found")

    def upgraded(self, upgrade: RuntimeUpgrade) -> Runtime:
        if upgrade.spec_version <= self.spec_version:
            raise ValueError(
                f"runtime_upgrade.spec_version {upgrade.spec_version} must be above the "
                f"running {self.spec_version}"
            )
        lacks = (self.lacks - set(upgrade.adds)) | set(upgrade.removes)
        return Runtime(upgrade.spec_version, frozenset(lacks))

    def describe(self) -> str:
        missing = ", ".join(sorted(self.lacks)) or "nothing"
        return f"spec {self.spec_version} (lacks {missing})"
