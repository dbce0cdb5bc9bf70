"""Scenarios: a YAML file that sets up a simnet world and scripts what happens to it.

A scenario names subnets, simulated participants (chain-side validators and miners that need no
process: validators set weights on a schedule, miners just hold a UID), funded dev accounts, and
events by block: deregister a hotkey through a competing registration, change a stake by a
percentage, halt block production for a while, inject RPC faults on the server, change a
hyperparameter, and the governance and registration kinds of :mod:`simnet.scenario_events`
(coldkey swaps, take, childkeys, registration bursts). ``root:`` and ``emission:`` set up the
root subnet and the ranked block emission (:mod:`simnet.scenario_economy`); simulated
validators on a commit-reveal subnet commit (:mod:`simnet.scenario_commits`). The bundled
``default.yaml`` is what ``taowatch demo`` runs.

A malformed scenario fails with the file, the field and what was expected
(:class:`common.config.ConfigError`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import structlog
from bittensor import keyfiles
from pydantic import Field, field_validator, model_validator

from common.config import ConfigError, StrictModel, load_config
from simnet import scenario_emission as emission
from simnet import scenario_mechanisms as mech
from simnet.runtime import Runtime, RuntimeSpec
from simnet.scenario_commits import commit_in_escrow
from simnet.scenario_economy import Emission, Root, apply_emission, create_root, stake_on_root
from simnet.scenario_events import Event, FaultSpec, GovernanceEvents

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

    @field_validator("uri")
    @classmethod
    def _derivable(cls, uri: str | None) -> str | None:
        if uri is not None:
            try:
                keyfiles.Keypair.create_from_uri(uri)
            except Exception:  # the SDK raises several types for a malformed URI
                raise ValueError(
                    "not a dev account URI; write it like //Alice or //Alice//stash, "
                    "or give the account's ss58 instead"
                ) from None
        return uri

    @field_validator("ss58")
    @classmethod
    def _address(cls, ss58: str | None) -> str | None:
        if ss58 is not None:
            try:
                keyfiles.Keypair(ss58_address=ss58)
            except Exception:
                raise ValueError(
                    "not an ss58 address; copy it from `btcli wallet overview`, or give a dev "
                    "uri such as //Alice instead"
                ) from None
        return ss58

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
    # How the keys derive from the name: "uri" (//simnet/<name>, as a dev would type it) or
    # "seed" (a hash of the name as the seed: ~50x faster, what generated worlds use).
    keys: Literal["uri", "seed"] = "uri"


class SubnetSpec(StrictModel):
    # Netuid 0 is the scenario's `root:` block; subtensor's netuids stop at 4095.
    netuid: Annotated[int, Field(ge=1, le=4095)]
    tempo: PosInt = 360
    max_uids: PosInt = 256
    max_validators: PosInt = 64
    immunity_period: NonNegInt = 5000
    activity_cutoff: PosInt = 5000
    burn_tao: Annotated[float, Field(ge=0)] = 1.0
    weights_rate_limit: NonNegInt = 100
    min_allowed_weights: NonNegInt = 1
    commit_reveal: bool = False
    reveal_period_epochs: PosInt = 1  # epochs from a commit to its reveal
    # The moving burn (simnet.burn): with min and max unset the burn stays at burn_tao.
    min_burn_tao: Annotated[float, Field(ge=0)] | None = None
    max_burn_tao: Annotated[float, Field(ge=0)] | None = None
    burn_half_life: NonNegInt = 360
    burn_increase_mult: Annotated[float, Field(ge=1, le=3)] = 1.26
    # Pruning keeps this many non-immune uids before it takes an immune one (chain: 10).
    min_non_immune_uids: NonNegInt = 0
    # Yuma3 is on for new subnets on chain; the bundled worlds ask for original Yuma for now.
    yuma3: bool = False
    liquid_alpha: bool = False  # Yuma3 only: per-bond EMA rates from consensus (alpha_low/high)
    null_consensus: bool = False  # SubnetEpochConsensus Null (simnet.subnet_epoch)
    # SubnetEmissionEnabled: a subnet registered on today's chain starts with it off.
    emission_enabled: bool = True
    emission_tao_per_block: Annotated[float, Field(ge=0)] = 1.0
    # The subnet's constant-product pool: its depth sets how far a stake moves the price.
    pool_tao: Annotated[float, Field(gt=0)] = 100_000.0
    alpha_price_tao: Annotated[float, Field(gt=0)] = 0.25
    mechanisms: mech.MechanismCount = 1  # simnet.scenario_mechanisms
    mechanism_split: list[mech.Share] | None = None
    neurons: list[SimNeuron] = []

    @model_validator(mode="after")
    def _fits(self) -> SubnetSpec:
        # Registering past max_uids would evict the scenario's own neurons (or fail when all
        # are immune), so the world would not be the one the file describes.
        if len(self.neurons) > self.max_uids:
            raise ValueError(
                f"neurons: {len(self.neurons)} neurons do not fit in max_uids {self.max_uids}; "
                "raise max_uids or remove neurons"
            )
        seen: dict[str, int] = {}
        for i, n in enumerate(self.neurons):
            # A neuron's keys derive from its name: two entries would be one hotkey twice.
            if n.name in seen:
                raise ValueError(
                    f"neurons[{i}].name: {n.name!r} is already neurons[{seen[n.name]}].name; "
                    "give every neuron of a subnet its own name"
                )
            seen[n.name] = i
        mech.check_subnet(self.mechanisms, self.mechanism_split, self.max_uids)
        return self


class Scale(StrictModel):
    """A generated world, for benches: ``subnets`` subnets of ``neurons`` simulated neurons.

    Netuids run from ``first_netuid`` up; on each subnet the first ``validators`` neurons are
    honest validators (staked, weights every ``weights_every`` blocks), the rest miners of
    spread quality. Names are ``g<netuid>-<i>``, so keys derive as for written-out neurons.
    ``{subnets: 128, neurons: 256}`` is the whole network (32 768 neurons) in five lines
    instead of 33 000.
    """

    subnets: Annotated[int, Field(ge=1, le=4096)]
    neurons: PosInt = 256
    validators: NonNegInt = 8
    first_netuid: Annotated[int, Field(ge=1)] = 1
    tempo: PosInt = 360
    weights_every: PosInt = 100
    validator_stake_tao: Annotated[float, Field(ge=0)] = 1000.0

    @model_validator(mode="after")
    def _fits(self) -> Scale:
        if self.validators > self.neurons:
            raise ValueError(f"validators ({self.validators}) exceeds neurons ({self.neurons})")
        if self.first_netuid + self.subnets - 1 > 65535:
            raise ValueError("first_netuid + subnets - 1 must stay within netuid 65535")
        return self

    def subnet_specs(self) -> list[SubnetSpec]:
        # model_construct: 32k neurons built from values this class already checked;
        # validating each again would dominate a bench world's setup.
        out = []
        for netuid in range(self.first_netuid, self.first_netuid + self.subnets):
            neurons = [
                SimNeuron.model_construct(
                    name=f"g{netuid}-{i}",
                    role="validator",
                    stake_tao=self.validator_stake_tao * (1 + i / 10),
                    weights="honest",
                    every=self.weights_every,
                    quality=0.5,
                    keys="seed",
                )
                for i in range(self.validators)
            ] + [
                SimNeuron.model_construct(
                    name=f"g{netuid}-{i}",
                    role="miner",
                    stake_tao=0.0,
                    weights="honest",
                    every=10,
                    quality=(i % 100) / 100,
                    keys="seed",
                )
                for i in range(self.validators, self.neurons)
            ]
            out.append(
                SubnetSpec(
                    netuid=netuid,
                    tempo=self.tempo,
                    max_uids=self.neurons,
                    max_validators=max(1, min(64, self.validators)),
                    weights_rate_limit=min(100, self.weights_every),
                    neurons=neurons,
                )
            )
        return out


class Scenario(StrictModel):
    name: str = "unnamed"
    description: str = ""
    block_time: Annotated[float, Field(gt=0)] = 12.0
    seed: int = 0
    accounts: list[Account] = []
    subnets: list[SubnetSpec] = []
    # Generated subnets after the written ones (see Scale).
    scale: Scale | None = None
    # Netuid 0 with TAO stake, and the ranked block emission (simnet.scenario_economy).
    root: Root | None = None
    emission: Emission | None = None
    # The runtime simnet answers as (simnet.runtime); today's when absent.
    runtime: RuntimeSpec | None = None
    events: list[Event] = []

    @cached_property
    def all_subnets(self) -> tuple[SubnetSpec, ...]:
        """The written subnets, then the generated ones."""
        generated = self.scale.subnet_specs() if self.scale is not None else []
        return (*self.subnets, *generated)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        netuids = [s.netuid for s in self.all_subnets]
        if len(set(netuids)) != len(netuids):
            raise ValueError(
                "subnets: each netuid may appear once (scale generates netuids "
                "scale.first_netuid onwards: start it after the written subnets)"
            )
        names = {n.name for s in self.all_subnets for n in s.neurons}
        for i, st in enumerate(self.root.stakes if self.root else []):
            if st.hotkey not in names and not st.hotkey.startswith("5"):
                raise ValueError(
                    f"root.stakes[{i}].hotkey: {st.hotkey!r} is neither a simulated neuron's "
                    "name nor an ss58 address"
                )
        for i, ev in enumerate(self.events):
            if ev.netuid is not None and ev.netuid not in netuids:
                raise ValueError(
                    f"events[{i}]: netuid {ev.netuid} is not in subnets ({ev.kind}.netuid)"
                )
            if ev.mechanism_split is not None:
                count = next(s for s in self.all_subnets if s.netuid == ev.netuid).mechanisms
                mech.check_split(ev.mechanism_split.split, count, f"events[{i}].mechanism_split")
            for ref in ev.neuron_refs:
                if ref not in names and not ref.startswith("5"):
                    raise ValueError(
                        f"events[{i}].{ev.kind}: {ref!r} is neither a simulated neuron's name "
                        "nor an ss58 address"
                    )
        return self


def scenario_path(path: str | Path | None = None) -> Path:
    """The file a ``--scenario`` value names; ``None`` or ``"default"`` is the bundled one."""
    if path is None or str(path) == "default":
        return DEFAULT_SCENARIO
    return Path(path).expanduser()


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a scenario file; ``None`` or ``"default"`` gives the bundled default."""
    return load_config(Scenario, scenario_path(path))


def neuron_keypair(name: str) -> keyfiles.Keypair:
    return keyfiles.Keypair.create_from_uri(f"//simnet/{name}")


def neuron_coldkey(name: str) -> keyfiles.Keypair:
    return keyfiles.Keypair.create_from_uri(f"//simnet/{name}/coldkey")


def simulated_keys(n: SimNeuron) -> tuple[keyfiles.Keypair, keyfiles.Keypair]:
    """(hotkey, coldkey) of a simulated neuron, derived from its name as ``n.keys`` says."""
    if n.keys == "uri":
        return neuron_keypair(n.name), neuron_coldkey(n.name)
    seed = lambda path: hashlib.blake2b(path.encode(), digest_size=32).digest()  # noqa: E731
    return (
        keyfiles.Keypair.create_from_seed(seed(f"simnet/{n.name}")),
        keyfiles.Keypair.create_from_seed(seed(f"simnet/{n.name}/coldkey")),
    )


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
        source: str = "scenario",
    ):
        self.chain = chain
        # The scenario's file, named in the ConfigError a world that cannot be built raises.
        self.source = source
        self.scenario = scenario
        self.on_faults = on_faults
        self.rng = random.Random(scenario.seed)
        self.names: dict[str, str] = {}  # simulated neuron name -> hotkey ss58
        self.coldkeys: dict[str, str] = {}  # simulated neuron name -> coldkey ss58
        self.governance_events = GovernanceEvents(
            chain, hotkey=self.hotkey, coldkey=self.coldkey, note=self._note, seed=scenario.seed
        )
        self.quality: dict[tuple[int, str], float] = {}  # (netuid, hotkey) -> miner quality
        self._fault_clear_at: int | None = None
        self._resume_handle: asyncio.TimerHandle | None = None
        self._pending = sorted(scenario.events, key=lambda e: e.at)
        self.log: list[tuple[int, str]] = []  # (block, what happened), for status and tests

    # -- genesis -----------------------------------------------------------------------------

    def build(self) -> World:
        """Set up genesis; a scenario the chain refuses raises ``ConfigError`` naming the field.

        The model catches what it can see in the file; what only the chain knows (a stake
        below its minimum, a pool that cannot pay it out) surfaces here, still as a config
        problem rather than a traceback.
        """
        with self.chain.ledger.one_reseal():
            return self._build()

    def _build(self) -> World:
        sc, chain = self.scenario, self.chain
        chain.runtime = Runtime.of(sc.runtime)
        if sc.emission is not None:
            apply_emission(chain, sc.emission)
        if sc.root is not None:
            with self._field("root"):
                create_root(chain, sc.root)
        for i, acct in enumerate(sc.accounts):
            with self._field(f"accounts[{i}]"):
                chain.fund(acct.address, round(acct.tao * 1e9))
        for i, spec in enumerate(sc.all_subnets):
            with self._field(f"subnets[{i}]"):
                self._create_subnet(spec)
            for j, n in enumerate(spec.neurons):
                with self._field(f"subnets[{i}].neurons[{j}] ({n.name})"):
                    self._add_neuron(spec, n)
        for i, st in enumerate(sc.root.stakes if sc.root else []):
            with self._field(f"root.stakes[{i}] ({st.hotkey})"):
                stake_on_root(chain, self.hotkey(st.hotkey), self.coldkeys.get(st.hotkey), st.tao)
        chain.on_block(self._on_block)
        return self

    @contextlib.contextmanager
    def _field(self, where: str) -> Iterator[None]:
        try:
            yield
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                self.source, [f"{where}: the chain refuses it: {exc}; change this entry"]
            ) from None

    def _create_subnet(self, spec: SubnetSpec) -> None:
        self.chain.create_subnet(
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
            liquid_alpha_on=spec.liquid_alpha,
            null_consensus_enabled=spec.null_consensus,
            **registration_params(spec),
            emission_per_block_rao=round(spec.emission_tao_per_block * 1e9),
            tao_in_rao=round(spec.pool_tao * 1e9),
            alpha_in_rao=round(spec.pool_tao / spec.alpha_price_tao * 1e9),
        )
        mech.apply_subnet(self.chain, spec.netuid, spec.mechanisms, spec.mechanism_split)
        self.chain.economy.set_emission_enabled(spec.netuid, spec.emission_enabled)

    def _add_neuron(self, spec: SubnetSpec, n: SimNeuron) -> None:
        chain = self.chain
        hot, cold = simulated_keys(n)
        self.names[n.name] = hot.ss58_address
        self.coldkeys[n.name] = cold.ss58_address
        stake_rao = round(n.stake_tao * 1e9)
        # The moving burn climbs with every genesis registration: pay what it costs now.
        chain.fund(cold.ss58_address, stake_rao + chain.subnet(spec.netuid).burn_rao + 10**9)
        chain.register(spec.netuid, hot.ss58_address, cold.ss58_address)
        if stake_rao:
            chain.add_stake(cold.ss58_address, hot.ss58_address, spec.netuid, stake_rao)
        if n.role == "miner":
            # Simulated miners publish no axon: they have no server to answer, and a
            # validator must never be sent off this machine to look for one.
            self.quality[(spec.netuid, hot.ss58_address)] = n.quality

    def hotkey(self, name_or_ss58: str) -> str:
        return self.names.get(name_or_ss58, name_or_ss58)

    def coldkey(self, name_or_ss58: str) -> str:
        return self.coldkeys.get(name_or_ss58, name_or_ss58)

    # -- every block ---------------------------------------------------------------------------

    def _on_block(self, chain, block: int) -> None:
        for spec in self.scenario.all_subnets:
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
        values = [round(w / top * 65535) for w in weights]
        sn = self.chain.subnet(netuid)
        # Every mechanism judges the same miners (simnet.mechanisms): one row each.
        for mechid in range(sn.mechanism_count):
            try:
                if sn.commit_reveal:
                    commit_in_escrow(self.chain, netuid, hot, uids, values, block, mechid=mechid)
                else:
                    self.chain.set_weights(netuid, hot, uids, values, mechid=mechid)
            except Exception as exc:  # rate limit, deregistered...: a real validator retries
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
                old = self.chain.subnets.hyperparameter(h.netuid, h.name)
                self.chain.set_hyperparameter(h.netuid, h.name, h.value)
                self._note(block, f"hyperparameter {h.name} on {h.netuid}: {old} -> {h.value}")
            elif ev.mechanism_split:
                self._note(block, mech.fire_split(self.chain, ev.mechanism_split))
            elif u := ev.unopenable_commit:
                who = self.hotkey(u.hotkey) if u.hotkey else None
                self.chain.commit_reveal.fail_to_open(u.netuid, who, u.count)
                self._note(block, f"next {u.count} commit(s) of {who or 'any'} will not open")
            elif ev.runtime_upgrade:
                old = self.chain.runtime
                new = self.chain.runtime = old.upgraded(ev.runtime_upgrade)
                self._note(block, f"runtime upgraded: {old.describe()} -> {new.describe()}")
            elif ev.emission_switch:
                self._note(block, emission.fire_switch(self.chain, ev.emission_switch))
            elif ev.price_move:
                self._note(block, emission.fire_price_move(self.chain, ev.price_move))
            else:
                self.governance_events.fire(ev, block)
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


__all__ = [
    "DEFAULT_SCENARIO",
    "ConfigError",
    "Event",
    "FaultSpec",
    "Scale",
    "Scenario",
    "World",
    "load_scenario",
]


def registration_params(spec: SubnetSpec) -> dict[str, int | float]:
    """A subnet spec's commit-reveal period, moving burn and pruning floor, for ``create``."""
    burn = round(spec.burn_tao * 1e9)
    low = burn if spec.min_burn_tao is None else round(spec.min_burn_tao * 1e9)
    high = burn if spec.max_burn_tao is None else round(spec.max_burn_tao * 1e9)
    if not low <= burn <= high:
        raise ValueError(
            f"subnet {spec.netuid}: burn_tao {spec.burn_tao} must lie between min_burn_tao "
            f"and max_burn_tao; fix the scenario's subnet entry"
        )
    return {
        "reveal_period_epochs": spec.reveal_period_epochs,
        "min_burn_rao": low,
        "max_burn_rao": high,
        "burn_half_life": spec.burn_half_life,
        "burn_increase_mult": spec.burn_increase_mult,
        "min_non_immune_uids": spec.min_non_immune_uids,
    }
