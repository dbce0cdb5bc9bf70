"""The miner or validator a config describes: what the CLI calls.

It sits above ``runtime``, ``miner`` and ``validator`` so the runtime the two roles share never
imports the roles that build on it.
"""

from __future__ import annotations

import bittensor as bt
import structlog

from neuron.miner import Miner
from neuron.runtime import NeuronConfig, build_runtime
from neuron.validator import Validator
from neuron.wallet import HotkeyWallet


def build_neuron(
    config: NeuronConfig,
    wallet: HotkeyWallet,
    client: bt.Client,
    *,
    log: structlog.typing.FilteringBoundLogger | None = None,
) -> Miner | Validator:
    """The miner or validator the config describes, wired by :func:`build_runtime`."""
    runtime = build_runtime(config, wallet, client, log=log)
    if runtime.role == "miner":
        return Miner(runtime)
    return Validator(runtime)
