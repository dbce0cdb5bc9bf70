"""Discord and Telegram in the Alertmanager config: optional sections and render-time secrets.

Alertmanager 0.25 (Debian 12's ``prometheus-alertmanager``) has ``discord_configs`` and
``telegram_configs`` but no ``*_file`` field on either: ``webhook_url_file`` and
``bot_token_file`` arrived in 0.26. The Discord webhook URL (which is the credential) and the
Telegram bot token therefore cannot be read by Alertmanager from a file. The template never
holds them: they are read from owner-only files when the config is rendered (deploy time,
:func:`read_chat_secret`) and inlined into the rendered ``alertmanager.yml``, which must then
be as private as a secret file (the Ansible role writes it 0640 root:prometheus, with
``no_log``). On 0.26+ the ``*_file`` fields would make that unnecessary.

The template marks each integration's lines with ``# @if discord`` ... ``# @end discord``
(same for ``telegram``): kept when that integration is configured, dropped otherwise, so a
deployment without Discord or Telegram renders exactly the config it had before.
"""

from __future__ import annotations

import re
from pathlib import Path

from common.secret_files import SecretFileError, read_secret_file

SECTIONS = ("discord", "telegram")
_MARKER = re.compile(r"^[ \t]*# @(if|end) ([a-z]+)[ \t]*\n", re.MULTILINE)
# A Discord webhook is an https URL; the test stand-in is http on loopback. Quotes or
# whitespace would break out of the YAML string it is inlined into.
_WEBHOOK_URL = re.compile(r"^https?://[^\s'\"\\]+$")
# BotFather's tokens: <bot id>:<35 characters of [A-Za-z0-9_-]>.
_BOT_TOKEN = re.compile(r"^[0-9]+:[A-Za-z0-9_-]{20,}$")


class ChatConfigError(ValueError):
    """A Discord/Telegram setting or secret file that cannot be used; names the fix."""


def keep_sections(text: str, enabled: set[str], source: str) -> str:
    """``text`` with every ``# @if NAME`` ... ``# @end NAME`` block kept (markers removed)
    when NAME is in ``enabled`` and dropped otherwise."""
    out: list[str] = []
    pos = 0
    open_name: str | None = None
    for match in _MARKER.finditer(text):
        kind, name = match.groups()
        if name not in SECTIONS:
            raise ChatConfigError(f"{source}: unknown section {name!r} (known: {SECTIONS})")
        if kind == "if":
            if open_name is not None:
                raise ChatConfigError(f"{source}: # @if {name} inside # @if {open_name}")
            out.append(text[pos : match.start()])
            open_name = name
        else:
            if open_name != name:
                raise ChatConfigError(f"{source}: # @end {name} without its # @if")
            if name in enabled:
                out.append(text[pos : match.start()])
            open_name = None
        pos = match.end()
    if open_name is not None:
        raise ChatConfigError(f"{source}: # @if {open_name} is never closed")
    out.append(text[pos:])
    return "".join(out)


def read_chat_secret(setting: str, path: str) -> str:
    """The Discord webhook URL or Telegram bot token held in ``path``, checked for shape.

    Errors name the setting and the file, never the file's content.
    """
    try:
        secret = read_secret_file(Path(path))
    except SecretFileError as exc:
        raise ChatConfigError(f"{setting}: {exc}") from None
    pattern, what = (
        (_WEBHOOK_URL, "a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)")
        if setting.startswith("discord")
        else (_BOT_TOKEN, "a Telegram bot token (<bot id>:<token> from @BotFather)")
    )
    if not pattern.fullmatch(secret):
        raise ChatConfigError(f"{setting}: {path} does not hold {what}")
    return secret
