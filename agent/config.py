"""The agent's YAML config: typed, strict, and checked before anything connects.

Example (see ``agent/agent.example.yaml`` for every field)::

    chain:
      network: finney
      fallback_networks: [wss://my-node.example:443]
    watch:
      - netuid: 1
        hotkeys: [5F...]
      - coldkey: 5G...
    export_all_neurons: [1]
    state_file: /var/lib/taowatch-agent/state.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from common.config import ChainSection, LogSection, StrictModel, UserPath, load_config
from common.metric_names import AGENT_PORT
from exporters.watch_plan import ColdkeyWatch, WatchPlan


def _ss58(value: str) -> str:
    # Bittensor's own check, pinned to the network's ss58 format (42), so an address
    # pasted from another Substrate chain is rejected, not silently watched forever.
    from bittensor.wallets import is_bittensor_address

    if not isinstance(value, str) or not is_bittensor_address(value.strip()):
        raise ValueError(
            "not a valid Bittensor ss58 address (format 42, starting with 5); "
            "copy it from `btcli wallet overview` or your wallet's *pub.txt"
        )
    return value.strip()


SS58 = Annotated[str, AfterValidator(_ss58)]
NetUid = Annotated[int, Field(ge=0, le=65535)]


class ChainConfig(ChainSection):
    # The agent's own failover among network + fallback_networks: an endpoint lagging more
    # than max_lag_blocks is skipped, and the poll moves back to an earlier endpoint once it
    # has been healthy for failback_after_polls polls.
    max_lag_blocks: Annotated[int, Field(ge=0)] = 3
    failback_after_polls: Annotated[int, Field(ge=1)] = 3


class ListenConfig(StrictModel):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = AGENT_PORT


class PollConfig(StrictModel):
    # None: the chain's block time (one poll per block).
    interval_seconds: Annotated[float, Field(gt=0)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    # Coldkeys watched on every subnet: how often to look for new hotkeys and subnets.
    rediscover_every_polls: Annotated[int, Field(ge=1)] = 100
    # bittensor_subnet_registrations_recent window; None: one tempo.
    registration_window_blocks: Annotated[int, Field(ge=1)] | None = None
    stake_drop_ratio: Annotated[float, Field(gt=0, le=1)] = 0.05
    # The finalized head is pushed by a subscription; after this many block times without a
    # header from it, each poll reads the finalized head directly until the stream speaks.
    finality_stale_blocks: Annotated[float, Field(gt=0)] = 5.0
    # Subnets read at once in a poll (two RPC calls each): enough to hide a public endpoint's
    # round trip across 128 subnets, few enough not to trip its burst limits.
    max_concurrent_subnets: Annotated[int, Field(ge=1)] = 32


class ShardConfig(StrictModel):
    """This agent's part of a fleet: it reads netuid n only if n % count == index."""

    index: Annotated[int, Field(ge=0)] = 0
    count: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="after")
    def _index_below_count(self) -> ShardConfig:
        if self.index >= self.count:
            raise ValueError(
                f"shard.index is {self.index} but shard.count is {self.count}: number the "
                f"agents 0 to {self.count - 1}, each with the same count"
            )
        return self


class HealthConfig(StrictModel):
    # /healthz fails when the last successful poll is older than this; None: 3 poll
    # intervals plus the poll timeout.
    max_poll_age_seconds: Annotated[float, Field(gt=0)] | None = None
    # /healthz fails when the chain head has not advanced for this long; None: 20 blocks
    # (at least 60 s).
    max_head_age_seconds: Annotated[float, Field(gt=0)] | None = None


class WatchEntry(StrictModel):
    """Either ``netuid`` + ``hotkeys``, or ``coldkey`` (+ optional ``netuids``)."""

    netuid: NetUid | None = None
    hotkeys: list[SS58] | None = None
    coldkey: SS58 | None = None
    # With coldkey: only these subnets. Omit to discover its hotkeys on every subnet.
    netuids: list[NetUid] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> WatchEntry:
        if self.coldkey is not None:
            if self.netuid is not None or self.hotkeys is not None:
                raise ValueError(
                    "a watch entry has either coldkey (+ netuids) or netuid + hotkeys, not both; "
                    "split it into two entries"
                )
            return self
        if self.netuids is not None:
            raise ValueError("netuids goes with coldkey; for hotkeys use one entry per netuid")
        if self.netuid is None or not self.hotkeys:
            raise ValueError(
                "a watch entry needs netuid and a non-empty hotkeys list, or a coldkey"
            )
        return self


def _influx_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL, for example http://127.0.0.1:8086")
    # The client sends the token, not URL userinfo: a password here passes every check and
    # then fails every write (and would sit in a world-readable config).
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the URL carries credentials (user:password@); remove them and put the API token "
            "in the file named by influx.token_file"
        )
    return value


class InfluxConfig(StrictModel):
    enabled: bool = False
    url: Annotated[str, AfterValidator(_influx_url)] = "http://127.0.0.1:8086"
    org: str = ""
    bucket: str = ""
    # The token is read from this file (never from the YAML), e.g. a 0600 file.
    token_file: UserPath | None = None
    batch_size: Annotated[int, Field(ge=1)] = 500
    flush_interval_seconds: Annotated[float, Field(gt=0)] = 5.0
    max_buffer_points: Annotated[int, Field(ge=1)] = 50_000
    max_retries: Annotated[int, Field(ge=0)] = 3
    retry_backoff_seconds: Annotated[float, Field(ge=0)] = 1.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    gzip: bool = True

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> InfluxConfig:
        if self.enabled:
            missing = [f for f in ("org", "bucket") if not getattr(self, f)]
            if self.token_file is None:
                missing.append("token_file")
            if missing:
                raise ValueError(
                    f"influx is enabled but {', '.join(missing)} is not set; "
                    "set it or use enabled: false"
                )
        return self


def _probe_path(value: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError("expected a request path starting with /, for example /probe")
    return value


class ProbeConfig(StrictModel):
    """The signed reachability probe (``agent.probe``); off unless ``enabled``."""

    enabled: bool = False
    # A bittensor hotkey file (wallets/<name>/hotkeys/<hotkey>, mode 0600) of a key used only
    # for probing: it needs no stake and no registration. Never the watched miner's hotkey.
    hotkey_file: UserPath | None = None
    interval_seconds: Annotated[float, Field(gt=0)] = 60.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    max_concurrent: Annotated[int, Field(ge=1, le=1024)] = 16
    path: Annotated[str, AfterValidator(_probe_path)] = "/probe"

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> ProbeConfig:
        if self.enabled and self.hotkey_file is None:
            raise ValueError(
                "enabled but hotkey_file is not set; point it at a hotkey file "
                "made for probing (btcli wallet new-hotkey) or use enabled: false"
            )
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError(
                f"timeout_seconds ({self.timeout_seconds:g}) must be below "
                f"interval_seconds ({self.interval_seconds:g}), or rounds overlap"
            )
        return self


class AgentConfig(StrictModel):
    chain: ChainConfig = ChainConfig()
    listen: ListenConfig = ListenConfig()
    poll: PollConfig = PollConfig()
    health: HealthConfig = HealthConfig()
    watch: list[WatchEntry] = []
    export_all_neurons: list[NetUid] = []
    # Operator-set registration cost (TAO) per subnet above which
    # BittensorSubnetRegistrationCostHigh warns; a subnet left out is never alerted on.
    registration_cost_alert_tao: dict[NetUid, Annotated[float, Field(gt=0)]] = {}
    # Every agent of a fleet gets the same watch list and export_all_neurons; each keeps
    # only its shard's subnets.
    shard: ShardConfig = ShardConfig()
    # Deregistration counts and coldkey-discovered hotkeys; None keeps them in memory only.
    state_file: UserPath | None = None
    influx: InfluxConfig = InfluxConfig()
    probe: ProbeConfig = ProbeConfig()
    log: LogSection = LogSection()

    @model_validator(mode="after")
    def _something_to_watch(self) -> AgentConfig:
        if not self.watch and not self.export_all_neurons:
            raise ValueError(
                "nothing to watch: add a `watch` entry (netuid + hotkeys, or coldkey) "
                "or `export_all_neurons`"
            )
        return self


def load(path: str | Path) -> AgentConfig:
    """The agent's config; relative paths in it (state_file, influx.token_file,
    probe.hotkey_file) are relative to the file, not to wherever the agent runs."""
    return load_config(AgentConfig, path)


def watch_plan(config: AgentConfig) -> WatchPlan:
    """What the exporter watches, from the config's ``watch``, ``export_all_neurons``,
    ``poll``, ``registration_cost_alert_tao`` and ``shard`` sections."""
    hotkeys: list[tuple[int, str]] = []
    coldkeys: list[ColdkeyWatch] = []
    for entry in config.watch:
        if entry.coldkey is not None:
            netuids = tuple(entry.netuids) if entry.netuids is not None else None
            coldkeys.append(ColdkeyWatch(entry.coldkey, netuids))
        else:
            hotkeys += [(entry.netuid, hk) for hk in entry.hotkeys or []]
    return WatchPlan(
        hotkeys=tuple(dict.fromkeys(hotkeys)),
        coldkeys=tuple(coldkeys),
        export_all=frozenset(config.export_all_neurons),
        rediscover_every_polls=config.poll.rediscover_every_polls,
        registration_window_blocks=config.poll.registration_window_blocks,
        stake_drop_ratio=config.poll.stake_drop_ratio,
        registration_cost_alert_tao=tuple(sorted(config.registration_cost_alert_tao.items())),
        shard_index=config.shard.index,
        shard_count=config.shard.count,
    )
