"""The alertmanager role's config template renders what alerts/generate.py renders, with and
without Discord and Telegram: the role's Jinja copy of the optional-section rule cannot drift
from alerts/chat.py's."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.plugins.filter.core import regex_replace, to_bool

from alerts import generate as gen
from tests.support import REPO

ROLE = REPO / "deploy" / "ansible" / "roles" / "alertmanager"
WEBHOOK = "https://discord.com/api/webhooks/1/secret-token"
TOKEN = "123456:" + "A" * 30
# The routing both renders are given: the role as its placeholders, the generator as settings.
ROUTING = {
    "slack_api_url_file": "/s",
    "slack_channel_critical": "#c",
    "slack_channel_warning": "#w",
    "pagerduty_routing_key_file": "/p",
    "pagerduty_url": "https://pd.example",
    "heartbeat_url": "https://hb.example",
    "heartbeat_credentials_file": "/h",
    "template_file": "/t.tmpl",
}


def role_render(chat: bool) -> dict:
    source = (REPO / "alerts" / "alertmanager" / "alertmanager.yml.tmpl").read_text()
    template = (ROLE / "templates" / "alertmanager.yml.j2").read_text()
    env = jinja2.Environment()
    env.filters.update(regex_replace=regex_replace, bool=to_bool)
    # Ansible's file lookup strips trailing whitespace (rstrip=True): the last block of the
    # template then ends without a newline, which the role's patterns must still match.
    env.globals["lookup"] = lambda *_: source.rstrip()
    env.globals["ansible_managed"] = "managed"
    env.filters["comment"] = lambda text: f"# {text}"
    placeholders = {k: v for k, v in gen.load_thresholds().items() if k.startswith("alertmanager_")}
    placeholders.update(
        **ROUTING,
        discord_webhook_url=WEBHOOK if chat else "",
        telegram_bot_token=TOKEN if chat else "",
        telegram_chat_id=-5 if chat else 0,
        telegram_api_url="https://api.telegram.org",
    )
    text = env.from_string(template).render(
        _alertmanager_placeholders=placeholders,
        alertmanager_config_source="unused",
        _alertmanager_sections={"discord": str(chat), "telegram": str(chat)},
    )
    return yaml.safe_load(text)


def generator_render(chat: bool, tmp_path: Path) -> dict:
    extra = {}
    if chat:
        for name, value in (("d", WEBHOOK), ("t", TOKEN)):
            (tmp_path / name).write_text(value)
            (tmp_path / name).chmod(0o600)
        extra = {
            "discord_webhook_url_file": str(tmp_path / "d"),
            "telegram_bot_token_file": str(tmp_path / "t"),
            "telegram_chat_id": -5,
        }
    settings = gen.AlertmanagerSettings(
        **ROUTING,
        **extra,
    )
    return yaml.safe_load(gen.render_alertmanager(gen.load_thresholds(), settings))


@pytest.mark.parametrize("chat", [False, True], ids=["slack-and-pagerduty", "with-chat"])
def test_the_role_renders_the_same_config_as_the_generator(chat, tmp_path):
    assert role_render(chat) == generator_render(chat, tmp_path)
