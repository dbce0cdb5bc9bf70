"""The agent's reachability probe: a btauth/1-signed ``GET /probe`` to each watched axon.

The chain says where a watched neuron serves (its ``axon_info``); the probe says whether
anybody answers there, and whether the answer comes from the owner of the hotkey (the
request is signed for that hotkey, so a miner serving another key refuses it). The probe
signs with a hotkey of its own (``probe.hotkey_file``), never the watched one: losing the
agent host must not lose a miner's key, and the probe key needs no stake or registration.

One APScheduler job (``agent.app``) runs :meth:`Prober.run_once` every
``probe.interval_seconds``: at most ``probe.max_concurrent`` axons are probed at once, each
over a fresh connection (a reused one would hide a miner that stopped accepting), each
bounded by ``probe.timeout_seconds``. Each round swaps in one immutable
:class:`ProbeSnapshot`; :meth:`Prober.collect` yields fresh families from it per scrape.

Series (labels ``netuid``, ``hotkey``, ``uid``, ``axon``): ``bittensor_probe_up`` (1 on a
200), ``bittensor_probe_latency_seconds`` (request sent to answer read, or to the failure),
``bittensor_probe_status_code`` (the HTTP status; 0 when no HTTP answer came),
``bittensor_probe_consecutive_failures`` (rounds in a row without a 200, what the alert
counts). A neuron that stops serving an axon, or leaves the watch list, stops being
exported at the next round.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import aiohttp
from bittensor import http_auth
from bittensor.keyfiles import Keyfile, Keypair
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.config import ProbeConfig
from common.metric_names import Probe as P
from common.secret_files import SecretFileError, check_secret_file
from exporters.snapshot import ChainSnapshot

PROBE_JOB_ID = "axon-probe"
# A probe answer is a few dozen bytes; anything past this is read no further.
MAX_ANSWER_BYTES = 4096
LABELS = ("netuid", "hotkey", "uid", "axon")


class ProbeKeyError(ValueError):
    """The probe hotkey file cannot be used; the message names the field and the fix."""


def load_probe_key(path: Path) -> Keypair:
    """The probe's signing keypair from a bittensor hotkey file (owner-only, unencrypted or
    unlocked from the SDK's ``BT_PW_...`` variable). Errors never quote the file's content."""
    try:
        check_secret_file(path)
    except SecretFileError as exc:
        raise ProbeKeyError(f"probe.hotkey_file {exc}") from None
    keyfile = Keyfile(path, "probe")
    try:
        password = None
        if keyfile.is_encrypted():
            password = os.environ.get(keyfile.env_var_name())
            if not password:
                raise ProbeKeyError(
                    f"probe.hotkey_file {path}: the key is encrypted; set "
                    f"{keyfile.env_var_name()} from a secrets file (the agent never prompts)"
                )
        key = keyfile.get_keypair(password)
        key.sign(b"taowatch probe key check")
    except ProbeKeyError:
        raise
    except Exception:  # the SDK's errors may carry no file context; never echo the content
        raise ProbeKeyError(
            f"probe.hotkey_file {path}: not a usable hotkey file; create one with "
            "btcli wallet new-hotkey and point at wallets/<name>/hotkeys/<hotkey>"
        ) from None
    return key


@dataclass(frozen=True, slots=True)
class Target:
    netuid: int
    hotkey: str
    uid: int
    axon: str  # host:port, [v6]:port


@dataclass(frozen=True, slots=True)
class ProbeResult:
    target: Target
    up: bool
    status: int  # HTTP status; 0 = no HTTP answer (refused, reset, timed out)
    outcome: str  # ok | refused | timeout | unreachable
    latency: float
    consecutive_failures: int


@dataclass(frozen=True, slots=True)
class ProbeSnapshot:
    results: tuple[ProbeResult, ...] = ()
    round_seconds: float = 0.0
    rounds: int = 0
    outcomes: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


OUTCOMES = ("ok", "refused", "timeout", "unreachable")


def targets_of(snapshot: ChainSnapshot | None) -> tuple[Target, ...]:
    """Every watched, registered neuron serving an axon, as the chain lists it."""
    if snapshot is None:
        return ()
    out: dict[tuple[int, str], Target] = {}
    for w in snapshot.watched:
        n = w.neuron
        if n is None or n.axon is None or not n.axon.port:
            continue
        host = f"[{n.axon.ip}]" if ":" in n.axon.ip else n.axon.ip
        out[(w.netuid, w.hotkey)] = Target(w.netuid, w.hotkey, n.uid, f"{host}:{n.axon.port}")
    return tuple(out.values())


class Prober:
    """Probes the axons ``targets()`` names; one round at a time (the job's max_instances)."""

    def __init__(
        self,
        config: ProbeConfig,
        key: Keypair,
        targets: Callable[[], Iterable[Target]],
        *,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self._config = config
        self._key = key
        self._targets = targets
        self._clock = clock
        self._snapshot = ProbeSnapshot()
        # Most probes in flight seen in any round: what the concurrency bound is held to.
        self.max_in_flight = 0
        self._in_flight = 0

    def __repr__(self) -> str:  # never print key material
        return f"Prober(targets={len(self._snapshot.results)})"

    @property
    def snapshot(self) -> ProbeSnapshot:
        return self._snapshot

    async def run_once(self) -> ProbeSnapshot:
        started = self._clock()
        targets = tuple(self._targets())
        previous = {r.target: r.consecutive_failures for r in self._snapshot.results}
        semaphore = asyncio.Semaphore(self._config.max_concurrent)
        # force_close: one connection per probe, so a miner that stopped accepting new
        # connections shows, as the validator's fresh-connection queries do.
        connector = aiohttp.TCPConnector(force_close=True, limit=self._config.max_concurrent)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(target: Target) -> ProbeResult:
                async with semaphore:
                    self._in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self._in_flight)
                    try:
                        status, outcome, latency = await self._probe(session, target)
                    finally:
                        self._in_flight -= 1
                up = outcome == "ok"
                failures = 0 if up else previous.get(target, 0) + 1
                return ProbeResult(target, up, status, outcome, latency, failures)

            results = await asyncio.gather(*(one(t) for t in targets))
        outcomes = dict(self._snapshot.outcomes)
        for r in results:
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        self._snapshot = ProbeSnapshot(
            results=tuple(results),
            round_seconds=self._clock() - started,
            rounds=self._snapshot.rounds + 1,
            outcomes=MappingProxyType(outcomes),
        )
        return self._snapshot

    async def _probe(
        self, session: aiohttp.ClientSession, target: Target
    ) -> tuple[int, str, float]:
        path = self._config.path
        headers = http_auth.sign(
            self._key, method="GET", path=path, body=b"", receiver_ss58=target.hotkey
        )
        started = self._clock()
        try:
            async with session.get(
                f"http://{target.axon}{path}",
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._config.timeout_seconds),
                allow_redirects=False,
            ) as resp:
                await resp.content.read(MAX_ANSWER_BYTES)
                status = resp.status
        except TimeoutError:
            return 0, "timeout", self._clock() - started
        except (aiohttp.ClientError, OSError, ValueError):
            return 0, "unreachable", self._clock() - started
        return status, "ok" if status == 200 else "refused", self._clock() - started

    def collect(self) -> Iterable[Metric]:
        snap = self._snapshot
        up = GaugeMetricFamily(P.UP, P.UP.help, labels=LABELS)
        latency = GaugeMetricFamily(
            P.LATENCY_SECONDS,
            P.LATENCY_SECONDS.help,
            labels=LABELS,
        )
        status = GaugeMetricFamily(
            P.STATUS_CODE,
            P.STATUS_CODE.help,
            labels=LABELS,
        )
        failures = GaugeMetricFamily(
            P.CONSECUTIVE_FAILURES, P.CONSECUTIVE_FAILURES.help, labels=LABELS
        )
        for r in snap.results:
            t = r.target
            values = [str(t.netuid), t.hotkey, str(t.uid), t.axon]
            up.add_metric(values, 1.0 if r.up else 0.0)
            latency.add_metric(values, r.latency)
            status.add_metric(values, float(r.status))
            failures.add_metric(values, float(r.consecutive_failures))
        rounds = CounterMetricFamily(P.ROUNDS, P.ROUNDS.help)
        rounds.add_metric([], float(snap.rounds))
        probes = CounterMetricFamily(P.PROBES, P.PROBES.help, labels=["outcome"])
        for outcome in OUTCOMES:
            probes.add_metric([outcome], float(snap.outcomes.get(outcome, 0)))
        duration = GaugeMetricFamily(P.ROUND_DURATION_SECONDS, P.ROUND_DURATION_SECONDS.help)
        duration.add_metric([], snap.round_seconds)
        yield from (up, latency, status, failures, rounds, probes, duration)
