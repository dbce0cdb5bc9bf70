"""The chain's record of a commit-reveal reveal, read the same way by the validator
(``neuron/reveals.py``) and the agent (``exporters/reveal_watch.py``)."""

from __future__ import annotations

from typing import Any

REVEALED_EVENT = ("SubtensorModule", "TimelockedWeightsRevealed")
# More blocks than this between two looks (a long outage) are not all scanned: a reveal in the
# older ones is not seen, and a commit that left the queue then is not called missed.
MAX_SCAN_BLOCKS = 32


def event_parts(record: Any) -> tuple[str, str, list]:
    """(pallet, event, attribute values) of one ``System.Events`` record as the SDK decodes it."""
    event = record.get("event", record) if isinstance(record, dict) else {}
    attrs = event.get("attributes", record.get("attributes") if isinstance(record, dict) else None)
    values = list(attrs.values()) if isinstance(attrs, dict) else list(attrs or [])
    return str(event.get("module_id", "")), str(event.get("event_id", "")), values


def reveals_in(records: Any, netuid: int, hotkey: str) -> int:
    """How many ``TimelockedWeightsRevealed(netuid, hotkey)`` a block's events hold."""
    found = 0
    for record in records or []:
        module, event, values = event_parts(record)
        if (module, event) == REVEALED_EVENT and hotkey in values and netuid in values:
            found += 1
    return found
