"""The chain exporter over in-process simnet chains: a counting, fault-injecting substrate
wrapper, a poller wired as the agent wires it, and promtool's verdict on an exposition."""

from __future__ import annotations

import contextlib
import inspect
import random
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bittensor._transport.errors import RpcPolicyRejection
from prometheus_client import CollectorRegistry

from exporters.chain import ChainPoller, WatchPlan
from exporters.collector import ChainCollector
from exporters.deregistration import AgentState
from exporters.endpoints import EndpointPool
from exporters.events import EventWatcher
from simnet.state import Chain
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends


class CountingSubstrate:
    """Wraps a Substrate, counting calls per method; ``fail`` makes every read raise it, and
    ``refuse`` (0..1) refuses that share of calls at random (seeded) with the SDK's rate-limit
    rejection, as a public endpoint under load does.

    ``spared`` names the methods ``fail`` leaves alone (a node that still answers its head
    probe, say). Block streams (``blocks``) count one call per subscription. ``drop_stream``
    is raised once, by the open stream's next header (a dropped connection); while
    ``hold_stream`` is set, streams deliver nothing (a hung subscription).
    """

    def __init__(self, inner: Any):
        self._inner = inner
        self.calls: Counter[str] = Counter()
        self.fail: BaseException | None = None
        self.spared = {"connect", "close"}
        self.drop_stream: BaseException | None = None
        self.hold_stream = False
        self.open_streams = 0
        self.refuse = 0.0
        self.refused = 0
        self.rng = random.Random(0)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if inspect.isasyncgenfunction(target):
            return self._stream(name, target)
        if not callable(target) or name in {"balance"}:
            return target

        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if self.fail is not None and name not in self.spared:
                raise self.fail
            if self.refuse and name not in {"connect", "close"} and self.rng.random() < self.refuse:
                self.refused += 1
                raise RpcPolicyRejection("rate limited", status_code=429)
            return await target(*args, **kwargs)

        return wrapped

    def _stream(self, name: str, target: Callable[..., Any]) -> Callable[..., Any]:
        async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            self.calls[name] += 1
            if self.fail is not None:
                raise self.fail
            self.open_streams += 1
            try:
                async with contextlib.aclosing(target(*args, **kwargs)) as items:
                    async for item in items:
                        if self.fail is not None:
                            raise self.fail
                        if self.drop_stream is not None:
                            exc, self.drop_stream = self.drop_stream, None
                            raise exc
                        if not self.hold_stream:
                            yield item
            finally:
                self.open_streams -= 1

        return stream

    @property
    def token_symbols(self) -> dict:
        return self._inner.token_symbols

    @token_symbols.setter
    def token_symbols(self, value: dict) -> None:
        self._inner.token_symbols = value


def make_poller(
    chain: Chain, plan: WatchPlan, state_file: Path | None = None, **pool_options: Any
) -> tuple[ChainPoller, CountingSubstrate, CollectorRegistry]:
    """A poller over one in-process endpoint. Not started: until :func:`running` starts
    it, there is no finality subscription and every poll reads the finalized head."""
    sub = CountingSubstrate(SimSubstrate(chain))
    pool = EndpointPool.over(["sim://primary:1"], in_process_backends(every=sub), **pool_options)
    poller = ChainPoller(plan, pool, AgentState(state_file))
    registry = CollectorRegistry()
    registry.register(ChainCollector(poller))
    return poller, sub, registry


def event_poller(
    chain: Chain, plan: WatchPlan, state_file: Path | None = None
) -> tuple[ChainPoller, CountingSubstrate, CollectorRegistry]:
    """A poller wired as the agent wires it, with the chain-event watcher fed from the state
    file (``exporters/events.py``)."""
    sub = CountingSubstrate(SimSubstrate(chain))
    pool = EndpointPool.over(["sim://primary:1"], in_process_backends(every=sub))
    tracker = AgentState(state_file)
    poller = ChainPoller(plan, pool, tracker, events=EventWatcher(tracker.section("events")))
    registry = CollectorRegistry()
    registry.register(ChainCollector(poller))
    return poller, sub, registry


def promtool_check(exposition: bytes) -> tuple[bool, str]:
    """``promtool check metrics`` (Debian package prometheus); lint warnings fail too."""
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=exposition, capture_output=True, timeout=60
    )
    return result.returncode == 0, result.stdout.decode() + result.stderr.decode()
