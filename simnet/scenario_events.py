"""Scenario events: the YAML models of ``events[i]`` and how the governance and registration
kinds act on a chain.

Each event has ``at`` (a block) and exactly one kind. The kinds that only the world can apply
(``deregister``, ``stake``, ``halt``, ``faults``, ``hyperparameter``) are fired by
:class:`simnet.scenario.World`; the ones below go through the chain's own rule components
(:mod:`simnet.governance`, :mod:`simnet.registration`), so the storage the SDK reads and the
runtime events are the ones a signed call would leave:

* ``coldkey_swap`` — announce (stores the hash of ``new_coldkey``), dispute, reset (root's
  reset: announcement and dispute cleared), execute (refused, with the runtime's error noted,
  until the chain's announcement delay has passed), root_swap (root's ``swap_coldkey``:
  executes at once, disputed or not). An executed swap writes ``ColdkeySuccessor``.
* ``take`` — the hotkey's owner increases or decreases its delegate take to ``percent``.
* ``childkeys`` — the parent's owner proposes children; they are pending until the cooldown.
* ``registration_burst`` — ``count`` fresh seeded keys register in one block: every
  registration bumps the burn and, on a full subnet, prunes a neuron.
* ``unopenable_commit`` — the chain fails to open the next ``count`` weight commits of a
  hotkey (any validator when absent) on a subnet, and drops them unrevealed.

``emission_switch`` and ``price_move`` are :mod:`simnet.scenario_emission`'s.

Simplified against subtensor: the calls are applied inside the block by the world, not
included as signed extrinsics (no nonce, no fee, no ``ExtrinsicSuccess``), and the burst
skips the per-block registration limit, as operator registrations do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

from bittensor import keyfiles
from pydantic import Field, field_validator, model_validator

from common.config import StrictModel
from simnet.governance import U64_MAX, coldkey_hash
from simnet.records import RAO_PER_TAO, ChainFailure
from simnet.runtime import RuntimeUpgrade
from simnet.scenario_emission import EmissionSwitch, PriceMove
from simnet.scenario_mechanisms import MechanismSplit

if TYPE_CHECKING:
    from simnet.state import Chain

PosInt = Annotated[int, Field(gt=0)]
U16_PARTS = 65_535


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
    policy_close_rate: Annotated[float, Field(ge=0, le=1)] = 0.0  # the node's 1008 closes
    for_blocks: PosInt | None = None  # then clear; None = until another faults event


class Hyperparameter(StrictModel):
    netuid: int
    name: str
    value: int | float | bool


def account_address(value: str) -> str:
    """An ss58 address, or the address of a dev URI such as ``//Eve``."""
    if value.startswith("//"):
        try:
            return keyfiles.Keypair.create_from_uri(value).ss58_address
        except Exception:  # the SDK raises several types for a malformed URI
            raise ValueError(
                f"{value!r} is not a dev account URI; write it like //Eve or //Eve//stash"
            ) from None
    try:
        keyfiles.Keypair(ss58_address=value)
    except Exception:
        raise ValueError(
            f"{value!r} is not an ss58 address; copy it from `btcli wallet overview`, "
            "or give a dev uri such as //Eve"
        ) from None
    return value


class ColdkeySwap(StrictModel):
    coldkey: str  # a simulated neuron's name (its coldkey) or an ss58 address
    # root_swap: root's swap_coldkey, which executes at once (disputed or not) and clears both
    action: Literal["announce", "dispute", "reset", "execute", "root_swap"]
    # The coldkey that takes over: an ss58 address or a dev URI (//Eve). Required to announce;
    # execute falls back to the one this world announced.
    new_coldkey: str | None = None

    @field_validator("new_coldkey")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            account_address(value)
        return value

    @model_validator(mode="after")
    def _announce_names_the_new_coldkey(self) -> ColdkeySwap:
        if self.action == "announce" and self.new_coldkey is None:
            raise ValueError(
                "new_coldkey: required to announce; give an ss58 address or a dev uri like //Eve"
            )
        return self

    @property
    def new_address(self) -> str | None:
        return None if self.new_coldkey is None else account_address(self.new_coldkey)


class Take(StrictModel):
    hotkey: str
    # The chain caps take at 18% (11_796 of u16::MAX); above that the runtime refuses it.
    percent: Annotated[float, Field(ge=0, le=100)]


class Child(StrictModel):
    hotkey: str
    proportion: Annotated[float, Field(gt=0, le=1)]


class Childkeys(StrictModel):
    netuid: int
    hotkey: str
    children: list[Child]  # empty revokes the parent's children after the cooldown

    @model_validator(mode="after")
    def _a_whole_at_most(self) -> Childkeys:
        total = sum(c.proportion for c in self.children)
        if total > 1 + 1e-9:
            raise ValueError(
                f"children: proportions sum to {total:g}, more than the parent's whole (1); "
                "lower them"
            )
        return self


class UnopenableCommit(StrictModel):
    """The chain fails to open the next ``count`` commits of ``hotkey`` (any when absent) on
    ``netuid`` at their reveal (``simnet.commit_reveal.CommitReveal.fail_to_open``)."""

    netuid: int
    hotkey: str | None = None
    count: PosInt = 1


class RegistrationBurst(StrictModel):
    netuid: int
    count: Annotated[int, Field(gt=0, le=4096)]


EVENT_KINDS = (
    "deregister",
    "stake",
    "halt",
    "faults",
    "hyperparameter",
    "coldkey_swap",
    "take",
    "childkeys",
    "registration_burst",
    "mechanism_split",
    "runtime_upgrade",
    "unopenable_commit",
    "emission_switch",
    "price_move",
)


class Event(StrictModel):
    at: PosInt  # block number at which the event fires
    deregister: Deregister | None = None
    stake: StakeChange | None = None
    halt: Halt | None = None
    faults: FaultSpec | None = None
    hyperparameter: Hyperparameter | None = None
    coldkey_swap: ColdkeySwap | None = None
    take: Take | None = None
    childkeys: Childkeys | None = None
    registration_burst: RegistrationBurst | None = None
    mechanism_split: MechanismSplit | None = None
    runtime_upgrade: RuntimeUpgrade | None = None  # simnet.runtime
    unopenable_commit: UnopenableCommit | None = None
    emission_switch: EmissionSwitch | None = None
    price_move: PriceMove | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Event:
        kinds = [k for k in EVENT_KINDS if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                f"each event has `at` and exactly one of {', '.join(EVENT_KINDS)} "
                f"(got {', '.join(kinds) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in EVENT_KINDS if getattr(self, k))

    @property
    def netuid(self) -> int | None:
        """The subnet the event targets, if it targets one."""
        target = (
            self.deregister
            or self.stake
            or self.hyperparameter
            or self.childkeys
            or self.registration_burst
            or self.mechanism_split
            or self.unopenable_commit
            or self.emission_switch
            or self.price_move
        )
        return None if target is None else target.netuid

    @property
    def neuron_refs(self) -> list[str]:
        """Every simulated-neuron name or ss58 the event refers to (checked by the scenario)."""
        refs = [
            getattr(
                self.deregister or self.stake or self.take or self.unopenable_commit, "hotkey", None
            )
        ]
        if self.coldkey_swap:
            refs.append(self.coldkey_swap.coldkey)
        if self.childkeys:
            refs += [self.childkeys.hotkey, *(c.hotkey for c in self.childkeys.children)]
        return [r for r in refs if r is not None]


def _failure(exc: Exception) -> str:
    return f"{exc.name}: {exc}" if isinstance(exc, ChainFailure) else str(exc)


class GovernanceEvents:
    """Applies the governance and registration kinds to ``chain``.

    ``hotkey`` and ``coldkey`` resolve a simulated neuron's name (or pass an ss58 through);
    ``note(block, what)`` logs what changed, or the runtime's error when the chain refuses.
    """

    def __init__(
        self,
        chain: Chain,
        *,
        hotkey: Callable[[str], str],
        coldkey: Callable[[str], str],
        note: Callable[[int, str], None],
        seed: int = 0,
    ):
        self._chain = chain
        self._hotkey = hotkey
        self._coldkey = coldkey
        self._note = note
        self._seed = seed
        self._announced: dict[str, str] = {}  # coldkey -> the new coldkey this world announced

    def fire(self, ev: Event, block: int) -> bool:
        """Apply ``ev`` if it is one of these kinds; False when it is not."""
        try:
            if ev.coldkey_swap:
                self.coldkey_swap(ev.coldkey_swap, block)
            elif ev.take:
                self.take(ev.take, block)
            elif ev.childkeys:
                self.childkeys(ev.childkeys, block)
            elif ev.registration_burst:
                self.registration_burst(ev.registration_burst, block)
            else:
                return False
        except ChainFailure as exc:
            self._note(block, f"{ev.kind} at {ev.at} refused by the chain: {_failure(exc)}")
        return True

    def coldkey_swap(self, swap: ColdkeySwap, block: int) -> None:
        gov, old = self._chain.governance, self._coldkey(swap.coldkey)
        who = f"coldkey swap of {swap.coldkey}"
        if swap.action == "announce":
            new = swap.new_address
            assert new is not None  # the model requires it to announce
            execute = gov.announce_coldkey_swap(old, coldkey_hash(new))
            self._announced[old] = new
            self._note(block, f"{who} announced: to {new}, executable from block {execute}")
        elif swap.action == "dispute":
            gov.dispute_coldkey_swap(old)
            self._note(block, f"{who} disputed: frozen until root resets it")
        elif swap.action == "reset":
            gov.reset_coldkey_swap(old)
            self._announced.pop(old, None)
            self._note(block, f"{who} reset by root: announcement and dispute cleared")
        else:
            new = swap.new_address or self._announced.get(old)
            if new is None:
                raise ChainFailure(
                    "ColdkeySwapAnnouncementNotFound",
                    f"{swap.coldkey} has no swap this world announced; give new_coldkey",
                )
            if swap.action == "root_swap":
                gov.swap_coldkey(old, new)
            else:
                gov.swap_coldkey_announced(old, new)
            self._announced.pop(old, None)
            by = " by root" if swap.action == "root_swap" else ""
            self._note(block, f"{who} executed{by}: {old} -> {new}")

    def take(self, take: Take, block: int) -> None:
        gov, hotkey = self._chain.governance, self._hotkey(take.hotkey)
        owner = self._chain.owner_of(hotkey)
        if owner is None:
            raise ChainFailure("HotKeyAccountNotExists", f"hotkey {hotkey} is not registered")
        old, new = gov.take(hotkey), round(take.percent / 100 * U16_PARTS)
        gov.change_take(owner, hotkey, new, increase=new > old)
        self._note(
            block,
            f"take of {take.hotkey}: {old / U16_PARTS:.2%} -> {new / U16_PARTS:.2%}",
        )

    def childkeys(self, spec: Childkeys, block: int) -> None:
        chain, parent = self._chain, self._hotkey(spec.hotkey)
        owner = chain.owner_of(parent)
        if owner is None:
            raise ChainFailure("HotKeyAccountNotExists", f"hotkey {parent} is not registered")
        pairs = [(int(c.proportion * U64_MAX), self._hotkey(c.hotkey)) for c in spec.children]
        old = [c for _p, c in chain.subnet(spec.netuid).children.get(parent, ())]
        cooldown = chain.governance.set_children(owner, parent, spec.netuid, pairs)
        shown = ", ".join(f"{c.hotkey} {c.proportion:g}" for c in spec.children) or "none"
        self._note(
            block,
            f"childkeys of {spec.hotkey} on {spec.netuid}: {len(old)} children -> [{shown}] "
            f"pending until block {cooldown}",
        )

    def registration_burst(self, burst: RegistrationBurst, block: int) -> None:
        chain = self._chain
        sn = chain.subnet(burst.netuid)
        burn_before, n_before = sn.burn_rao, sn.n
        registered = 0
        refusal = ""
        for i in range(burst.count):
            hot, cold = self.burst_keys(burst.netuid, block, i)
            chain.fund(cold.ss58_address, chain.subnet(burst.netuid).burn_rao + RAO_PER_TAO)
            try:
                chain.register(burst.netuid, hot.ss58_address, cold.ss58_address)
            except ChainFailure as exc:  # a full subnet of immune neurons stops the burst
                refusal = f"; the rest refused: {_failure(exc)}"
                break
            registered += 1
        sn = chain.subnet(burst.netuid)
        pruned = registered - (sn.n - n_before)
        self._note(
            block,
            f"registration burst on {burst.netuid}: {registered} registered, {pruned} pruned, "
            f"burn {burn_before / RAO_PER_TAO:g} -> {sn.burn_rao / RAO_PER_TAO:g} TAO{refusal}",
        )

    def burst_keys(
        self, netuid: int, block: int, i: int
    ) -> tuple[keyfiles.Keypair, keyfiles.Keypair]:
        """Fresh (hotkey, coldkey) for the ``i``-th registration of a burst, from the seed."""

        def seeded(role: str) -> keyfiles.Keypair:
            path = f"simnet/burst/{self._seed}/{netuid}/{block}/{i}/{role}"
            return keyfiles.Keypair.create_from_seed(
                hashlib.blake2b(path.encode(), digest_size=32).digest()
            )

        return seeded("hotkey"), seeded("coldkey")
