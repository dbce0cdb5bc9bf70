"""The chain's runtime version, and its upgrades counted once each.

A runtime upgrade is when storage items, rules and their defaults change (an item the agent
reads can vanish or be renamed; ``exporters/reads.py`` keeps the rest of the poll going when
one does). Each successful poll reads the runtime's ``spec_version`` (the SDK's transport
caches it against ``state_getRuntimeVersion``, so on a real node this is nearly free) and
:class:`RuntimeWatch` compares it with the last one seen:

* ``bittensor_chain_runtime_spec_version`` — the version now;
* ``bittensor_chain_runtime_upgrades_total`` — versions seen change since the agent first
  watched this chain (a spec version going *down*, a rewound or replaced chain, counts too:
  the runtime changed under the agent either way);
* ``bittensor_chain_runtime_previous_spec_version`` — the version before the last change,
  so the notification can say old -> new (alert templates read series, not logs).

The state rides in the deregistration tracker's state file (section ``runtime``), so a
restart neither forgets the count nor counts the version it finds as an upgrade; the first
version an agent ever sees is a baseline, not an upgrade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from common.metric_names import Exporter as N
from exporters.family import Family, num


@dataclass(frozen=True, slots=True)
class RuntimeView:
    spec_version: int | None = None
    previous_spec_version: int | None = None
    upgrades: int = 0
    # Block of the poll that first saw the current version (None for the baseline).
    upgraded_at_block: int | None = None


class RuntimeWatch:
    def __init__(self, state: Mapping[str, Any] | None = None, *, logger: Any = None):
        self._log = logger or structlog.get_logger("taowatch.exporter")
        state = dict(state or {})
        self._view = RuntimeView(
            spec_version=_opt_int(state.get("spec_version")),
            previous_spec_version=_opt_int(state.get("previous_spec_version")),
            upgrades=int(state.get("upgrades", 0)),
            upgraded_at_block=_opt_int(state.get("upgraded_at_block")),
        )

    @property
    def view(self) -> RuntimeView:
        return self._view

    def state(self) -> dict[str, Any]:
        v = self._view
        return {
            "spec_version": v.spec_version,
            "previous_spec_version": v.previous_spec_version,
            "upgrades": v.upgrades,
            "upgraded_at_block": v.upgraded_at_block,
        }

    def observe(self, spec_version: Any, block: int) -> RuntimeView:
        """The version read at ``block``; returns the view after it."""
        spec = int(spec_version)
        was = self._view.spec_version
        if was is None:
            self._view = RuntimeView(spec_version=spec)
        elif spec != was:
            self._view = RuntimeView(
                spec_version=spec,
                previous_spec_version=was,
                upgrades=self._view.upgrades + 1,
                upgraded_at_block=block,
            )
            self._log.info("runtime upgraded", old=was, new=spec, block=block)
        return self._view


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def runtime_families(view: RuntimeView | None) -> list[Family]:
    if view is None or view.spec_version is None:
        return []

    previous = view.previous_spec_version
    return [
        Family.single(N.CHAIN_RUNTIME_SPEC_VERSION, float(view.spec_version)),
        # Absent (no sample) until the agent has seen an upgrade.
        Family(N.CHAIN_RUNTIME_PREVIOUS_SPEC_VERSION, ((),), (num(previous),)),
        Family.single(N.CHAIN_RUNTIME_UPGRADES, float(view.upgrades)),
    ]
