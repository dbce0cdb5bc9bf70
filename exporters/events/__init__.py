"""Chain events as storage diffs between two trusted polls: one module per kind, and the
watcher that loops over them (``watcher.py``)."""

from exporters.events.kind import EventChange, EventKind
from exporters.events.watcher import EventsView, EventWatcher, discover_kinds, event_families

__all__ = [
    "EventChange",
    "EventKind",
    "EventWatcher",
    "EventsView",
    "discover_kinds",
    "event_families",
]
