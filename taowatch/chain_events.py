"""One line per chain-event notification, for the demo's terminal.

``taowatch demo --stack`` prints every notification as the receivers get it; a chain event
(a coldkey swap, a take, childkeys, a hyperparameter, churn) also gets one summary line with
the receiver, the alert and what changed, old -> new, read back from the notification's own
text: what a person watching Slack would have to read it from.

    event 14:02:11 slack      BittensorDelegateTakeChanged  take of 5F..: 18% -> 9%
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from taowatch.receiver import HEARTBEAT, Notification

EVENT_ALERTS = (
    "BittensorColdkeySwapAnnounced",
    "BittensorColdkeySwapChanged",
    "BittensorDelegateTakeChanged",
    "BittensorChildkeysChanged",
    "BittensorSubnetHyperparameterChanged",
    "BittensorSubnetChurnHigh",
)

_TOKEN = r"([^\s,;]+?)"


def _announced(text: str) -> str | None:
    m = re.search(
        rf"swap of coldkey {_TOKEN} to the coldkey hashing to {_TOKEN} was announced; "
        r"it can execute from block (\d+)",
        text,
    )
    return m and f"{m[1]} -> coldkey hashing to {m[2]} (from block {m[3]})"


def _swap_changed(text: str) -> str | None:
    m = re.search(rf"coldkey swap of {_TOKEN} was (\w+)", text)
    if not m:
        return None
    new = re.search(rf"now belong to {_TOKEN}[.\s\"]", text + " ")
    return f"{m[1]} -> {new[1]} ({m[2]})" if new else f"{m[1]}: swap {m[2]}"


def _changed_from(text: str) -> str | None:
    m = re.search(
        rf"(?:(\w+) of subnet (\d+)|hotkey {_TOKEN}) changed from {_TOKEN} to {_TOKEN}(?:[.\s]|$)",
        text,
    )
    if not m:
        return None
    what = f"{m[1]} of subnet {m[2]}" if m[1] else f"take of {m[3]}"
    return f"{what}: {m[4]} -> {m[5]}"


def _childkeys(text: str) -> str | None:
    m = re.search(rf"Hotkey {_TOKEN} on subnet (\d+): childkeys (\w+)", text)
    if not m:
        return None
    children = re.search(r"Children: (.*?); pending: (.*?);", text)
    before, after = (children[1], children[2]) if children else ("?", "?")
    before = before.rstrip(", ") or "none"
    if m[3] == "applied":  # the pending set became the applied one
        return f"{m[1]} on subnet {m[2]}: childkeys applied: {before}"
    return f"{m[1]} on subnet {m[2]}: childkeys {before} -> {after} ({m[3]})"


def _churn(text: str) -> str | None:
    m = re.search(r"(\d+) neurons of subnet (\d+) were replaced", text)
    return m and f"subnet {m[2]}: {m[1]} neurons replaced by new registrations"


_READERS: Mapping[str, Callable[[str], str | None]] = MappingProxyType(
    {
        "BittensorColdkeySwapAnnounced": _announced,
        "BittensorColdkeySwapChanged": _swap_changed,
        "BittensorDelegateTakeChanged": _changed_from,
        "BittensorSubnetHyperparameterChanged": _changed_from,
        "BittensorChildkeysChanged": _childkeys,
        "BittensorSubnetChurnHigh": _churn,
    }
)


def event_alert(note: Notification) -> str | None:
    """The chain-event alert a firing notification is about, else None."""
    if note.service == HEARTBEAT or note.status != "firing":
        return None
    return next((a for a in EVENT_ALERTS if note.mentions(a)), None)


def event_line(note: Notification) -> str | None:
    """``event HH:MM:SS <receiver> <alert>  <old -> new>`` for a firing chain event."""
    alert = event_alert(note)
    if alert is None:
        return None
    text = " ".join(note.text.replace("\\n", " ").split())
    change = _READERS[alert](text) or "changed"
    stamp = time.strftime("%H:%M:%S", time.localtime(note.received_at))
    return f"event {stamp} {note.service:<10} {alert}  {change}"
