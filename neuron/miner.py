"""The bundled miner: an axon serving one task, a metagraph sync, metrics, and ServeAxon.

Start order matters for an operator: the metrics listener comes up first (so a miner that
cannot reach the chain is still visible), then the chain client and the metagraph sync, then
the axon. The axon refuses every request with 503 until the first metagraph sync, because
without it no caller can be judged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random

import bittensor as bt

from neuron.admission import PriorityGate, RateLimiter
from neuron.auth import Verifier
from neuron.axon import Axon
from neuron.blacklist import CallerPolicy
from neuron.config import MinerConfig
from neuron.metagraph import MetagraphView
from neuron.metrics import RuntimeState
from neuron.probe import ProbeResponder
from neuron.runtime import NeuronRuntime
from neuron.serving import (
    AcceptErrorReporter,
    ConnectionGuard,
    ServingLimits,
    fd_budget,
    start_bounded_site,
)
from neuron.task import PoorQuality, Task, load_task


def build_task(config: MinerConfig) -> Task:
    task = load_task(config.task.name)
    if config.task.quality == "poor":
        task = PoorQuality(
            task,
            wrong_fraction=config.task.poor_wrong_fraction,
            delay=config.task.poor_delay_seconds,
            seed=random.SystemRandom().getrandbits(32),
        )
    return task


class Miner:
    def __init__(self, runtime: NeuronRuntime):
        self.runtime = runtime
        config = runtime.config
        assert isinstance(config, MinerConfig), "build_runtime(MinerConfig) builds a miner"
        self.config = config
        self.wallet = runtime.wallet
        self.client = runtime.client
        self.log = runtime.log
        self.metrics = runtime.metrics
        self.metagraph = runtime.metagraph
        ax = config.axon
        self.gate = PriorityGate(ax.max_concurrent, ax.max_queue, ax.max_queue_wait_seconds)
        self.limiter = RateLimiter(ax.rate_limit_per_second, ax.rate_limit_burst)
        verifier = Verifier(
            self.wallet.hotkey_ss58,
            max_age=ax.max_request_age_seconds,
            allowed_skew=ax.allowed_clock_skew_seconds,
        )
        probe = None
        if ax.probe_rate_per_second > 0:
            probe = ProbeResponder(
                own_hotkey=self.wallet.hotkey_ss58,
                netuid=config.chain.netuid,
                verifier=verifier,
                limiter=RateLimiter(ax.probe_rate_per_second, ax.probe_burst),
                view=lambda: self.metagraph.view,
                metrics=self.metrics,
            )
        self.axon = Axon(
            task=build_task(config),
            verifier=verifier,
            policy=CallerPolicy(
                require_validator_permit=config.blacklist.require_validator_permit,
                min_stake=config.blacklist.min_stake,
            ),
            view=lambda: self.metagraph.view,
            gate=self.gate,
            limiter=self.limiter,
            metrics=self.metrics,
            max_body_bytes=ax.max_body_bytes,
            probe=probe,
            log=self.log,
        )
        self.metrics.set_state_source(self._state)
        self.metagraph.listeners.append(self._on_sync)
        self.axon_port: int | None = None
        self._served: tuple[str, int] | None = None
        self._serving: asyncio.Task | None = None

    @property
    def metrics_port(self) -> int | None:
        return self.runtime.metrics_port

    def _state(self) -> RuntimeState:
        return self.runtime.state(inflight=self.gate.inflight, queue_depth=self.gate.depth)

    @property
    def external_address(self) -> tuple[str, int]:
        ax = self.config.axon
        ip = ax.external_ip or ax.host
        return ip, ax.external_port or self.axon_port or ax.port

    def _on_sync(self, view: MetagraphView) -> None:
        self.limiter.forget_except(set(view.by_hotkey))
        if not self.config.axon.serve_on_chain or (self._serving and not self._serving.done()):
            return
        peer = view.by_hotkey.get(self.wallet.hotkey_ss58)
        if peer is None:
            return
        ip, port = self.external_address
        if peer.axon == _format_axon(ip, port) or self._served == (ip, port):
            return
        self._serving = asyncio.get_running_loop().create_task(self._serve_axon(ip, port))

    async def _serve_axon(self, ip: str, port: int) -> None:
        """Publish ip:port on chain; retried at the next sync if it fails."""
        try:
            result = await self.client.execute(
                bt.ServeAxon(self.config.chain.netuid, ip, port),
                self.wallet,
                wait_for_finalization=False,
            )
        except Exception as exc:
            self.log.warning("serve axon failed", error=f"{type(exc).__name__}: {exc}")
            return
        if result.success:
            self._served = (ip, port)
            self.log.info("axon served on chain", ip=ip, port=port)
        else:
            self.log.warning("serve axon refused", error=str(result.error or result.message))

    async def start(self) -> None:
        cfg = self.config
        await self.runtime.serve_metrics()
        guard = self._connection_guard()
        runner, self.axon_port = await start_bounded_site(
            self.axon.app(), cfg.axon.host, cfg.axon.port, guard, section="axon"
        )
        self.runtime.on_close(runner.cleanup)
        self.log.info(
            "axon listening", host=cfg.axon.host, port=self.axon_port, route=self.axon.route
        )
        self.runtime.spawn(self.metagraph.run(), name="metagraph-sync")

    def _connection_guard(self) -> ConnectionGuard:
        ax = self.config.axon
        cap, fd_limit = fd_budget(ax.max_connections)
        if cap < ax.max_connections:
            self.log.warning(
                "axon connection cap lowered to fit the file-descriptor limit; raise "
                "LimitNOFILE (systemd) or ulimit -n to allow axon.max_connections",
                max_connections=ax.max_connections,
                effective=cap,
                nofile_limit=fd_limit,
            )
        limits = ServingLimits(
            max_connections=cap,
            idle_timeout=ax.idle_timeout_seconds,
            header_timeout=ax.header_timeout_seconds,
            body_timeout=ax.body_timeout_seconds,
            max_header_bytes=ax.max_header_bytes,
        )
        guard = ConnectionGuard(limits, self.metrics)
        self.metrics.set_connection_source(lambda: (guard.open, cap))
        reporter = AcceptErrorReporter(self.metrics, ax.accept_error_log_interval_seconds, self.log)
        reporter.install(asyncio.get_running_loop())
        return guard

    async def stop(self) -> None:
        await self.runtime.aclose(*([self._serving] if self._serving else []))


def _format_axon(ip: str, port: int) -> str:
    address = ipaddress.ip_address(ip)
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
