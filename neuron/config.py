"""Typed YAML config for the bundled miner and validator.

Both share ``chain``, ``wallet``, ``metrics``, ``metagraph`` and ``log`` sections; the miner
adds ``axon``, ``blacklist`` and ``task``, the validator ``query``, ``scoring`` and
``set_weights``. Unknown keys are errors (:class:`common.config.StrictModel`), so a typo
never silently falls back to a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from common.chain import is_rpc_network
from common.config import (
    ChainSection,
    LogSection,
    Network,
    StrictModel,
    UserPath,
    load_config,
    renamed_section,
)
from common.metric_names import MINER_AXON_PORT, MINER_METRICS_PORT, VALIDATOR_METRICS_PORT


class NeuronChainSection(ChainSection):
    """The shared ``chain`` section plus the subnet this neuron mines or validates."""

    # Required here, unlike the agent's: a neuron writes to the chain (ServeAxon, SetWeights),
    # so which chain it writes to is never left to a default.
    network: Network = Field(description="sim://HOST:PORT, finney, test, local or a ws(s):// URL")
    netuid: int = Field(ge=0, le=65535)

    @model_validator(mode="after")
    def _sdk_failover_only(self) -> NeuronChainSection:
        # A neuron holds one client and leaves failover to the SDK's RPC transport, which
        # rotates among real endpoints only; simnet failover exists in the agent alone.
        if not self.fallback_networks:
            return self
        if not is_rpc_network(self.network):
            raise ValueError(
                "fallback_networks: a miner or validator on simnet has no failover; remove them"
            )
        sims = [n for n in self.fallback_networks if not is_rpc_network(n)]
        if sims:
            raise ValueError(
                f"fallback_networks: {sims[0]} is a simnet address; a miner or validator on a "
                "real chain fails over among finney / test / ws(s):// endpoints only"
            )
        return self


class WalletSection(StrictModel):
    name: str = Field(min_length=1)
    hotkey: str = Field(default="default", min_length=1)
    path: UserPath = Path("~/.bittensor/wallets")
    # Only for a developer machine: a coldkey private key on a server that answers the
    # internet is the one key whose theft cannot be undone.
    allow_coldkey_on_host: bool = False


class MinerMetricsSection(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=MINER_METRICS_PORT, ge=0, le=65535)
    enabled: bool = True


class ValidatorMetricsSection(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=VALIDATOR_METRICS_PORT, ge=0, le=65535)
    enabled: bool = True


class MetagraphSection(StrictModel):
    # The seed recommends 5-10 minutes; the loop also syncs at least once per tempo.
    sync_interval_seconds: float = Field(default=300.0, gt=0)
    # A failed sync is retried sooner than a full interval, but not in a tight loop.
    retry_seconds: float = Field(default=10.0, gt=0)


class AxonSection(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=MINER_AXON_PORT, ge=0, le=65535)
    # What validators are told on chain (ServeAxon). Defaults to host/port.
    external_ip: str | None = None
    external_port: int | None = Field(default=None, ge=1, le=65535)
    serve_on_chain: bool = True
    max_body_bytes: int = Field(default=64 * 1024, ge=256)
    max_request_age_seconds: float = Field(default=10.0, gt=0)
    allowed_clock_skew_seconds: float = Field(default=2.0, ge=0)
    max_concurrent: int = Field(default=8, ge=1)
    max_queue: int = Field(default=64, ge=0)
    max_queue_wait_seconds: float = Field(default=5.0, gt=0)
    rate_limit_per_second: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=40, ge=1)
    # GET /probe (neuron/probe.py): one bucket shared by every prober; 0 turns the route off.
    probe_rate_per_second: float = Field(default=2.0, ge=0)
    probe_burst: int = Field(default=20, ge=1)
    # Connection bounds (neuron/serving.py). The cap is lowered at start to what the process's
    # file-descriptor limit allows (systemd LimitNOFILE), so accept() never runs out first.
    max_connections: int = Field(default=4096, ge=1)
    idle_timeout_seconds: float = Field(default=15.0, gt=0)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    accept_error_log_interval_seconds: float = Field(default=60.0, gt=0)


class BlacklistSection(StrictModel):
    require_validator_permit: bool = True
    # In the subnet's alpha units (the metagraph's total stake).
    min_stake: float = Field(default=0.0, ge=0)


class TaskSection(StrictModel):
    # "matmul" (the verifiable reference task), "echo" (trivial, for benchmarks), or a
    # plugin "package.module:factory" returning a neuron.task.Task.
    name: str = "matmul"
    quality: Literal["good", "poor"] = "good"
    # Only with quality: poor. The demo's deliberately bad miner.
    poor_wrong_fraction: float = Field(default=0.5, ge=0, le=1)
    poor_delay_seconds: float = Field(default=0.3, ge=0)


class CommonConfig(StrictModel):
    chain: NeuronChainSection
    wallet: WalletSection
    metagraph: MetagraphSection = MetagraphSection()
    log: LogSection = LogSection()

    @model_validator(mode="before")
    @classmethod
    def _old_logging_name(cls, data: Any, info: ValidationInfo) -> Any:
        # ``logging:`` was the neurons' name for the agent's ``log:`` section.
        source = (info.context or {}).get("source")
        return renamed_section(data, "logging", "log", source)


class MinerConfig(CommonConfig):
    metrics: MinerMetricsSection = MinerMetricsSection()
    axon: AxonSection = AxonSection()
    blacklist: BlacklistSection = BlacklistSection()
    task: TaskSection = TaskSection()

    @model_validator(mode="after")
    def _distinct_ports(self) -> MinerConfig:
        if self.metrics.enabled and self.axon.port and self.axon.port == self.metrics.port:
            raise ValueError(
                "axon.port and metrics.port are equal; the metrics listener needs its own port"
            )
        ax = self.axon
        if ax.serve_on_chain and ax.external_ip is None and ax.host in ("0.0.0.0", "::"):
            raise ValueError(
                f"axon.host {ax.host} is a wildcard, so it says nothing about where validators "
                "can reach this miner; set axon.external_ip to the public address"
            )
        return self


class QuerySection(StrictModel):
    sample_size: int = Field(default=8, ge=1, description="miners queried per step")
    step_interval_seconds: float = Field(default=12.0, gt=0)
    timeout_seconds: float = Field(default=5.0, gt=0)
    # Difficulty of the reference task: matrix size and rounds of products.
    size: int = Field(default=64, ge=4, le=1024)
    rounds: int = Field(default=4, ge=1, le=64)
    task: str = "matmul"
    # Every Nth step queries over new connections, so a miner that serves its kept-alive
    # validators but refuses new callers shows in bittensor_validator_fresh_connection_queries.
    fresh_connection_every_steps: int = Field(default=5, ge=1)


class ScoringSection(StrictModel):
    ema_alpha: float = Field(default=0.1, gt=0, le=1)
    # Largest share of a correct answer's score that latency can take away.
    latency_weight: float = Field(default=0.2, ge=0, lt=1)


class SetWeightsSection(StrictModel):
    enabled: bool = True
    # None: as often as the subnet's weights rate limit allows.
    interval_blocks: int | None = Field(default=None, ge=1)
    retries: int = Field(default=2, ge=0)
    check_interval_seconds: float | None = Field(default=None, gt=0)


class ValidatorConfig(CommonConfig):
    metrics: ValidatorMetricsSection = ValidatorMetricsSection()
    query: QuerySection = QuerySection()
    scoring: ScoringSection = ScoringSection()
    set_weights: SetWeightsSection = SetWeightsSection()


def load_miner_config(path: str | Path) -> MinerConfig:
    return load_config(MinerConfig, path)


def load_validator_config(path: str | Path) -> ValidatorConfig:
    return load_config(ValidatorConfig, path)
