"""The simulated chain: subnets, neurons, balances, stake, blocks and epochs.

:class:`Chain` is a thin facade over one component per concern; each component takes what it
needs in its constructor and its module says what it models, following subtensor where it
matters to monitoring:

* :mod:`simnet.ledger` — block numbers and hashes, finality, events, the sealed history.
* :mod:`simnet.production` — what a block does, in order.
* :mod:`simnet.account_book` and :mod:`simnet.accounts` — balances, nonces, hotkey ownership,
  and every change to them.
* :mod:`simnet.subnets` — subnets and their hyperparameters.
* :mod:`simnet.registration` — burned registration, eviction and immunity.
* :mod:`simnet.stake` — alpha positions and the constant-product pool.
* :mod:`simnet.weights` — ``set_weights`` and ``serve_axon``.
* :mod:`simnet.commit_reveal` and :mod:`simnet.timelock` — timelocked commits and their
  reveal; :mod:`simnet.burn` — the registration price that moves.
* :mod:`simnet.epoch` — the epoch schedule and its payout; :mod:`simnet.subnet_epoch` — the
  adapter to :mod:`simnet.yuma`.
* :mod:`simnet.pool` and :mod:`simnet.dispatch` — the transaction pool and the call table.
* :mod:`simnet.records` — the immutable records they pass around, and the errors.

* :mod:`simnet.economy` — the root subnet, TAO stake weight, block emission and its shares.
* :mod:`simnet.governance` — coldkey swaps, delegate take, childkeys.

The epoch follows each subnet's switches: Yuma3 (on for new subnets) with liquid alpha, the
bonds reset on a metadata commitment (``Commitments.set_commitment``; the commitment itself is
not stored), ``activity_cutoff_factor`` and null-consensus subnets (see :mod:`simnet.epoch`).

Mechanisms (sub-subnets) with their own weights, bonds and epoch: :mod:`simnet.mechanisms`.

What it simplifies: no owner cut or swap fees (:mod:`simnet.economy`
and :mod:`simnet.governance` list what they leave out); ``rank``/``trust`` are 0 and
``pruning_score`` is u16::MAX as the current runtime reports; transaction fees are a flat
``FEE_RAO`` charged to coldkey-signed calls (weights and serving are free, as on chain);
commit-reveal subnets refuse plaintext weights (``CommitRevealEnabled``) and take timelocked
commits, which open only through the chain's timelock openers (recorded drand pulses, or the
plaintext escrow offline: see :mod:`simnet.timelock`); no PoW registration; deregistration
emits no event, as on chain. Direct calls on :class:`Chain` (``fund``, ``register``,
``set_hyperparameter``...) are the operator's privileged setup path: they apply at once to
the current head and skip per-block registration limits; signed extrinsics go through the
pool and the full checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from simnet.account_book import AccountBook
from simnet.accounts import Balances
from simnet.commit_reveal import CommitReveal
from simnet.dispatch import FREE_CALLS, CallTable
from simnet.economy import Economy, EmissionSchedule
from simnet.epoch import Epochs
from simnet.governance import Governance
from simnet.ledger import Ledger
from simnet.mechanisms import Mechanisms
from simnet.pool import TxPool
from simnet.production import BlockProducer
from simnet.records import (
    EMPTY_AXON,
    EXISTENTIAL_DEPOSIT_RAO,
    FEE_RAO,
    MIN_STAKE_RAO,
    NULL_ACCOUNT,
    RAO_PER_TAO,
    U16_MAX,
    Accounts,
    Axon,
    BlockRecord,
    BlockUnavailable,
    ChainFailure,
    EventRecord,
    Extrinsic,
    Neuron,
    Pending,
    Receipt,
    Subnet,
)
from simnet.registration import Registrar
from simnet.runtime import Runtime
from simnet.stake import StakePool
from simnet.subnet_epoch import EpochOutcome, run_subnet_epoch
from simnet.subnets import HYPERPARAMETERS, Subnets
from simnet.timelock import DrandPulses, PlaintextEscrow, TimelockOpener
from simnet.weights import Weights

__all__ = (
    "EMPTY_AXON",
    "EXISTENTIAL_DEPOSIT_RAO",
    "FEE_RAO",
    "FREE_CALLS",
    "HYPERPARAMETERS",
    "MIN_STAKE_RAO",
    "NULL_ACCOUNT",
    "RAO_PER_TAO",
    "U16_MAX",
    "Accounts",
    "Axon",
    "BlockRecord",
    "BlockUnavailable",
    "Chain",
    "ChainFailure",
    "EpochOutcome",
    "EventRecord",
    "Extrinsic",
    "Neuron",
    "Pending",
    "Receipt",
    "Subnet",
    "run_subnet_epoch",
)


class Chain:
    """The whole simulated chain. Not thread-safe by itself: drive it from one thread (the
    clock, the server and in-process clients share one asyncio loop); a lock guards ``step``
    against accidental reentry from a hook."""

    def __init__(
        self,
        *,
        block_time: float = 12.0,
        start_block: int = 1,
        finality_lag: int = 2,
        seed: int = 0,
        history_blocks: int = 300,
        genesis_unix: float = 1_700_000_000.0,
        genesis_nonce: str = "",
        timelock_openers: tuple[TimelockOpener, ...] | None = None,
        emission: EmissionSchedule | None = None,
    ):
        """``timelock_openers`` open commit-reveal commits, tried in order; by default the
        chain's own :attr:`drand_pulses` then :attr:`timelock_escrow`."""
        self.halted = False
        # The runtime reads are answered as (simnet.runtime): today's unless a scenario
        # starts an older one or upgrades it.
        self.runtime = Runtime()
        # Set by a running BlockClock: submissions then wait for the next produced block
        # instead of producing one themselves.
        self.auto_blocks = False
        table: dict[int, Subnet] = {}
        book = AccountBook()
        self.ledger = Ledger(
            subnets=table,
            accounts=book,
            block_time=block_time,
            start_block=start_block,
            finality_lag=finality_lag,
            seed=seed,
            history_blocks=history_blocks,
            genesis_unix=genesis_unix,
            genesis_nonce=genesis_nonce,
        )
        self.balances = Balances(book, self.ledger)
        self.subnets = Subnets(table, self.ledger, self.balances)
        self.registrar = Registrar(self.subnets, self.ledger, self.balances)
        self.stake = StakePool(self.subnets, self.ledger, self.balances)
        self.weights = Weights(self.subnets, self.ledger)
        self.drand_pulses = DrandPulses()
        self.timelock_escrow = PlaintextEscrow()
        openers = (
            (self.drand_pulses, self.timelock_escrow)
            if timelock_openers is None
            else tuple(timelock_openers)
        )
        self.commit_reveal = CommitReveal(self.subnets, self.ledger, self.weights, openers)
        self.economy = Economy(self.subnets, self.ledger, emission)
        self.governance = Governance(self.subnets, self.ledger, self.balances, book)
        self.epochs = Epochs(self.ledger, self.economy)
        self.mechanisms = Mechanisms(self.subnets, self.ledger)
        self.calls = CallTable(
            ledger=self.ledger,
            balances=self.balances,
            subnets=self.subnets,
            registrar=self.registrar,
            stake=self.stake,
            weights=self.weights,
            commit_reveal=self.commit_reveal,
            governance=self.governance,
            mechanisms=self.mechanisms,
        )
        self.pool = TxPool(self.ledger, self.balances, self.calls)
        self.producer = BlockProducer(
            self.ledger,
            self.subnets,
            self.epochs,
            self.pool,
            self.commit_reveal,
            coinbase=self.economy.coinbase,
        )
        self.producer.on_block(self.governance.apply_due_children)

    # ---------------------------------------------------------------- blocks and hashes

    @property
    def block_time(self) -> float:
        return self.ledger.block_time

    @property
    def seed(self) -> int:
        return self.ledger.seed

    @property
    def genesis_nonce(self) -> str:
        return self.ledger.genesis_nonce

    @property
    def finality_lag(self) -> int:
        return self.ledger.finality_lag

    @property
    def history_blocks(self) -> int:
        return self.ledger.history_blocks

    @property
    def head(self) -> int:
        return self.ledger.head

    @property
    def finalized(self) -> int:
        return self.ledger.finalized

    @property
    def building_block(self) -> int:
        """The block whose state changes are being made now (head + 1 inside ``step``)."""
        return self.ledger.building_block

    def block_hash(self, n: int) -> str:
        return self.ledger.block_hash(n)

    def block_of(self, block_hash: str) -> int:
        return self.ledger.block_of(block_hash)

    def timestamp_ms(self, n: int) -> int:
        return self.ledger.timestamp_ms(n)

    def record(self, n: int | None = None) -> BlockRecord:
        """The sealed state at block ``n`` (the head when None)."""
        return self.ledger.record(n)

    def on_block(self, hook: Callable[[Chain, int], None]) -> None:
        self.producer.on_block(lambda b: hook(self, b))

    def step(self, n: int = 1) -> None:
        self.producer.step(n)

    def finalize_to_head(self) -> None:
        """Manual mode: let finality catch up so a waiting client need not step the chain."""
        self.ledger.finalize_to_head()

    def when_finalized(self, block: int, fn: Callable[[], None]) -> None:
        """Call ``fn`` once the finalized head reaches ``block`` (at once if it has)."""
        self.ledger.when_finalized(block, fn)

    # ---------------------------------------------------------------- subnets

    def subnet(self, netuid: int) -> Subnet:
        return self.subnets.get(netuid)

    @property
    def netuids(self) -> list[int]:
        return self.subnets.netuids

    def create_subnet(self, netuid: int, **params: Any) -> Subnet:
        """See :meth:`simnet.subnets.Subnets.create` for the parameters and their defaults."""
        return self.subnets.create(netuid, **params)

    def set_hyperparameter(self, netuid: int, name: str, value: Any) -> None:
        self.subnets.set_hyperparameter(netuid, name, value)

    def create_root(self, **params: Any) -> Subnet:
        """Netuid 0; see :meth:`simnet.economy.Economy.create_root`."""
        return self.economy.create_root(**params)

    # ---------------------------------------------------------------- accounts

    def balance(self, ss58: str) -> int:
        return self.balances.balance(ss58)

    def nonce(self, ss58: str) -> int:
        return self.balances.nonce(ss58)

    def owner_of(self, hotkey: str) -> str | None:
        return self.balances.owner_of(hotkey)

    def fund(self, coldkey_ss58: str, rao: int) -> None:
        self.balances.fund(coldkey_ss58, rao)

    def transfer(self, src: str, dest: str, rao: int, *, keep_alive: bool = False) -> None:
        self.balances.transfer(src, dest, rao, keep_alive=keep_alive)

    # ---------------------------------------------------------------- registration

    def neuron_to_evict(self, netuid: int) -> int | None:
        """The uid a registration on a full subnet would replace, or None if all are immune."""
        return self.registrar.neuron_to_evict(netuid)

    def register(
        self, netuid: int, hotkey: str, coldkey: str, *, burn: bool = True, evict: str | None = None
    ) -> int:
        """Operator registration (no per-block limit); see :meth:`Registrar.register`."""
        return self.registrar.register(netuid, hotkey, coldkey, burn=burn, evict=evict)

    # ---------------------------------------------------------------- stake

    def sim_tao_for_alpha(self, netuid: int, tao_rao: int) -> int:
        return self.stake.sim_tao_for_alpha(netuid, tao_rao)

    def sim_alpha_for_tao(self, netuid: int, alpha_rao: int) -> int:
        return self.stake.sim_alpha_for_tao(netuid, alpha_rao)

    def add_stake(
        self, coldkey: str, hotkey: str, netuid: int, tao_rao: int, *, limit_price=None
    ) -> int:
        return self.stake.add_stake(coldkey, hotkey, netuid, tao_rao, limit_price=limit_price)

    def remove_stake(
        self, coldkey: str, hotkey: str, netuid: int, alpha_rao: int, *, limit_price=None
    ) -> int:
        return self.stake.remove_stake(coldkey, hotkey, netuid, alpha_rao, limit_price=limit_price)

    def stake_alpha(self, netuid: int, hotkey: str, coldkey: str | None = None) -> int:
        return self.stake.stake_alpha(netuid, hotkey, coldkey)

    def set_stake(self, netuid: int, hotkey: str, coldkey: str, alpha_rao: int) -> None:
        self.stake.set_stake(netuid, hotkey, coldkey, alpha_rao)

    def scale_stake(self, netuid: int, hotkey: str, factor: float) -> None:
        self.stake.scale_stake(netuid, hotkey, factor)

    # ---------------------------------------------------------------- weights and serving

    def set_weights(
        self,
        netuid: int,
        hotkey: str,
        uids: Iterable[int],
        weights_u16: Iterable[int],
        *,
        version_key: int = 0,
        mechid: int = 0,
    ) -> None:
        self.weights.set_weights(
            netuid, hotkey, uids, weights_u16, version_key=version_key, mechid=mechid
        )

    def set_mechanism_count(self, netuid: int, count: int) -> None:
        self.mechanisms.set_count(netuid, count)

    def set_mechanism_split(self, netuid: int, split: list[int] | None) -> None:
        """u16 shares summing to 65535 (``simnet.mechanisms.u16_split`` makes them)."""
        self.mechanisms.set_split(netuid, split)

    def serve_axon(self, netuid: int, hotkey: str, ip: int, port: int, **axon: int) -> None:
        """See :meth:`simnet.weights.Weights.serve_axon` for the axon fields."""
        self.weights.serve_axon(netuid, hotkey, ip, port, **axon)

    # ---------------------------------------------------------------- the pool

    def validate(self, ext: Extrinsic) -> None:
        """Pool-level validity (nonce, fee): a failure here never reaches a block."""
        self.pool.validate(ext)

    def submit(self, ext: Extrinsic) -> Pending:
        """Validate and queue; the next ``step`` includes it."""
        return self.pool.submit(ext)

    def record_shield_inner(self, ext: Extrinsic) -> None:
        """A signed inner extrinsic made for a MEV-shield carrier; the carrier from the same
        signer at nonce ``ext.nonce - 1`` brings it into the block (the chain's "decryption")."""
        self.pool.park_shield_inner(ext)

    def next_index(self, ss58: str) -> int:
        return self.pool.next_index(ss58)
