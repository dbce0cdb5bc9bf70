"""A loopback stand-in for Slack, PagerDuty, Discord, Telegram and a heartbeat service, for
tests and the demo.

Alertmanager's notifications must leave it in the shape each service documents, so this
receiver checks them the way the service would and answers the way the service does:

- ``POST /slack/<anything>``: a Slack incoming webhook. JSON object with ``text``,
  ``attachments`` or ``blocks``; answers ``200 ok`` (text/plain), or ``400 invalid_payload``
  / ``no_text`` like Slack.
- ``POST /pagerduty/v2/enqueue``: PagerDuty Events API v2. ``routing_key`` (32 characters),
  ``event_action`` trigger/acknowledge/resolve, ``dedup_key`` (required unless triggering,
  at most 255 characters), and for a trigger a ``payload`` with ``summary`` (at most 1024),
  ``source`` and ``severity`` (critical/error/warning/info). Answers ``202`` with
  ``{"status": "success", "dedup_key": ...}`` or ``400 {"status": "invalid event"}``.
- ``POST /heartbeat``: Alertmanager's generic webhook (payload version 4).
- ``POST /discord/api/webhooks/<id>/<token>``: a Discord webhook. JSON object with
  ``content`` or ``embeds`` (at most 10; title at most 256 characters, description at most
  4096); answers ``204`` like Discord without ``?wait=true``, or ``400`` with Discord's
  ``{"code": 50006, "message": ...}``.
- ``POST /telegram/bot<token>/sendMessage``: the Bot API (``api_url`` = ``<url>/telegram``).
  ``chat_id`` and ``text`` (1-4096 characters); with ``parse_mode: HTML`` only the tags
  Telegram supports and escaped ``<`` / ``&``. Answers ``{"ok": true, "result": <Message>}``,
  or ``400 {"ok": false, "description": "Bad Request: ..."}``.

Every accepted notification is recorded with its receive time; a rejected one is recorded
among ``rejected`` with the reasons, so a test can show why. Listens on 127.0.0.1 only.

``python -m taowatch.receiver --port 9099`` runs it alone and prints what arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SLACK = "slack"
PAGERDUTY = "pagerduty"
HEARTBEAT = "heartbeat"
DISCORD = "discord"
TELEGRAM = "telegram"
# The HTML tags Telegram's parse_mode HTML accepts; any other is a 400.
_TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
     "tg-spoiler", "blockquote"}
)  # fmt: skip

_PD_ACTIONS = frozenset({"trigger", "acknowledge", "resolve"})
_PD_SEVERITIES = frozenset({"critical", "error", "warning", "info"})
_PD_TOP_LEVEL = frozenset(
    {
        "routing_key",
        "event_action",
        "dedup_key",
        "payload",
        "images",
        "links",
        "client",
        "client_url",
    }
)
_PD_PAYLOAD = frozenset(
    {
        "summary",
        "source",
        "severity",
        "timestamp",
        "component",
        "group",
        "class",
        "custom_details",
    }
)


@dataclass(frozen=True)
class Notification:
    """One accepted notification as the service would have received it."""

    service: str  # slack | pagerduty | heartbeat | discord | telegram
    path: str
    payload: dict[str, Any]
    received_at: float  # time.time() when it arrived
    received_monotonic: float

    @property
    def status(self) -> str:
        """firing or resolved, read from the service's own fields."""
        if self.service == PAGERDUTY:
            return "resolved" if self.payload.get("event_action") == "resolve" else "firing"
        if self.service == HEARTBEAT:
            return str(self.payload.get("status", ""))
        if self.service in (DISCORD, TELEGRAM):
            return "resolved" if self.text.startswith(("[RESOLVED]", "<b>[RESOLVED]")) else "firing"
        # Alertmanager's Slack title starts with [FIRING:n] or [RESOLVED].
        text = " ".join(
            str(a.get("title", "")) for a in self.payload.get("attachments") or []
        ) + str(self.payload.get("text", ""))
        return "resolved" if "[RESOLVED]" in text else "firing"

    @property
    def text(self) -> str:
        """Everything human-readable in the notification, for matching and printing."""
        if self.service == SLACK:
            parts = [str(self.payload.get("text", ""))]
            for att in self.payload.get("attachments") or []:
                parts += [str(att.get(k, "")) for k in ("title", "title_link", "text")]
                parts += [str(a.get("url", "")) for a in att.get("actions") or []]
            return "\n".join(p for p in parts if p)
        if self.service == PAGERDUTY:
            body = self.payload.get("payload") or {}
            parts = [str(body.get("summary", "")), json.dumps(body.get("custom_details", {}))]
            parts += [str(link.get("href", "")) for link in self.payload.get("links") or []]
            return "\n".join(p for p in parts if p)
        if self.service == DISCORD:
            parts = [str(self.payload.get("content", ""))]
            for embed in self.payload.get("embeds") or []:
                parts += [str(embed.get("title", "")), str(embed.get("description", ""))]
            return "\n".join(p for p in parts if p)
        if self.service == TELEGRAM:
            return str(self.payload.get("text", ""))
        names = [a.get("labels", {}).get("alertname", "") for a in self.payload.get("alerts", [])]
        return " ".join(names)

    def mentions(self, needle: str) -> bool:
        return needle in self.text


@dataclass(frozen=True)
class Rejection:
    service: str
    path: str
    reasons: list[str]
    body: str


def validate_slack(body: Any) -> list[str]:
    """Reasons Slack would refuse this incoming-webhook body (empty list = accepted)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    text, attachments, blocks = body.get("text"), body.get("attachments"), body.get("blocks")
    if not (text or attachments or blocks):
        errors.append("no_text: one of text, attachments or blocks is required")
    if text is not None and not isinstance(text, str):
        errors.append("text must be a string")
    if attachments is not None:
        if not isinstance(attachments, list):
            errors.append("attachments must be a list")
        else:
            for i, att in enumerate(attachments):
                if not isinstance(att, dict):
                    errors.append(f"attachments[{i}] must be an object")
                    continue
                for key in ("title", "title_link", "text", "fallback", "color", "pretext"):
                    if key in att and not isinstance(att[key], str):
                        errors.append(f"attachments[{i}].{key} must be a string")
                if not any(att.get(k) for k in ("text", "fallback", "title")):
                    errors.append(f"attachments[{i}] has no text, fallback or title")
                for j, action in enumerate(att.get("actions") or []):
                    if not isinstance(action, dict) or not action.get("text"):
                        errors.append(f"attachments[{i}].actions[{j}] needs text")
    if blocks is not None and not isinstance(blocks, list):
        errors.append("blocks must be a list")
    return errors


def validate_pagerduty(body: Any) -> list[str]:
    """Reasons the Events API v2 would answer 400 (empty list = accepted)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    unknown = set(body) - _PD_TOP_LEVEL
    if unknown:
        errors.append(f"unknown fields: {', '.join(sorted(unknown))}")
    key = body.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("routing_key must be a 32-character integration key")
    action = body.get("event_action")
    if action not in _PD_ACTIONS:
        errors.append(f"event_action must be one of {sorted(_PD_ACTIONS)}")
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not 0 < len(dedup) <= 255):
        errors.append("dedup_key must be a string of 1-255 characters")
    if action in {"acknowledge", "resolve"} and not dedup:
        errors.append("dedup_key is required to acknowledge or resolve")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            errors.append("payload is required to trigger")
        else:
            unknown = set(payload) - _PD_PAYLOAD
            if unknown:
                errors.append(f"unknown payload fields: {', '.join(sorted(unknown))}")
            summary = payload.get("summary")
            if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
                errors.append("payload.summary must be 1-1024 characters")
            if not isinstance(payload.get("source"), str) or not payload.get("source"):
                errors.append("payload.source is required")
            if payload.get("severity") not in _PD_SEVERITIES:
                errors.append(f"payload.severity must be one of {sorted(_PD_SEVERITIES)}")
            details = payload.get("custom_details")
            if details is not None and not isinstance(details, dict):
                errors.append("payload.custom_details must be an object")
    for kind, required in (("links", "href"), ("images", "src")):
        items = body.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append(f"{kind} must be a list")
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get(required), str):
                errors.append(f"{kind}[{i}].{required} must be a string")
    return errors


def validate_webhook(body: Any) -> list[str]:
    """Alertmanager's webhook payload, version 4."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    if body.get("version") != "4":
        errors.append('version must be "4"')
    if body.get("status") not in {"firing", "resolved"}:
        errors.append("status must be firing or resolved")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        errors.append("alerts must be a non-empty list")
    else:
        for i, alert in enumerate(alerts):
            if not isinstance(alert, dict) or not isinstance(alert.get("labels"), dict):
                errors.append(f"alerts[{i}].labels must be an object")
    for key in ("groupKey", "receiver"):
        if not isinstance(body.get(key), str):
            errors.append(f"{key} must be a string")
    return errors


def validate_discord(body: Any) -> list[str]:
    """Reasons Discord would refuse this webhook body (empty list = accepted)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    content, embeds = body.get("content"), body.get("embeds")
    if not (content or embeds):
        errors.append("Cannot send an empty message: content or embeds is required")
    if content is not None and (not isinstance(content, str) or len(content) > 2000):
        errors.append("content must be a string of at most 2000 characters")
    if embeds is not None:
        if not isinstance(embeds, list) or len(embeds) > 10:
            errors.append("embeds must be a list of at most 10")
        else:
            for i, embed in enumerate(embeds):
                if not isinstance(embed, dict):
                    errors.append(f"embeds[{i}] must be an object")
                    continue
                for key, limit in (("title", 256), ("description", 4096)):
                    value = embed.get(key)
                    if value is not None and (not isinstance(value, str) or len(value) > limit):
                        errors.append(f"embeds[{i}].{key} must be at most {limit} characters")
    return errors


def validate_telegram(body: Any) -> list[str]:
    """Reasons the Bot API's sendMessage would answer 400 (empty list = accepted)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors: list[str] = []
    try:
        int(str(body.get("chat_id")))
    except ValueError:
        errors.append("chat not found: chat_id must be a chat's numeric id")
    text = body.get("text")
    if not isinstance(text, str) or not 0 < len(text.strip()) <= 4096:
        errors.append("message text is empty or longer than 4096 characters")
        return errors
    mode = body.get("parse_mode")
    if mode not in (None, "", "HTML", "Markdown", "MarkdownV2"):
        errors.append(f"unsupported parse_mode {mode!r}")
    if mode == "HTML":
        for tag in re.finditer(r"<(/?)([^\s>/]*)[^>]*>", text):
            if tag.group(2) not in _TELEGRAM_TAGS:
                errors.append(f"can't parse entities: unsupported start tag {tag.group(2)!r}")
        bare = re.sub(r"</?[a-z-]+(\s[^>]*)?>", "", text)
        if "<" in bare or ">" in bare or re.search(r"&(?!(lt|gt|amp|quot|#\d+);)", bare):
            errors.append("can't parse entities: unescaped <, > or & in the text")
    return errors


Printer = Callable[[Notification], None]


@dataclass
class Receiver:
    """Records what Alertmanager sends. Create, ``await start()``, read, ``await stop()``."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free port
    printer: Printer | None = None
    notifications: list[Notification] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self.app = web.Application(client_max_size=1 << 20)
        self.app.router.add_post("/slack/{tail:.*}", self._slack)
        self.app.router.add_post("/pagerduty/v2/enqueue", self._pagerduty)
        self.app.router.add_post("/heartbeat", self._heartbeat)
        self.app.router.add_post("/discord/api/webhooks/{id}/{token}", self._discord)
        self.app.router.add_post("/telegram/bot{token}/sendMessage", self._telegram)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def slack_url(self) -> str:
        return f"{self.url}/slack/services/T000/B000/XXXX"

    @property
    def pagerduty_url(self) -> str:
        return f"{self.url}/pagerduty/v2/enqueue"

    @property
    def heartbeat_url(self) -> str:
        return f"{self.url}/heartbeat"

    @property
    def discord_url(self) -> str:
        return f"{self.url}/discord/api/webhooks/1000/standin-webhook-token"

    @property
    def telegram_api_url(self) -> str:
        return f"{self.url}/telegram"

    def of(self, service: str) -> list[Notification]:
        return [n for n in self.notifications if n.service == service]

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server else []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Receiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_for(
        self, predicate: Callable[[Notification], bool], timeout: float
    ) -> Notification:
        """The first recorded notification matching predicate, waiting up to timeout seconds."""

        def found() -> Notification | None:
            return next((n for n in self.notifications if predicate(n)), None)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
            except TimeoutError:
                seen = [(n.service, n.status, n.text[:80]) for n in self.notifications]
                raise TimeoutError(
                    f"no matching notification within {timeout:.0f} s; received: {seen}; "
                    f"rejected: {[(r.service, r.reasons) for r in self.rejected]}"
                ) from None
        result = found()
        assert result is not None
        return result

    async def _record(
        self, request: web.Request, service: str, validate: Callable[[Any], list[str]]
    ) -> tuple[Notification | None, list[str]]:
        now, mono = time.time(), time.monotonic()
        raw = await request.text()
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body, reasons = None, ["body is not JSON"]
        else:
            reasons = validate(body)
            if request.content_type != "application/json":
                reasons.append(f"content type {request.content_type!r} is not application/json")
        async with self._changed:
            if reasons:
                self.rejected.append(Rejection(service, request.path, reasons, raw[:2000]))
                note = None
            else:
                note = Notification(service, request.path, body, now, mono)
                self.notifications.append(note)
            self._changed.notify_all()
        if note is not None and self.printer is not None:
            self.printer(note)
        return note, reasons

    async def _discord(self, request: web.Request) -> web.Response:
        note, reasons = await self._record(request, DISCORD, validate_discord)
        if note is None:
            return web.json_response({"code": 50006, "message": "; ".join(reasons)}, status=400)
        return web.Response(status=204)

    async def _telegram(self, request: web.Request) -> web.Response:
        note, reasons = await self._record(request, TELEGRAM, validate_telegram)
        if note is None:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: " + reasons[0]},
                status=400,
            )
        message = {
            "message_id": len(self.of(TELEGRAM)),
            "date": int(note.received_at),
            "chat": {"id": int(str(note.payload["chat_id"])), "type": "group"},
            "text": note.payload["text"],
        }
        return web.json_response({"ok": True, "result": message})

    async def _slack(self, request: web.Request) -> web.Response:
        note, reasons = await self._record(request, SLACK, validate_slack)
        if note is None:
            code = "no_text" if any(r.startswith("no_text") for r in reasons) else "invalid_payload"
            return web.Response(status=400, text=code)
        return web.Response(text="ok")

    async def _pagerduty(self, request: web.Request) -> web.Response:
        note, reasons = await self._record(request, PAGERDUTY, validate_pagerduty)
        if note is None:
            return web.json_response(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": reasons,
                },
                status=400,
            )
        dedup = note.payload.get("dedup_key") or f"taowatch-{len(self.notifications)}"
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": dedup}, status=202
        )

    async def _heartbeat(self, request: web.Request) -> web.Response:
        note, reasons = await self._record(request, HEARTBEAT, validate_webhook)
        if note is None:
            return web.json_response({"errors": reasons}, status=400)
        return web.Response(text="ok")


def _print(note: Notification) -> None:
    from taowatch.pages import page_line

    print(page_line(note), flush=True)


async def _serve(host: str, port: int) -> None:
    receiver = Receiver(host=host, port=port, printer=_print)
    await receiver.start()
    print(f"receiver listening on {receiver.url}", flush=True)
    print(f"  slack      {receiver.slack_url}", flush=True)
    print(f"  pagerduty  {receiver.pagerduty_url}", flush=True)
    print(f"  heartbeat  {receiver.heartbeat_url}", flush=True)
    print(f"  discord    {receiver.discord_url}", flush=True)
    print(f"  telegram   {receiver.telegram_api_url} (api_url)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await receiver.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taowatch.receiver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9099)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.host, args.port))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"receiver: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
