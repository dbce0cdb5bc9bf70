"""Discord and Telegram in the rendered Alertmanager config: amtool accepts it, routes every
critical and warning alert to both besides Slack/PagerDuty, and the secrets (inlined, since
Alertmanager 0.25 has no *_file field for them) come only from owner-only files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from alerts import generate as gen
from tests.support import REPO as ROOT

AM_DIR = ROOT / "alerts" / "alertmanager"
EXAMPLE = AM_DIR / "alertmanager.example.yml"
WEBHOOK = "https://discord.com/api/webhooks/1234/abcDEF-secret_part"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def secret(path: Path, value: str, mode: int = 0o600) -> str:
    path.write_text(value + "\n")
    path.chmod(mode)
    return str(path)


def settings(tmp_path: Path, **chat) -> gen.AlertmanagerSettings:
    return gen.AlertmanagerSettings(template_file=str(AM_DIR / "taowatch.tmpl"), **chat)


@pytest.fixture
def rendered(tmp_path) -> Path:
    chat = settings(
        tmp_path,
        discord_webhook_url_file=secret(tmp_path / "discord", WEBHOOK),
        telegram_bot_token_file=secret(tmp_path / "telegram", TOKEN),
        telegram_chat_id=-1001234567890,
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(gen.render_alertmanager(gen.load_thresholds(), chat))
    return path


def amtool(*args: str) -> str:
    result = subprocess.run(["amtool", *args], capture_output=True, text=True, cwd=AM_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_the_config_with_discord_and_telegram_passes_amtool_check_config(rendered):
    assert "SUCCESS" in amtool("check-config", str(rendered))


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["alertname=BittensorNeuronDeregistered", "severity=critical", "hotkey=5H"],
         "discord,telegram,critical"),
        (["alertname=BittensorAxonUnreachable", "severity=warning", "hotkey=5H"],
         "discord,telegram,slack-warning"),
        (["alertname=TaowatchWatchdog", "severity=info"], "heartbeat"),
        (["alertname=SomethingInformational", "severity=info"], "blackhole"),
    ],
)  # fmt: skip
def test_amtool_routes_critical_and_warning_alerts_to_discord_and_telegram_too(
    rendered, labels, receivers
):
    assert amtool("config", "routes", "test", f"--config.file={rendered}", *labels) == receivers


def test_the_secrets_are_inlined_from_their_files_and_the_chat_options_are_set(rendered):
    config = yaml.safe_load(rendered.read_text())
    by_name = {r["name"]: r for r in config["receivers"]}
    (discord,) = by_name["discord"]["discord_configs"]
    (telegram,) = by_name["telegram"]["telegram_configs"]
    assert discord["webhook_url"] == WEBHOOK
    assert telegram["bot_token"] == TOKEN
    assert telegram["chat_id"] == -1001234567890
    assert telegram["api_url"] == "https://api.telegram.org"
    assert telegram["parse_mode"] == "HTML"
    assert discord["send_resolved"] is telegram["send_resolved"] is True


def test_without_discord_or_telegram_the_example_has_neither_receiver_nor_route():
    text = EXAMPLE.read_text()
    config = yaml.safe_load(text)
    assert {r["name"] for r in config["receivers"]} == {
        "blackhole",
        "critical",
        "slack-warning",
        "heartbeat",
    }
    assert "discord_configs" not in text and "telegram_configs" not in text
    assert not [line for line in text.splitlines() if line.strip().startswith(("# @if", "# @end"))]


def test_discord_alone_renders_only_discord(tmp_path):
    chat = settings(tmp_path, discord_webhook_url_file=secret(tmp_path / "d", WEBHOOK))
    config = yaml.safe_load(gen.render_alertmanager(gen.load_thresholds(), chat))
    names = {r["name"] for r in config["receivers"]}
    assert "discord" in names and "telegram" not in names


def test_a_telegram_token_without_a_chat_id_is_refused_naming_the_setting(tmp_path):
    chat = settings(tmp_path, telegram_bot_token_file=secret(tmp_path / "t", TOKEN))
    with pytest.raises(gen.GenerateError, match="telegram_chat_id: required"):
        gen.render_alertmanager(gen.load_thresholds(), chat)


def test_a_group_readable_secret_file_is_refused_with_the_chmod_that_fixes_it(tmp_path):
    path = secret(tmp_path / "d", WEBHOOK, mode=0o644)
    chat = settings(tmp_path, discord_webhook_url_file=path)
    with pytest.raises(gen.GenerateError, match=f"discord_webhook_url_file: .*chmod 600 {path}"):
        gen.render_alertmanager(gen.load_thresholds(), chat)


def test_a_file_that_holds_no_bot_token_is_refused_without_quoting_it(tmp_path):
    chat = settings(
        tmp_path,
        telegram_bot_token_file=secret(tmp_path / "t", "it's: a 'quote'"),
        telegram_chat_id=1,
    )
    with pytest.raises(gen.GenerateError) as err:
        gen.render_alertmanager(gen.load_thresholds(), chat)
    assert "does not hold a Telegram bot token" in str(err.value)
    assert "quote" not in str(err.value)
