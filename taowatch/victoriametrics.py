"""VictoriaMetrics (and vmalert) on loopback: the remote store a Prometheus pair writes to.

Used by the end-to-end tests: a single-node ``victoria-metrics`` accepts Prometheus'
``remote_write`` at ``/api/v1/write`` and answers the Prometheus query API at
``/api/v1/query`` and ``/api/v1/query_range``, so Grafana (and the preview) use it as a
Prometheus-type datasource. ``vmalert`` evaluates the repository's rule files against it.

    async with VictoriaMetrics() as vm:
        settings = StackSettings(remote_write=[{"url": vm.write_url}])

Needs the Debian package ``victoria-metrics`` (binaries ``victoria-metrics`` and ``vmalert``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from taowatch.stack import StackError, free_port

_INSTALL_HINT = (
    "install the Debian package: apt-get install victoria-metrics (scripts/install --test "
    "does it), then stop the service Debian starts (systemctl disable --now victoria-metrics)"
)


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(f"{name} is not on PATH: {_INSTALL_HINT}")
    return path


@dataclass
class _Server:
    """One loopback process with a log file and a readiness URL."""

    name: str
    ready_path: str
    ready_timeout: float = 30.0
    host: str = "127.0.0.1"
    port: int = 0
    workdir: Path | None = None
    _proc: asyncio.subprocess.Process | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log(self) -> Path:
        assert self.workdir is not None
        return self.workdir / f"{self.name}.log"

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def args(self) -> list[str]:
        raise NotImplementedError

    async def start(self) -> None:
        binary = _binary(self.name)
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"taowatch-{self.name}-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        try:
            with self.log.open("wb") as out:
                self._proc = await asyncio.create_subprocess_exec(
                    binary,
                    *self.args(),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                    cwd=self.workdir,
                )
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise

    async def _wait_ready(self) -> None:
        assert self._proc is not None
        url = self.url + self.ready_path
        deadline = time.monotonic() + self.ready_timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if self._proc.returncode is not None:
                    raise StackError(
                        f"{self.name} exited with code {self._proc.returncode}; "
                        f"its log:\n{self.tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise StackError(
            f"{self.name} not ready at {url} after {self.ready_timeout:.0f} s; "
            f"its log:\n{self.tail()}"
        )

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                await self._proc.wait()
        self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> Any:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def get_json(self, path: str, **params: str) -> Any:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(self.url + path, params=params) as resp,
        ):
            body = await resp.json(content_type=None)
        if body.get("status") != "success":
            raise StackError(f"{self.name} {path} {params} failed: {body.get('error')}")
        return body["data"]


@dataclass
class VictoriaMetrics(_Server):
    """Single-node victoria-metrics: remote_write in, the Prometheus query API out."""

    name: str = "victoria-metrics"
    ready_path: str = "/health"
    retention: str = "1d"
    # How far back a query looks for the last sample (Prometheus' lookback delta): the same
    # 5 minutes, so instant queries see what Prometheus would.
    lookback: str = "5m"

    @property
    def write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def args(self) -> list[str]:
        assert self.workdir is not None
        return [
            f"-httpListenAddr={self.host}:{self.port}",
            f"-storageDataPath={self.workdir / 'data'}",
            f"-retentionPeriod={self.retention}",
            f"-search.maxStalenessInterval={self.lookback}",
            # Samples are queryable as soon as they arrive, not after the default 30 s
            # (which exists to hide clock skew between many remote writers).
            "-search.latencyOffset=0s",
            "-loggerLevel=WARN",
        ]

    async def query(self, expr: str) -> list[dict[str, Any]]:
        return list((await self.get_json("/api/v1/query", query=expr))["result"])

    async def metric_names(self) -> set[str]:
        return set(await self.get_json("/api/v1/label/__name__/values"))

    async def wait_for_query(self, expr: str, timeout: float) -> list[dict[str, Any]]:
        """Poll until the query returns something; the result."""
        deadline = time.monotonic() + timeout
        while True:
            result = await self.query(expr)
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{expr!r} returned nothing in VictoriaMetrics within {timeout:.0f} s"
                )
            await asyncio.sleep(0.5)


@dataclass
class VMAlert(_Server):
    """vmalert evaluating rule files against a Prometheus-compatible datasource, sending
    its alerts to Alertmanager(s)."""

    name: str = "vmalert"
    ready_path: str = "/health"
    datasource_url: str = ""
    rule_files: list[Path] = field(default_factory=list)
    notifier_urls: list[str] = field(default_factory=list)
    evaluation_interval: str = "1s"
    # Where recording rules' results go (vmalert refuses recording rules without one):
    # empty writes them back into the datasource, i.e. victoria-metrics' own write API.
    remote_write_url: str = ""
    # Evaluate this far in the past. Prometheus' remote_write delivers in batches (up to
    # 5 s behind by default) and an instant query at "now" looks back only about one
    # scrape interval, so rules evaluated at "now" see series as absent that are merely late.
    lookback: str = "10s"
    # Added to every alert and recorded series vmalert makes (-external.label), so they
    # can be told apart from Prometheus' own in a store both write to.
    external_labels: dict[str, str] = field(default_factory=dict)

    def args(self) -> list[str]:
        if not self.datasource_url or not self.rule_files or not self.notifier_urls:
            raise StackError(
                "VMAlert needs datasource_url, rule_files and notifier_urls "
                f"(got {self.datasource_url!r}, {self.rule_files}, {self.notifier_urls})"
            )
        return [
            f"-httpListenAddr={self.host}:{self.port}",
            f"-datasource.url={self.datasource_url}",
            *(f"-rule={path.resolve()}" for path in self.rule_files),
            *(f"-notifier.url={url}" for url in self.notifier_urls),
            f"-remoteWrite.url={self.remote_write_url or self.datasource_url}",
            f"-datasource.lookback={self.lookback}",
            *(f"-external.label={k}={v}" for k, v in self.external_labels.items()),
            f"-evaluationInterval={self.evaluation_interval}",
            "-loggerLevel=WARN",
        ]

    async def rule_groups(self) -> list[dict[str, Any]]:
        return list((await self.get_json("/api/v1/rules"))["groups"])

    async def alerts(self) -> list[dict[str, Any]]:
        return list((await self.get_json("/api/v1/alerts"))["alerts"])
