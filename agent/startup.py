"""Everything the agent reads from disk or the environment before it is built: the state
file, the InfluxDB token, the probe's hotkey and the installed substrate backends. Read once,
at start-up, by ``agent/main.py`` (which turns a failure into a config error naming the
field); ``agent/app.py``'s factory then only wires what was read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.config import AgentConfig
from common.chain import SubstrateBackends
from exporters.deregistration import AgentState


@dataclass(frozen=True)
class StartupReads:
    backends: SubstrateBackends
    state: AgentState
    influx_token: str | None = None
    probe_key: Any = None  # the probe's hotkey pair, when the probe is enabled


def read_startup(config: AgentConfig, *, backends: SubstrateBackends | None = None) -> StartupReads:
    """Read every file and entry point ``config`` names. Raises the reader's own error
    (``ValueError`` for the token, ``ProbeKeyError``, ``StateFileError``) for the caller to
    report against its field."""
    token = None
    if config.influx.enabled:
        from agent.influx import read_token

        token = read_token(config.influx.token_file)
    key = None
    if config.probe.enabled:
        from agent.probe import load_probe_key

        key = load_probe_key(config.probe.hotkey_file)
    return StartupReads(
        backends=backends or SubstrateBackends.installed(),
        state=AgentState(config.state_file),
        influx_token=token,
        probe_key=key,
    )
