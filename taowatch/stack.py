"""Run a real Prometheus and Alertmanager on loopback with the repository's rules.

Used by the end-to-end tests and by ``taowatch demo --stack``: both processes start in a
temporary directory on 127.0.0.1, Prometheus scrapes the given targets (and itself and
Alertmanager, so the pipeline's own alerts work) every second or two and evaluates the
rules rendered from the ``alerts`` package's templates with the same generator as the
committed files (knobs can be overridden, e.g. a short lookback so a test sees the resolve),
and Alertmanager sends to a :class:`taowatch.receiver.Receiver` standing in for Slack,
PagerDuty and the heartbeat. Templates and thresholds are package data, so this runs the
same from an installed wheel as from a checkout.

    async with Stack(StackSettings(targets={"taowatch-agent": ["127.0.0.1:9946"]}),
                     receiver) as stack:
        print(stack.prometheus_url, stack.alertmanager_url)

Needs the Debian packages ``prometheus`` and ``prometheus-alertmanager`` (or binaries named
``prometheus`` and ``alertmanager`` on PATH).

    python -m taowatch.stack --check    # start, report the rule groups Prometheus loaded, stop
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiohttp
import yaml

from alerts import generate as gen
from taowatch.receiver import Receiver

# Alertmanager timing for a stack a person or a test watches: notify a second after the
# first alert of a group, send resolves promptly, never repeat within a run.
FAST_ALERTMANAGER: Mapping[str, str] = MappingProxyType(
    {
        "alertmanager_group_wait": "1s",
        "alertmanager_group_interval": "1s",
        "alertmanager_repeat_interval_critical": "1h",
        "alertmanager_repeat_interval_warning": "1h",
        "alertmanager_heartbeat_interval": "5s",
    }
)

_INSTALL_HINT = (
    "install the Debian packages: apt-get install prometheus prometheus-alertmanager "
    "(scripts/install --test does it), then stop the services Debian starts "
    "(systemctl disable --now prometheus prometheus-alertmanager)"
)


class StackError(RuntimeError):
    """The stack cannot start; the message says what to do."""


def find_binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise StackError(f"none of {', '.join(names)} is on PATH: {_INSTALL_HINT}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class StackSettings:
    """What to scrape and how fast. Ports of 0 are picked free at start."""

    targets: dict[str, list[str]] = field(default_factory=dict)  # job -> ["host:port"]
    prometheus_port: int = 0
    alertmanager_port: int = 0
    scrape_interval: str = "1s"
    evaluation_interval: str = "1s"
    # How often Prometheus re-sends firing alerts (default 1m). Alerts that fire before
    # Prometheus has discovered Alertmanager are dropped until the next re-send, so a short
    # delay keeps the first notifications of a fresh stack (the Watchdog) from waiting a minute.
    resend_delay: str = "2s"
    # Knobs from alerts/thresholds.yaml to override, e.g. {"deregistration_lookback": "2m"}.
    overrides: dict[str, Any] = field(default_factory=lambda: dict(FAST_ALERTMANAGER))
    workdir: Path | None = None  # default: a fresh temporary directory, removed at stop
    grafana_url: str = "http://127.0.0.1:3000"
    ready_timeout: float = 30.0
    log_level: str = "warn"
    # --- past one machine (all empty: one Prometheus, one Alertmanager, no remote store) ---
    # global.external_labels, e.g. {"replica": "a"} for each member of a Prometheus pair.
    external_labels: dict[str, str] = field(default_factory=dict)
    # Labels removed from alerts before they reach Alertmanager (alert_relabel_configs):
    # a pair's members differ only in their replica label, and Alertmanager deduplicates
    # only alerts whose label sets are identical.
    alert_labels_dropped: tuple[str, ...] = ("replica",)
    # remote_write entries, verbatim, e.g. [{"url": "http://127.0.0.1:8428/api/v1/write"}].
    remote_write: list[dict[str, Any]] = field(default_factory=list)
    # Alertmanagers ("host:port") that get the alerts besides this stack's own: the other
    # member of an Alertmanager pair.
    other_alertmanagers: list[str] = field(default_factory=list)
    # Gossip: None runs a lone Alertmanager; a port (0: pick one) clusters it with the peers
    # ("host:port" of their gossip listeners), so a pair sends each notification once.
    alertmanager_cluster_port: int | None = None
    alertmanager_peers: list[str] = field(default_factory=list)
    # How long each member waits, per position in the cluster, for an earlier one to have
    # notified before it notifies itself (Alertmanager's --cluster.peer-timeout).
    alertmanager_peer_timeout: str = "15s"
    # Also route to the receiver's Discord and Telegram stand-ins (off: Slack and PagerDuty
    # only, the deployment default).
    chat: bool = False


@dataclass
class _Process:
    name: str
    proc: asyncio.subprocess.Process
    log: Path

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Stack:
    """Prometheus + Alertmanager processes wired to a receiver. ``start`` / ``stop``."""

    def __init__(self, settings: StackSettings, receiver: Receiver) -> None:
        self.settings = settings
        self.receiver = receiver
        self.host = "127.0.0.1"
        self.prometheus_port = settings.prometheus_port
        self.alertmanager_port = settings.alertmanager_port
        self.alertmanager_cluster_port = settings.alertmanager_cluster_port
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.workdir = settings.workdir or Path("/nonexistent")
        self._procs: list[_Process] = []
        self.thresholds: dict[str, Any] = {}

    @property
    def prometheus_url(self) -> str:
        return f"http://{self.host}:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://{self.host}:{self.alertmanager_port}"

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- configuration -------------------------------------------------------------------

    def render(self) -> None:
        """Write rules, Prometheus and Alertmanager configs and secret files into workdir."""
        try:
            base = gen.load_thresholds()
            unknown = set(self.settings.overrides) - set(base)
            if unknown:
                raise StackError(
                    f"StackSettings.overrides: unknown knob(s) {', '.join(sorted(unknown))}; "
                    "the knobs are the keys of alerts/thresholds.yaml"
                )
            self.thresholds = gen.validate_thresholds(
                {**base, **self.settings.overrides}, "StackSettings.overrides"
            )
            rules = gen.render_rules(self.thresholds, grafana_url=self.settings.grafana_url)
        except gen.GenerateError as exc:
            raise StackError(str(exc)) from exc
        rules_dir = self.workdir / "rules"
        rules_dir.mkdir(parents=True, exist_ok=True)
        for name, text in rules.items():
            (rules_dir / name).write_text(text)

        secrets_dir = self.workdir / "secrets"
        secrets_dir.mkdir(mode=0o700, exist_ok=True)
        slack_file = secrets_dir / "slack_webhook_url"
        pd_file = secrets_dir / "pagerduty_routing_key"
        hb_file = secrets_dir / "heartbeat_token"
        slack_file.write_text(self.receiver.slack_url)
        pd_file.write_text(secrets.token_hex(16))  # 32 characters, like an integration key
        hb_file.write_text(secrets.token_hex(16))
        for f in (slack_file, pd_file, hb_file):
            f.chmod(0o600)
        # A copy beside the config: Alertmanager needs a file, and the package's may be zipped.
        notification_template = self.workdir / "taowatch.tmpl"
        notification_template.write_text(gen.NOTIFICATION_TEMPLATE.read_text())
        chat: dict[str, Any] = {}
        if self.settings.chat:
            discord_file = secrets_dir / "discord_webhook_url"
            telegram_file = secrets_dir / "telegram_bot_token"
            discord_file.write_text(self.receiver.discord_url)
            telegram_file.write_text(f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(26)}")
            for f in (discord_file, telegram_file):
                f.chmod(0o600)
            chat = {
                "discord_webhook_url_file": str(discord_file),
                "telegram_bot_token_file": str(telegram_file),
                "telegram_chat_id": -1001234567890,  # a supergroup's id is negative
                "telegram_api_url": self.receiver.telegram_api_url,
            }
        am_settings = gen.AlertmanagerSettings(
            slack_api_url_file=str(slack_file),
            pagerduty_routing_key_file=str(pd_file),
            pagerduty_url=self.receiver.pagerduty_url,
            heartbeat_url=self.receiver.heartbeat_url,
            heartbeat_credentials_file=str(hb_file),
            template_file=str(notification_template),
            **chat,
        )
        (self.workdir / "alertmanager.yml").write_text(
            gen.render_alertmanager(self.thresholds, am_settings)
        )

        interval = self.settings.scrape_interval
        scrape_configs = [
            {"job_name": "prometheus", "static_configs": [{"targets": [self._hp("prometheus")]}]},
            {
                "job_name": "alertmanager",
                "static_configs": [{"targets": [self._hp("alertmanager")]}],
            },
        ]
        for job, targets in self.settings.targets.items():
            scrape_configs.append({"job_name": job, "static_configs": [{"targets": targets}]})
        global_section: dict[str, Any] = {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": self.settings.evaluation_interval,
        }
        if self.settings.external_labels:
            global_section["external_labels"] = dict(self.settings.external_labels)
        alerting: dict[str, Any] = {
            "alertmanagers": [
                {
                    "static_configs": [
                        {
                            "targets": [
                                self._hp("alertmanager"),
                                *self.settings.other_alertmanagers,
                            ]
                        }
                    ]
                }
            ]
        }
        dropped = [n for n in self.settings.alert_labels_dropped if n]
        if dropped:
            alerting["alert_relabel_configs"] = [
                {"action": "labeldrop", "regex": "|".join(dropped)}
            ]
        config: dict[str, Any] = {
            "global": global_section,
            "rule_files": [str(rules_dir / "*.rules.yaml")],
            "alerting": alerting,
            "scrape_configs": scrape_configs,
        }
        if self.settings.remote_write:
            config["remote_write"] = [dict(entry) for entry in self.settings.remote_write]
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    def _cluster_args(self) -> list[str]:
        if self.alertmanager_cluster_port is None:
            return ["--cluster.listen-address="]  # no gossip: one instance, nothing on the LAN
        gossip = f"{self.host}:{self.alertmanager_cluster_port}"
        # A loopback listener needs an explicit advertise address (it is not a private IP).
        return [
            f"--cluster.listen-address={gossip}",
            f"--cluster.advertise-address={gossip}",
            f"--cluster.peer-timeout={self.settings.alertmanager_peer_timeout}",
            *(f"--cluster.peer={peer}" for peer in self.settings.alertmanager_peers),
        ]

    def _hp(self, which: str) -> str:
        port = self.prometheus_port if which == "prometheus" else self.alertmanager_port
        return f"{self.host}:{port}"

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        prometheus = find_binary("prometheus")
        alertmanager = find_binary("prometheus-alertmanager", "alertmanager")
        if self.settings.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="taowatch-stack-")
            self.workdir = Path(self._tmp.name)
        else:
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.prometheus_port = self.prometheus_port or free_port(self.host)
        self.alertmanager_port = self.alertmanager_port or free_port(self.host)
        if self.alertmanager_cluster_port is not None:
            self.alertmanager_cluster_port = self.alertmanager_cluster_port or free_port(self.host)
        try:
            self.render()
            await self._spawn(
                "alertmanager",
                alertmanager,
                f"--config.file={self.workdir / 'alertmanager.yml'}",
                f"--storage.path={self.workdir / 'alertmanager-data'}",
                f"--web.listen-address={self._hp('alertmanager')}",
                *self._cluster_args(),
                f"--log.level={self.settings.log_level}",
            )
            await self._spawn(
                "prometheus",
                prometheus,
                f"--config.file={self.workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.workdir / 'prometheus-data'}",
                f"--web.listen-address={self._hp('prometheus')}",
                "--storage.tsdb.retention.time=1d",
                f"--rules.alert.resend-delay={self.settings.resend_delay}",
                f"--log.level={self.settings.log_level}",
            )
            await self._wait_ready(self.alertmanager_url + "/-/ready", "alertmanager")
            await self._wait_ready(self.prometheus_url + "/-/ready", "prometheus")
        except BaseException:
            await self.stop()
            raise

    async def _spawn(self, name: str, binary: str, *args: str) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                binary,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.workdir,
            )
        self._procs.append(_Process(name, proc, log))

    async def _wait_ready(self, url: str, name: str) -> None:
        proc = next(p for p in self._procs if p.name == name)
        deadline = time.monotonic() + self.settings.ready_timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if proc.proc.returncode is not None:
                    raise StackError(
                        f"{name} exited with code {proc.proc.returncode}; its log:\n{proc.tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise StackError(
            f"{name} not ready at {url} after {self.settings.ready_timeout:.0f} s; "
            f"its log:\n{proc.tail()}"
        )

    async def kill(self, name: str) -> None:
        """SIGKILL one process (``prometheus`` or ``alertmanager``), as a crash would: no
        shutdown, no last sends. ``stop`` still stops the rest."""
        for p in self._procs:
            if p.name == name and p.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.proc.kill()
                await p.proc.wait()
                return
        raise StackError(f"no running {name} in this stack (running: {self._running()})")

    def _running(self) -> str:
        return ", ".join(p.name for p in self._procs if p.proc.returncode is None) or "none"

    async def stop(self) -> None:
        # Prometheus first, so it does not log failed sends to a stopped Alertmanager.
        for p in reversed(self._procs):
            if p.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(p.proc.wait(), 10)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        p.proc.kill()
                    await p.proc.wait()
        self._procs.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- queries -------------------------------------------------------------------------

    async def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; the result vector."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(self.prometheus_url + "/api/v1/query", params={"query": expr}) as resp,
        ):
            body = await resp.json()
        if body.get("status") != "success":
            raise StackError(f"query {expr!r} failed: {body.get('error')}")
        return list(body["data"]["result"])

    async def alerts(self) -> list[dict[str, Any]]:
        """Prometheus' active alerts (pending and firing)."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(self.prometheus_url + "/api/v1/alerts") as resp,
        ):
            body = await resp.json()
        return list(body["data"]["alerts"])

    async def rule_groups(self) -> list[dict[str, Any]]:
        """The rule groups Prometheus loaded, as ``/api/v1/rules`` reports them."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(self.prometheus_url + "/api/v1/rules") as resp,
        ):
            body = await resp.json()
        if body.get("status") != "success":
            raise StackError(f"Prometheus refused /api/v1/rules: {body.get('error')}")
        return list(body["data"]["groups"])

    async def rule_health(self) -> list[tuple[str, str, str]]:
        """(rule name, health, last error) for every rule Prometheus loaded."""
        return [
            (rule["name"], rule.get("health", ""), rule.get("lastError", ""))
            for group in await self.rule_groups()
            for rule in group["rules"]
        ]

    async def wait_for_query(self, expr: str, timeout: float) -> list[dict[str, Any]]:
        """Poll until the query returns something; the result."""
        deadline = time.monotonic() + timeout
        while True:
            result = await self.query(expr)
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expr!r} returned nothing within {timeout:.0f} s")
            await asyncio.sleep(0.2)


# --- standalone: `python -m taowatch.stack` (what `taowatch demo --stack` runs) ----------------


def _parse_target(text: str) -> tuple[str, str]:
    import argparse

    job, sep, target = text.partition("=")
    host, colon, port = target.rpartition(":")
    if not sep or not job or not colon or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected JOB=HOST:PORT, e.g. taowatch-agent=127.0.0.1:9946"
        )
    return job, target


async def _check(args: Any) -> int:
    """Start with no targets, report the rules Prometheus loaded once each was evaluated."""
    receiver = Receiver(port=args.receiver_port)
    settings = StackSettings(evaluation_interval=args.evaluation_interval, workdir=args.workdir)
    async with receiver, Stack(settings, receiver) as stack:
        deadline = time.monotonic() + args.check_timeout
        while True:
            groups = await stack.rule_groups()
            health = [r.get("health", "") for g in groups for r in g["rules"]]
            if groups and "unknown" not in health:
                break
            if time.monotonic() > deadline:
                raise StackError(
                    f"Prometheus loaded {len(groups)} rule groups and had not evaluated every "
                    f"rule after {args.check_timeout:.0f} s; its config: {stack.workdir}"
                )
            await asyncio.sleep(0.2)
        broken = []
        for group in groups:
            rules = group["rules"]
            alerts = sum(1 for r in rules if r.get("type") == "alerting")
            print(
                f"group {group['name']}: {len(rules)} rules ({alerts} alerts) "
                f"from {Path(group['file']).name}"
            )
            broken += [f"{r['name']}: {r.get('lastError')}" for r in rules if r["health"] != "ok"]
        total = sum(len(g["rules"]) for g in groups)
        print(
            f"prometheus loaded {len(groups)} rule groups, {total} rules, "
            f"rendered from {gen.SRC_DIR}"
        )
        for line in broken:
            print(f"rule failed to evaluate: {line}", file=sys.stderr)
        return 1 if broken else 0


async def _run(args: Any) -> int:
    from taowatch.pages import PagePrinter

    targets: dict[str, list[str]] = {}
    for job, target in args.target:
        targets.setdefault(job, []).append(target)
    settings = StackSettings(
        targets=targets,
        prometheus_port=args.prometheus_port,
        alertmanager_port=args.alertmanager_port,
        scrape_interval=args.scrape_interval,
        evaluation_interval=args.evaluation_interval,
        workdir=args.workdir,
    )
    receiver = Receiver(port=args.receiver_port, printer=PagePrinter(full=args.full))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with receiver, Stack(settings, receiver) as stack:
        print(f"prometheus    {stack.prometheus_url}  (alerts: {stack.prometheus_url}/alerts)")
        print(f"alertmanager  {stack.alertmanager_url}")
        print(f"receiver      {receiver.url}  (Slack, PagerDuty and heartbeat stand-in)")
        print(f"config        {stack.workdir}")
        print("notifications appear below as Alertmanager sends them; Ctrl-C stops.", flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.duration or None)
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m taowatch.stack",
        description="Run Prometheus and Alertmanager with taowatch's rules on loopback, "
        "notifying a local receiver that prints what Slack and PagerDuty would get.",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        type=_parse_target,
        metavar="JOB=HOST:PORT",
        help="a scrape target; jobs taowatch-agent and taowatch-neuron are what the rules expect",
    )
    parser.add_argument("--prometheus-port", type=int, default=0)
    parser.add_argument("--alertmanager-port", type=int, default=0)
    parser.add_argument("--receiver-port", type=int, default=0)
    parser.add_argument("--scrape-interval", default="1s")
    parser.add_argument("--evaluation-interval", default="1s")
    parser.add_argument("--workdir", type=Path, help="keep configs and data here")
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    parser.add_argument(
        "--full",
        action="store_true",
        help="print each notification's whole payload under its one-line summary",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="start with no targets, print the rule groups Prometheus loaded once every rule "
        "was evaluated, and stop (exit 1 if a rule fails to evaluate)",
    )
    parser.add_argument(
        "--check-timeout",
        type=float,
        default=30,
        help="with --check: how long to wait for every rule's first evaluation (seconds)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return asyncio.run(_check(args) if args.check else _run(args))
    except StackError as exc:
        print(f"taowatch stack: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
