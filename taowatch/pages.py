"""One readable line per notification, as a pager would show it, for the demo's terminal.

    14:02:11 pagerduty  critical firing   BittensorNeuronDeregistered  subnet 1 5F3sa2TJ..  Hotk...

Read back from what each receiver got, in the shape ``alerts/alertmanager/taowatch.tmpl``
gives it: Slack, Discord and Telegram carry ``[FIRING:n] Alert (severity) netuid N`` as a
title and ``hotkey `...``` after each description; PagerDuty carries the severity in its
payload and ``Alert: summary hotkey H netuid N`` as the summary, the descriptions in its
custom details. ``full_notification`` adds the whole payload, for a flag.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from taowatch.receiver import DISCORD, HEARTBEAT, PAGERDUTY, SLACK, TELEGRAM, Notification

_TITLE = re.compile(
    r"\[(?P<status>FIRING|RESOLVED)(?::(?P<count>\d+))?\]\s+(?P<alert>\w+)"
    r"(?:\s+\((?P<severity>\w+)\))?(?:\s+netuid\s+(?P<netuid>\d+))?"
)
_HOTKEY = re.compile(r"hotkey\s+(?:`|<code>)?(?P<hotkey>5[1-9A-HJ-NP-Za-km-z]{46,47})")
_PD_SUMMARY = re.compile(
    r"^(?P<alert>\w+):.*?(?:\s+hotkey\s+(?P<hotkey>\S+))?(?:\s+netuid\s+(?P<netuid>\d+))?$"
)
# Lines of a chat message that are not a description: the summary, links, the hotkey line.
_NOT_DESCRIPTION = re.compile(
    r"^(\*.*\*|<i>.*</i>|<b>.*</b>|\*\*.*\*\*|hotkey\b|<http|Runbook|<a )"
)


@dataclass(frozen=True)
class Page:
    receiver: str
    status: str
    severity: str
    alert: str
    netuid: str | None
    hotkey: str | None
    description: str
    alerts: int = 1

    @property
    def neuron(self) -> str:
        parts = []
        if self.netuid is not None:
            parts.append(f"subnet {self.netuid}")
        if self.hotkey is not None:
            parts.append(f"{self.hotkey[:8]}..")
        return " ".join(parts) or "-"


def _one_line(text: str) -> str:
    return " ".join(text.replace("\\n", " ").split())


def _plain(line: str, service: str) -> str:
    """A Telegram line without its HTML; other services' lines as they are."""
    return html.unescape(re.sub(r"<[^>]+>", "", line)) if service == TELEGRAM else line


def _chat_page(note: Notification, title: str, body: str) -> Page:
    found = _TITLE.search(title)
    descriptions = [
        _one_line(_plain(raw, note.service).removeprefix(":white_check_mark: "))
        for raw in (line.strip() for line in body.splitlines())
        if raw and raw != title and not _NOT_DESCRIPTION.match(raw)
    ]
    hotkey = _HOTKEY.search(body)
    return Page(
        receiver=note.service,
        status=note.status,
        severity=(found and found["severity"]) or "-",
        alert=(found and found["alert"]) or "?",
        netuid=found and found["netuid"],
        hotkey=hotkey["hotkey"] if hotkey else None,
        description=descriptions[0] if descriptions else "",
        alerts=int(found["count"]) if found and found["count"] else max(1, len(descriptions)),
    )


def read_page(note: Notification) -> Page:
    """The fields a pager line shows, from one receiver's notification."""
    p = note.payload
    if note.service == PAGERDUTY:
        body = p.get("payload") or {}
        details = body.get("custom_details") or {}
        found = _PD_SUMMARY.match(_one_line(str(body.get("summary", ""))))
        described = [ln for ln in str(details.get("description", "")).splitlines() if ln.strip()]
        return Page(
            receiver=note.service,
            status=note.status,
            severity=str(body.get("severity") or "-"),
            alert=found["alert"] if found else "?",
            netuid=found["netuid"] if found else None,
            hotkey=found["hotkey"] if found else None,
            description=_one_line(described[0]) if described else "",
            alerts=max(1, len(described)),
        )
    if note.service == SLACK:
        att = (p.get("attachments") or [{}])[0]
        return _chat_page(note, str(att.get("title", "")), str(att.get("text", "")))
    if note.service == DISCORD:
        embed = (p.get("embeds") or [{}])[0]
        return _chat_page(note, str(embed.get("title", "")), str(embed.get("description", "")))
    if note.service == TELEGRAM:
        text = str(p.get("text", ""))
        first, _, rest = text.partition("\n")
        return _chat_page(note, _plain(first, TELEGRAM), rest)
    names = [a.get("labels", {}).get("alertname", "") for a in p.get("alerts", [])]
    return Page(note.service, note.status, "-", " ".join(names) or "?", None, None, "")


def page_line(note: Notification) -> str:
    """``HH:MM:SS receiver severity status alert neuron description`` on one line."""
    stamp = time.strftime("%H:%M:%S", time.localtime(note.received_at))
    if note.service == HEARTBEAT:
        return f"{stamp} heartbeat  {note.status}: {note.text}"
    page = read_page(note)
    more = f" (+{page.alerts - 1} more)" if page.alerts > 1 else ""
    return (
        f"{stamp} {page.receiver:<10} {page.severity:<8} {page.status:<8} {page.alert}  "
        f"{page.neuron}  {page.description}{more}"
    )


def full_notification(note: Notification, line: str | None = None) -> str:
    """The line (:func:`page_line` unless given), then the payload as the service got it."""
    body = json.dumps(note.payload, indent=2, ensure_ascii=False)
    head = page_line(note) if line is None else line
    return head + "\n" + "\n".join(f"    {ln}" for ln in body.splitlines())


class PagePrinter:
    """What ``demo --stack`` prints per notification: a chain event's line (what changed,
    old -> new, from :mod:`taowatch.chain_events`) with its severity, any other page's
    :func:`page_line`; with ``full`` the payload under it. The heartbeat repeats forever,
    so only its first delivery is shown."""

    def __init__(self, *, full: bool = False, write: Callable[[str], object] | None = None):
        self.full = full
        self.write = write or (lambda text: print(text, flush=True))
        self.heartbeats = 0

    def __call__(self, note: Notification) -> None:
        from taowatch.chain_events import event_line

        if note.service == HEARTBEAT:
            self.heartbeats += 1
            if self.heartbeats > 1:
                return
        event = event_line(note)
        line = f"{event}  [{read_page(note).severity}]" if event else page_line(note)
        self.write(full_notification(note, line) if self.full else line)
        if note.service == HEARTBEAT:
            self.write(f"{'':20}(the heartbeat repeats; further ones are not shown)")
