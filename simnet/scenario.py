"""Scenarios: a YAML file that sets up a simnet world and scripts what happens to it.

A scenario names subnets, simulated participants (chain-side validators and miners that need no
process: validators set weights on a schedule, miners just hold a UID), funded dev accounts, and
events by block: deregister a hotkey through a competing registration, change a stake by a
percentage, halt block production for a while, inject RPC faults on the server, change a
hyperparameter. The bundled ``default.yaml`` is what ``taowatch demo`` runs.

A malformed scenario fails with the file, the field and what was expected
(:class:`common.config.ConfigError`).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import structlog
from bittensor import keyfiles
from pydantic import Field, model_validator

from common.config import ConfigError, StrictModel, load_config

log = structlog.get_logger("simnet.scenario")

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
DEFAULT_SCENARIO = SCENARIOS_DIR / "default.yaml"

NonNegInt = Annotated[int, Field(ge=0)]
PosInt = Annotated[int, Field(gt=0)]


class Account(StrictModel):
    """A funded account: a dev URI such as ``//Alice`` or an ss58 address."""

    uri: str | None = None
    ss58: str | None = None
    tao: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _one_of(self) -> Account:
        if (self.uri is None) == (self.ss58 is None):
            raise ValueError("give exactly one of uri (e.g. //Alice) or ss58")
        return self

    @property
    def address(self) -> str:
        return self.ss58 or keyfiles.Keypair.create_from_uri(self.uri).ss58_address


class SimNeuron(StrictModel):
    """A chain-side participant: its keys derive from its name, so runs are reproducible."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    role: Literal["validator", "miner"]
    stake_tao: Annotated[float, Field(ge=0)] = 0.0
    # validators: how they weight simulated miners.
    #   honest - proportional to each miner's quality (with a little noise)
    #   random - uniform noise, so the validator drifts out of consensus
    #   idle   - never sets weights (its validator trust decays, it turns inactive)
    weights: Literal["honest", "random", "idle"] = "honest"
    every: PosInt = 10  # blocks between weight sets (the subnet's rate limit still applies)
    quality: Annotated[float, Field(ge=0, le=1)] = 0.5  # miners: what honest validators see


class SubnetSpec(StrictModel):
    netuid: Annotated[int, Field(ge=1, le=65535)]
    tempo: PosInt = 360
    max_uids: PosInt = 256
    max_validators: PosInt = 64
    immunity_period: NonNegInt = 5000
    activity_cutoff: PosInt = 5000
    burn_tao: Annotated[float, Field(ge=0)] = 1.0
    weights_rate_limit: NonNegInt = 100
    min_allowed_weights: NonNegInt = 1
    commit_reveal: bool = False
    # Yuma3 is on for new subnets on chain; the bundled worlds ask for original Yuma for now.
    yuma3: bool = False
    emission_tao_per_block: Annotated[float, Field(ge=0)] = 1.0
    # The subnet's constant-product pool: its depth sets how far a stake moves the price.
    pool_tao: Annotated[float, Field(gt=0)] = 100_000.0
    alpha_price_tao: Annotated[float, Field(gt=0)] = 0.25
    neurons: list[SimNeuron] = []


class Deregister(StrictModel):
    netuid: int
    hotkey: str  # a simulated neuron's name or an ss58 address


class StakeChange(StrictModel):
    netuid: int
    hotkey: str
    change_percent: Annotated[float, Field(ge=-100)]


class Halt(StrictModel):
    blocks: PosInt  # how long, counted in block times of wall clock (no blocks are produced)


class FaultSpec(StrictModel):
    error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    latency: Annotated[float, Field(ge=0)] = 0.0
    drop_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    for_blocks: PosInt | None = None  # then clear; None = until another faults event


class Hyperparameter(StrictModel):
    netuid: int
    name: str
    value: int | float | bool


EVENT_KINDS = ("deregister", "stake", "halt", "faults", "hyperparameter")


class Event(StrictModel):
    at: PosInt  # block number at which the event fires
    deregister: Deregister | None = None
    stake: StakeChange | None = None
    halt: Halt | None = None
    faults: FaultSpec | None = None
    hyperparameter: Hyperparameter | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Event:
        kinds = [k for k in EVENT_KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                "each event has `at` and exactly one of deregister, stake, halt, faults, "
                f"hyperparameter (got {', '.join(kinds) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in EVENT_KINDS if getattr(self, k))


class Scenario(StrictModel):
    name: str = "unnamed"
    description: str = ""
    block_time: Annotated[float, Field(gt=0)] = 12.0
    seed: int = 0
    accounts: list[Account] = []
    subnets: list[SubnetSpec] = []
    events: list[Event] = []

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        netuids = [s.netuid for s in self.subnets]
        if len(set(netuids)) != len(netuids):
            raise ValueError("subnets: each netuid may appear once")
        names = {n.name for s in self.subnets for n in s.neurons}
        for i, ev in enumerate(self.events):
            target = ev.deregister or ev.stake or ev.hyperparameter
            if target is not None and target.netuid not in netuids:
                raise ValueError(f"events[{i}]: netuid {target.netuid} is not in subnets")
            hk = getattr(ev.deregister or ev.stake, "hotkey", None)
            if hk is not None and hk not in names and not hk.startswith("5"):
                raise ValueError(
                    f"events[{i}]: hotkey {hk!r} is neither a simulated neuron's name "
                    "nor an ss58 address"
                )
        return self


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a scenario file; ``None`` or ``"default"`` gives the bundled default."""
    if path is None or str(path) == "default":
        path = DEFAULT_SCENARIO
    return load_config(Scenario, path)


def neuron_keypair(name: str) -> keyfiles.Keypair:
    return keyfiles.Keypair.create_from_uri(f"//simnet/{name}")


def neuron_coldkey(name: str) -> keyfiles.Keypair:
    return keyfiles.Keypair.create_from_uri(f"//simnet/{name}/coldkey")


class World:
    """A chain plus the scenario that drives it: simulated actors and scripted events.

    ``on_faults`` lets the server apply fault events to its RPC layer.
    """

    def __init__(
        self,
        chain,
        scenario: Scenario,
        *,
        on_faults: Callable[[FaultSpec | None], None] | None = None,
    ):
        self.chain = chain
        self.scenario = scenario
        self.on_faults = on_faults
        self.rng = random.Random(scenario.seed)
        self.names: dict[str, str] = {}  # simulated neuron name -> hotkey ss58
        self.quality: dict[tuple[int, str], float] = {}  # (netuid, hotkey) -> miner quality
        self._fault_clear_at: int | None = None
        self._resume_handle: asyncio.TimerHandle | None = None
        self._pending = sorted(scenario.events, key=lambda e: e.at)
        self.log: list[tuple[int, str]] = []  # (block, what happened), for status and tests

    # -- genesis -----------------------------------------------------------------------------

    def build(self) -> World:
        sc, chain = self.scenario, self.chain
        for acct in sc.accounts:
            chain.fund(acct.address, round(acct.tao * 1e9))
        for spec in sc.subnets:
            chain.create_subnet(
                spec.netuid,
                tempo=spec.tempo,
                max_uids=spec.max_uids,
                max_validators=spec.max_validators,
                immunity_period=spec.immunity_period,
                activity_cutoff=spec.activity_cutoff,
                burn_rao=round(spec.burn_tao * 1e9),
                weights_rate_limit=spec.weights_rate_limit,
                min_allowed_weights=spec.min_allowed_weights,
                commit_reveal=spec.commit_reveal,
                yuma3_on=spec.yuma3,
                emission_per_block_rao=round(spec.emission_tao_per_block * 1e9),
                tao_in_rao=round(spec.pool_tao * 1e9),
                alpha_in_rao=round(spec.pool_tao / spec.alpha_price_tao * 1e9),
            )
            for n in spec.neurons:
                hot, cold = neuron_keypair(n.name), neuron_coldkey(n.name)
                self.names[n.name] = hot.ss58_address
                stake_rao = round(n.stake_tao * 1e9)
                chain.fund(cold.ss58_address, stake_rao + round(spec.burn_tao * 1e9) + 10**9)
                chain.register(spec.netuid, hot.ss58_address, cold.ss58_address)
                if stake_rao:
                    chain.add_stake(cold.ss58_address, hot.ss58_address, spec.netuid, stake_rao)
                if n.role == "miner":
                    # Simulated miners publish no axon: they have no server to answer, and a
                    # validator must never be sent off this machine to look for one.
                    self.quality[(spec.netuid, hot.ss58_address)] = n.quality
        chain.on_block(self._on_block)
        return self

    def hotkey(self, name_or_ss58: str) -> str:
        return self.names.get(name_or_ss58, name_or_ss58)

    # -- every block ---------------------------------------------------------------------------

    def _on_block(self, chain, block: int) -> None:
        for spec in self.scenario.subnets:
            for n in spec.neurons:
                if n.role == "validator" and n.weights != "idle" and block % n.every == 0:
                    self._set_weights(spec.netuid, n, block)
        while self._pending and self._pending[0].at <= block:
            self._fire(self._pending.pop(0), block)
        if self._fault_clear_at is not None and block >= self._fault_clear_at:
            self._fault_clear_at = None
            self._note(block, "faults cleared")
            if self.on_faults:
                self.on_faults(None)

    def _set_weights(self, netuid: int, n: SimNeuron, block: int) -> None:
        hot = self.names[n.name]
        uids, weights = [], []
        for uid, hotkey in enumerate(self._hotkeys(netuid)):
            q = self.quality.get((netuid, hotkey))
            if q is None:
                continue  # simulated validators judge only simulated miners
            w = (
                self.rng.random()
                if n.weights == "random"
                else max(0.0, q + self.rng.gauss(0, 0.02))
            )
            uids.append(uid)
            weights.append(w)
        if not uids or max(weights) <= 0:
            return
        top = max(weights)
        try:
            chain_set = self.chain.set_weights
            chain_set(netuid, hot, uids, [round(w / top * 65535) for w in weights])
        except Exception as exc:  # rate limit, deregistered...: a real validator just retries
            log.debug("simulated validator could not set weights", name=n.name, error=str(exc))

    def _hotkeys(self, netuid: int) -> list[str]:
        return [n.hotkey for n in self.chain.subnet(netuid).neurons]

    # -- events ------------------------------------------------------------------------------

    def _note(self, block: int, what: str) -> None:
        self.log.append((block, what))
        log.info("scenario event", block=block, what=what)

    def _fire(self, ev: Event, block: int) -> None:
        try:
            if ev.deregister:
                self.deregister(ev.deregister.netuid, ev.deregister.hotkey)
            elif ev.stake:
                factor = 1 + ev.stake.change_percent / 100
                self.chain.scale_stake(ev.stake.netuid, self.hotkey(ev.stake.hotkey), factor)
                self._note(
                    block,
                    f"stake of {ev.stake.hotkey} on {ev.stake.netuid} "
                    f"changed by {ev.stake.change_percent:+g}%",
                )
            elif ev.halt:
                self.halt(ev.halt.blocks)
            elif ev.faults:
                f = ev.faults
                self._fault_clear_at = block + f.for_blocks if f.for_blocks else None
                self._note(block, f"faults: {f.model_dump(exclude={'for_blocks'})}")
                if self.on_faults:
                    self.on_faults(f)
            elif ev.hyperparameter:
                h = ev.hyperparameter
                self.chain.set_hyperparameter(h.netuid, h.name, h.value)
                self._note(block, f"hyperparameter {h.name}={h.value} on {h.netuid}")
        except Exception as exc:
            self._note(block, f"event at {ev.at} failed: {exc}")

    def deregister(self, netuid: int, hotkey: str) -> str:
        """Evict ``hotkey`` the way the chain does: a new registration takes its UID."""
        target = self.hotkey(hotkey)
        digest = hashlib.sha256(f"{netuid}/{target}/{self.chain.head}".encode()).hexdigest()[:12]
        newcomer = neuron_keypair(f"newcomer-{digest}")
        cold = neuron_coldkey(f"newcomer-{digest}")
        self.chain.fund(cold.ss58_address, 10**12)
        uid = self.chain.register(netuid, newcomer.ss58_address, cold.ss58_address, evict=target)
        self._note(
            self.chain.head,
            f"{hotkey} deregistered on {netuid}: uid {uid} now {newcomer.ss58_address}",
        )
        return newcomer.ss58_address

    def halt(self, blocks: int | None) -> None:
        self.chain.halted = True
        self._note(self.chain.head, f"block production halted for {blocks or 'ever'} blocks")
        if self._resume_handle is not None:
            self._resume_handle.cancel()
            self._resume_handle = None
        if blocks:
            loop = asyncio.get_running_loop()
            self._resume_handle = loop.call_later(blocks * self.chain.block_time, self.resume)

    def resume(self) -> None:
        self.chain.halted = False
        self._resume_handle = None
        self._note(self.chain.head, "block production resumed")


__all__ = ["DEFAULT_SCENARIO", "ConfigError", "Scenario", "World", "load_scenario"]
