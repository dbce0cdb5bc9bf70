"""What a miner and a validator share, wired in one place.

:func:`build_runtime` turns a loaded config, the loaded hotkey wallet and an unconnected chain
client into a :class:`NeuronRuntime`: the logger bound to the neuron's netuid and hotkey, its
metrics, its metagraph sync, and the lifecycle both roles need (the loopback metrics listener,
background tasks, cleanups in reverse order). ``Miner`` and ``Validator`` take a runtime and add
only what is theirs; ``neuron.build.build_neuron``, above all three, picks between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any, Literal

import bittensor as bt
import structlog
from bittensor import settings as bt_settings

from common.chain import make_client
from neuron.config import MinerConfig, NeuronChainSection, ValidatorConfig
from neuron.metagraph import MetagraphSync
from neuron.metrics import NeuronMetrics, RuntimeState, metrics_app
from neuron.serving import start_site
from neuron.wallet import HotkeyWallet

Role = Literal["miner", "validator"]
NeuronConfig = MinerConfig | ValidatorConfig


def role_of(config: NeuronConfig) -> Role:
    """The role a config describes: the config's type is the one place it is decided."""
    return "miner" if isinstance(config, MinerConfig) else "validator"


def chain_client(chain: NeuronChainSection) -> bt.Client:
    """The unconnected client a ``chain`` section asks for.

    ``fallback_networks`` become the SDK transport's fallback endpoints; left empty, the SDK's
    public pool for the network applies (the config refuses simnet fallbacks).
    """
    fallbacks = [bt_settings.resolve_endpoint(n)[1] for n in chain.fallback_networks]
    return make_client(
        chain.network, fallback_endpoints=fallbacks or None, timeout=chain.timeout_seconds
    )


class NeuronRuntime:
    """The wired pieces of one neuron process, and the tasks and cleanups it owns."""

    def __init__(
        self,
        *,
        role: Role,
        config: NeuronConfig,
        wallet: HotkeyWallet,
        client: bt.Client,
        metrics: NeuronMetrics,
        metagraph: MetagraphSync,
        log: structlog.typing.FilteringBoundLogger,
    ):
        self.role = role
        self.config = config
        self.wallet = wallet
        self.client = client
        self.metrics = metrics
        self.metagraph = metagraph
        self.log = log
        self.metrics_port: int | None = None
        self._tasks: list[asyncio.Task] = []
        self._stack = AsyncExitStack()

    def state(self, **role_fields: Any) -> RuntimeState:
        """The scrape-time state: the metagraph's fields, plus the role's own."""
        view = self.metagraph.view
        return RuntimeState(
            metagraph_block=None if view is None else view.block,
            metagraph_last_sync=None if view is None else view.synced_at,
            metagraph_sync_interval=self.metagraph.effective_interval,
            self_registered=self.metagraph.self_registered,
            **role_fields,
        )

    async def serve_metrics(self) -> None:
        """Start the metrics listener when enabled: first, so a neuron that cannot reach the
        chain is still visible."""
        m = self.config.metrics
        if not m.enabled:
            return
        runner, self.metrics_port = await start_site(
            metrics_app(self.metrics), m.host, m.port, section="metrics"
        )
        self.on_close(runner.cleanup)
        self.log.info("metrics listening", host=m.host, port=self.metrics_port)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        """Run ``coro`` until :meth:`aclose` cancels it."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        return task

    def on_close(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Await ``callback`` at :meth:`aclose`, after the tasks stop, last added first."""
        self._stack.push_async_callback(callback)

    async def aclose(self, *extra: asyncio.Task) -> None:
        """Cancel the spawned tasks (and ``extra``), wait for them, then run the cleanups."""
        tasks = [*self._tasks, *extra]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        await self._stack.aclose()


def build_runtime(
    config: NeuronConfig,
    wallet: HotkeyWallet,
    client: bt.Client,
    *,
    metrics: NeuronMetrics | None = None,
    log: structlog.typing.FilteringBoundLogger | None = None,
) -> NeuronRuntime:
    """Wire what every neuron needs; nothing listens or connects until the neuron starts."""
    role = role_of(config)
    netuid = config.chain.netuid
    log = (log or structlog.get_logger(f"neuron.{role}")).bind(
        netuid=netuid, hotkey=wallet.hotkey_ss58
    )
    metrics = metrics or NeuronMetrics(role=role, netuid=netuid, hotkey=wallet.hotkey_ss58)
    metagraph = MetagraphSync.from_config(
        client, config, wallet.hotkey_ss58, metrics=metrics, log=log
    )
    return NeuronRuntime(
        role=role,
        config=config,
        wallet=wallet,
        client=client,
        metrics=metrics,
        metagraph=metagraph,
        log=log,
    )
