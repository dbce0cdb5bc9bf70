"""What the demo prints per notification: one line per receiver, read from what real
Alertmanager sent through the repository's templates (alerts posted straight to its API, with
the annotations of the rules they stand for)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from taowatch.pages import PagePrinter, full_notification, page_line
from taowatch.receiver import DISCORD, HEARTBEAT, PAGERDUTY, SLACK, TELEGRAM, Receiver
from taowatch.stack import Stack, StackSettings
from tests.support import REPO
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

HOTKEY = "5HmpEn2ffEJfHma3MuMAEY67G1TracNTdVeMdyZ471c24hLi"
DESCRIPTION = (
    f"Hotkey {HOTKEY} is no longer registered on subnet 7 (or was deregistered within the "
    "last 6h), as seen by 127.0.0.1:9946. Its UID, scores and emission are gone."
)


def rule_annotations(alert: str) -> dict[str, str]:
    for path in sorted((REPO / "alerts" / "rules").glob("*.rules.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    return dict(rule["annotations"])
    raise AssertionError(alert)


def post(url: str, labels: dict[str, str], annotations: dict[str, str]) -> None:
    now = datetime.now(UTC)
    body = [
        {
            "labels": labels,
            "annotations": annotations,
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=10)).isoformat(),
        }
    ]
    request = urllib.request.Request(
        url + "/api/v2/alerts",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).close()


async def test_each_receiver_gets_one_readable_line_with_severity_alert_neuron_and_description():
    annotations = {
        **rule_annotations("BittensorNeuronDeregistered"),
        "description": DESCRIPTION,
    }
    labels = {
        "alertname": "BittensorNeuronDeregistered",
        "severity": "critical",
        "netuid": "7",
        "hotkey": HOTKEY,
        "job": "taowatch-agent",
        "instance": "127.0.0.1:9946",
    }
    async with Receiver() as receiver, Stack(StackSettings(chat=True), receiver) as stack:
        post(stack.alertmanager_url, labels, annotations)
        services = (SLACK, PAGERDUTY, DISCORD, TELEGRAM)

        def pages():
            got = {n.service: n for n in receiver.notifications if n.mentions("Deregistered")}
            return got if set(got) >= set(services) else None

        got = await eventually(pages, what="the page on every receiver", timeout=60, every=0.2)
        heartbeat = next((n for n in receiver.notifications if n.service == HEARTBEAT), None)

    for service in services:
        line = page_line(got[service])
        assert "\n" not in line and "\\n" not in line
        fields = line.split()
        assert fields[1:5] == [service, "critical", "firing", "BittensorNeuronDeregistered"], line
        assert f"subnet 7 {HOTKEY[:8]}.." in line, line
        assert line.endswith(DESCRIPTION), line

    full = full_notification(got[PAGERDUTY])
    assert full.splitlines()[0] == page_line(got[PAGERDUTY])
    assert json.loads("\n".join(full.splitlines()[1:])) == got[PAGERDUTY].payload
    if heartbeat is not None:
        assert "\n" not in page_line(heartbeat)


async def test_the_demo_printer_gives_a_chain_event_its_change_and_severity_and_one_heartbeat():
    take = {
        **rule_annotations("BittensorDelegateTakeChanged"),
        "description": f"The delegate take of hotkey {HOTKEY} changed from 18% to 9% within "
        "the last 30m.",
    }
    labels = {
        "alertname": "BittensorDelegateTakeChanged",
        "severity": "warning",
        "hotkey": HOTKEY,
        "job": "taowatch-agent",
        "instance": "127.0.0.1:9946",
    }
    printed: list[str] = []
    printer = PagePrinter(write=printed.append)
    async with Receiver(printer=printer) as receiver, Stack(StackSettings(), receiver) as stack:
        post(stack.alertmanager_url, labels, take)

        def delivered():
            beats = [n for n in receiver.notifications if n.service == HEARTBEAT]
            takes = [n for n in receiver.notifications if n.mentions("TakeChanged")]
            return len(beats) >= 2 and takes

        await eventually(delivered, what="the take page and two heartbeats", timeout=60)

    (event,) = [line for line in printed if line.startswith("event ")]
    assert f"slack      BittensorDelegateTakeChanged  take of {HOTKEY}: 18% -> 9%" in event
    assert event.endswith("[warning]")
    assert sum(" heartbeat  firing: TaowatchWatchdog" in line for line in printed) == 1
    assert all("\n" not in line for line in printed)
