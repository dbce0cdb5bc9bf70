"""One line per chain-event notification, for the demo's terminal.

``taowatch demo --stack`` prints every notification as the receivers get it; a chain event
(a coldkey swap, a take, childkeys, a hyperparameter, churn) also gets one summary line with
the receiver, the alert and what changed, old -> new: the alert's ``change`` annotation,
which Alertmanager hands over as a structured field (Slack's "Change" field, PagerDuty's
``custom_details.change``). Nothing is parsed out of the rendered prose.

    event 14:02:11 slack      BittensorDelegateTakeChanged  take of 5F..: 18% -> 9%
"""

from __future__ import annotations

import time

from exporters.events import discover_kinds
from taowatch.receiver import HEARTBEAT, Notification

# Every chain-event kind's alerts (exporters/events/), in the kinds' order.
EVENT_ALERTS = tuple(alert for kind in discover_kinds() for alert in kind.alerts)
CHANGE_FIELD = "Change"


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
    changes = [" ".join(line.split()) for line in (note.field(CHANGE_FIELD) or "").splitlines()]
    change = "; ".join(c for c in changes if c) or "changed"
    stamp = time.strftime("%H:%M:%S", time.localtime(note.received_at))
    return f"event {stamp} {note.service:<10} {alert}  {change}"
