"""The simulated chain: subnets, neurons, balances, stake, blocks and epochs.

What simnet models, following subtensor where it matters to monitoring:

* **Blocks.** ``Chain.step()`` produces a block: emission accrues, due epochs run, pending
  extrinsics are applied in submission order, on-block hooks fire, then the block is sealed
  into an immutable :class:`BlockRecord` (state as of the end of that block). Reads at a block
  hash are served from that record, so ``client.at(block)`` sees older values. Only the last
  ``history_blocks`` records are kept; older ones raise :class:`BlockUnavailable`, like a
  pruned node. The finalized head trails the best head by ``finality_lag`` blocks. A block
  hash encodes its number in its first four bytes, so hashes map back to numbers without a
  table. ``Timestamp.Now`` is ``genesis_unix`` plus ``block_time`` per block.
* **Epochs.** A subnet runs its epoch in block ``b`` when ``(b + netuid + 1) % (tempo + 1) == 0``
  (subtensor's schedule, so epochs are ``tempo + 1`` blocks apart). Yuma itself is
  :func:`simnet.yuma.run_epoch`. Each block adds ``emission_per_block_rao`` alpha to the
  subnet's pending emission; the epoch hands it out: a miner's incentive share goes to its
  owner's stake position, a validator's dividend share to the hotkey's stakers pro rata.
* **Registration.** Burned registration only: the coldkey pays ``burn_rao`` (recycled; it
  does not move the pool). A free uid is used first; on a full subnet the non-immune neuron
  with the lowest emission is replaced (ties: older registration, then lower uid). A neuron
  is immune for ``immunity_period`` blocks after registering; the subnet owner's hotkey is
  always immune. Re-registration clears weights and bonds pointing at the uid, the permit,
  and sets ``last_update`` to the registration block. ``NeuronRegistered(netuid, uid,
  hotkey)`` is emitted; deregistration has no event, as on chain.
* **Stake and price.** Alpha stake is held per (hotkey, coldkey) position on each subnet.
  Each subnet has a constant-product pool (``tao_in`` TAO against ``alpha_in`` alpha); the
  alpha price is ``tao_in / alpha_in``. Staking swaps TAO in, unstaking swaps alpha in, both
  at ``x·y = k`` with no swap fee. Anyone may stake to any existing hotkey (nomination), as
  on chain.
* **Weights.** Plain ``set_weights`` with the chain's checks, in subtensor's order; weights
  are stored max-upscaled to u16. Commit-reveal subnets refuse plaintext weights with
  ``CommitRevealEnabled`` and refuse timelocked commits (simnet has no drand) with
  ``CommitRevealUnsupported``.

What it simplifies: one mechanism per subnet; no root subnet, TAO (root) stake, childkeys,
delegate take, owner cut or swap fees; ``rank``/``trust`` are 0 and ``pruning_score`` is
u16::MAX as the current runtime reports; registration burn does not adjust; transaction fees
are a flat ``FEE_RAO`` charged to coldkey-signed calls (weights and serving are free, as on
chain). Direct calls on :class:`Chain` (``fund``, ``register``, ``set_hyperparameter``...)
are the operator's privileged setup path: they apply at once to the current head and skip
per-block registration limits; signed extrinsics go through the pool and the full checks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from simnet.calls import ComposedCall

RAO_PER_TAO = 1_000_000_000
U16_MAX = 65_535
FEE_RAO = 100_000  # flat fee for coldkey-signed calls (the SDK's own examples show 0.0001 TAO)
EXISTENTIAL_DEPOSIT_RAO = 500
MIN_STAKE_RAO = 2_000_000  # subtensor's DefaultMinStake: 0.002 TAO
NULL_ACCOUNT = "5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM"  # AccountId [0; 32]

# Calls that subtensor declares ``Pays::No``: a hotkey with no balance can still make them.
FREE_CALLS = frozenset(
    {
        ("SubtensorModule", "set_weights"),
        ("SubtensorModule", "set_mechanism_weights"),
        ("SubtensorModule", "commit_timelocked_mechanism_weights"),
        ("SubtensorModule", "serve_axon"),
        ("SubtensorModule", "serve_axon_tls"),
        ("SubtensorModule", "serve_prometheus"),
    }
)


class ChainFailure(Exception):
    """A refused call; ``name`` is the runtime's error name, e.g. ``SettingWeightsTooFast``."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class BlockUnavailable(LookupError):
    """A block that is not (or no longer) held: unknown hash, future height, or pruned state."""


# --------------------------------------------------------------------------------------------
# Records. Neurons and block records are immutable; a change replaces the object, so a sealed
# block keeps pointing at the values it had (copy-on-write history).


@dataclass(frozen=True)
class Axon:
    block: int
    version: int
    ip: int
    port: int
    ip_type: int = 4
    protocol: int = 4
    placeholder1: int = 0
    placeholder2: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "block": self.block,
            "version": self.version,
            "ip": self.ip,
            "port": self.port,
            "ip_type": self.ip_type,
            "protocol": self.protocol,
            "placeholder1": self.placeholder1,
            "placeholder2": self.placeholder2,
        }


EMPTY_AXON = Axon(block=0, version=0, ip=0, port=0, ip_type=0, protocol=0)


@dataclass(frozen=True)
class Neuron:
    uid: int
    hotkey: str
    coldkey: str
    registered_at: int
    last_update: int
    active: bool = True
    validator_permit: bool = False
    consensus: int = 0  # u16 parts, as stored by the epoch
    incentive: int = 0
    dividends: int = 0
    validator_trust: int = 0
    emission: int = 0  # alpha rao handed to this uid by the last epoch
    weights: tuple[tuple[int, int], ...] = ()  # (uid, u16), sorted by uid
    bonds: tuple[tuple[int, int], ...] = ()


@dataclass
class Subnet:
    """One subnet's parameters and state. Mutated only by :class:`Chain`."""

    netuid: int
    tempo: int
    max_uids: int
    max_validators: int
    immunity_period: int
    activity_cutoff: int
    burn_rao: int
    weights_rate_limit: int
    min_allowed_weights: int
    commit_reveal: bool
    owner_coldkey: str
    owner_hotkey: str
    emission_per_block_rao: int
    tao_in: int
    alpha_in: int
    registered_at: int
    name: str = ""
    symbol: str = ""
    max_registrations_per_block: int = 1
    serving_rate_limit: int = 50
    max_weights_limit: int = U16_MAX
    weights_version: int = 0
    kappa: int = 32_767
    bonds_moving_average: int = 900_000
    alpha_out: int = 0
    pending_emission: int = 0
    last_epoch_block: int = 0
    epoch_index: int = 0
    registrations_this_block: int = 0
    neurons: list[Neuron] | tuple[Neuron, ...] = field(default_factory=list)
    uids: dict[str, int] | MappingProxyType = field(default_factory=dict)
    stake: dict[tuple[str, str], int] | MappingProxyType = field(default_factory=dict)
    axons: dict[str, Axon] | MappingProxyType = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.neurons)

    @property
    def price_rao(self) -> int:
        """Rao of TAO per one alpha (1e9 alpha rao) at the pool's current reserves."""
        return self.tao_in * RAO_PER_TAO // self.alpha_in if self.alpha_in else 0

    def hotkey_alpha(self, hotkey: str) -> int:
        return sum(amount for (hk, _ck), amount in self.stake.items() if hk == hotkey)

    def alpha_by_hotkey(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (hk, _ck), amount in self.stake.items():
            totals[hk] = totals.get(hk, 0) + amount
        return totals

    def stakers(self, hotkey: str) -> list[tuple[str, int]]:
        return [(ck, amount) for (hk, ck), amount in self.stake.items() if hk == hotkey]

    def frozen(self) -> Subnet:
        """An immutable-by-convention copy for a block record (neurons are shared, not copied)."""
        return replace(
            self,
            neurons=tuple(self.neurons),
            uids=MappingProxyType(dict(self.uids)),
            stake=MappingProxyType(dict(self.stake)),
            axons=MappingProxyType(dict(self.axons)),
        )


@dataclass(frozen=True)
class Accounts:
    balances: MappingProxyType
    nonces: MappingProxyType
    owner: MappingProxyType  # hotkey -> coldkey
    owned: MappingProxyType  # coldkey -> tuple of hotkeys


@dataclass(frozen=True)
class EventRecord:
    module: str
    event: str
    attributes: Any
    extrinsic_idx: int | None  # None: emitted during block initialization (epochs, setup)


@dataclass(frozen=True)
class Extrinsic:
    """A signed call as the pool holds it (signature already verified by the seam)."""

    call: ComposedCall
    signer: str
    crypto_type: int
    nonce: int
    period: int
    signature: bytes
    hash: str
    inner: Extrinsic | None = None  # a shielded carrier's decrypted inner extrinsic


@dataclass(frozen=True)
class Receipt:
    block: int
    block_hash: str
    index: int
    extrinsic: Extrinsic
    success: bool
    error: ChainFailure | None
    events: tuple[EventRecord, ...]
    fee_rao: int


@dataclass(frozen=True)
class BlockRecord:
    number: int
    hash: str
    parent_hash: str
    timestamp_ms: int
    subnets: MappingProxyType  # netuid -> frozen Subnet
    accounts: Accounts
    events: tuple[EventRecord, ...]
    receipts: tuple[Receipt, ...]


class Pending:
    """A pool entry; ``receipt`` is set when a block includes it, then listeners are called."""

    def __init__(self, extrinsic: Extrinsic):
        self.extrinsic = extrinsic
        self.receipt: Receipt | None = None
        self._listeners: list[Callable[[Pending], None]] = []

    def add_listener(self, fn: Callable[[Pending], None]) -> None:
        self._listeners.append(fn)
        if self.receipt is not None:
            fn(self)

    def _resolve(self, receipt: Receipt) -> None:
        self.receipt = receipt
        for fn in self._listeners:
            fn(self)


HYPERPARAMETERS = (
    "tempo",
    "max_uids",
    "max_validators",
    "immunity_period",
    "activity_cutoff",
    "burn_rao",
    "weights_rate_limit",
    "min_allowed_weights",
    "commit_reveal",
    "emission_per_block_rao",
    "max_registrations_per_block",
    "serving_rate_limit",
    "max_weights_limit",
    "weights_version",
    "kappa",
    "bonds_moving_average",
)
_ALIASES = {
    "burn": "burn_rao",
    "max_allowed_uids": "max_uids",
    "commit_reveal_weights_enabled": "commit_reveal",
}


def _upscale_u16(values: list[float]) -> list[int]:
    """subtensor's ``vec_u16_max_upscale``: the largest becomes 65535, others round, zeros stay."""
    top = max(values) if values else 0
    if top <= 0:
        return [0 for _ in values]
    return [int(v * U16_MAX / top + 0.5) for v in values]


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
    ):
        if block_time <= 0:
            raise ValueError(f"block_time must be positive seconds, got {block_time!r}")
        if start_block < 0:
            raise ValueError(f"start_block must be >= 0, got {start_block!r}")
        self.block_time = float(block_time)
        self.finality_lag = max(0, int(finality_lag))
        self.seed = int(seed)
        # Part of every block hash: two servers started from one scenario still hash apart,
        # as a restarted dev chain does (its timestamps differ), so clients can tell them apart.
        self.genesis_nonce = str(genesis_nonce)
        self.history_blocks = max(1, int(history_blocks))
        self.genesis_ms = int(genesis_unix * 1000) - start_block * int(block_time * 1000)
        self.halted = False
        # Set by a running BlockClock: submissions then wait for the next produced block
        # instead of producing one themselves.
        self.auto_blocks = False
        self.head = start_block
        self.finalized = start_block
        self._subnets: dict[int, Subnet] = {}
        self._balances: dict[str, int] = {}
        self._nonces: dict[str, int] = {}
        self._owner: dict[str, str] = {}
        self._owned: dict[str, list[str]] = {}
        self._pool: list[Pending] = []
        self._shield_inner: dict[tuple[str, int], Extrinsic] = {}
        self._hooks: list[Callable[[Chain, int], None]] = []
        self._finality_waiters: list[tuple[int, Callable[[], None]]] = []
        self._history: dict[int, BlockRecord] = {}
        self._events: list[EventRecord] = []  # events of the block being built
        self._setup_events: list[EventRecord] = []  # direct calls between blocks
        self._current_idx: int | None = None
        self._building: int | None = None
        self._dirty_subnets: set[int] = set()
        self._accounts_dirty = True
        self._frozen_accounts: Accounts | None = None
        self._step_lock = threading.RLock()
        self._stepping = False
        self._seal(self.head, events=(), receipts=())

    # ---------------------------------------------------------------- blocks and hashes

    def block_hash(self, n: int) -> str:
        tag = (
            f"simnet:{self.seed}:{self.genesis_nonce}:{n}"
            if self.genesis_nonce
            else f"simnet:{self.seed}:{n}"
        )
        digest = hashlib.blake2b(tag.encode(), digest_size=28).hexdigest()
        return f"0x{n:08x}{digest}"

    def block_of(self, block_hash: str) -> int:
        text = str(block_hash).lower()
        try:
            n = int(text[2:10], 16)
        except ValueError:
            raise BlockUnavailable(f"unknown block hash {block_hash!r}") from None
        if not text.startswith("0x") or self.block_hash(n) != text:
            raise BlockUnavailable(f"unknown block hash {block_hash!r}")
        return n

    def timestamp_ms(self, n: int) -> int:
        return self.genesis_ms + n * int(self.block_time * 1000)

    def record(self, n: int | None = None) -> BlockRecord:
        """The sealed state at block ``n`` (the head when None)."""
        n = self.head if n is None else int(n)
        rec = self._history.get(n)
        if rec is not None:
            return rec
        if n > self.head:
            raise BlockUnavailable(f"block {n} is beyond the best block {self.head}")
        raise BlockUnavailable(
            f"State already discarded for block {n}: simnet keeps the last "
            f"{self.history_blocks} blocks (head {self.head})"
        )

    def on_block(self, hook: Callable[[Chain, int], None]) -> None:
        self._hooks.append(hook)

    @property
    def building_block(self) -> int:
        """The block whose state changes are being made now (head + 1 inside ``step``)."""
        return self._building if self._building is not None else self.head

    # ---------------------------------------------------------------- subnets

    def subnet(self, netuid: int) -> Subnet:
        sn = self._subnets.get(int(netuid))
        if sn is None:
            raise ChainFailure("SubnetNotExists", f"subnet {netuid} does not exist")
        return sn

    @property
    def netuids(self) -> list[int]:
        return sorted(self._subnets)

    def create_subnet(
        self,
        netuid: int,
        *,
        tempo: int = 360,
        max_uids: int = 256,
        max_validators: int = 64,
        immunity_period: int = 5000,
        activity_cutoff: int = 5000,
        burn_rao: int = RAO_PER_TAO,
        weights_rate_limit: int = 100,
        min_allowed_weights: int = 1,
        commit_reveal: bool = False,
        owner_coldkey: str | None = None,
        owner_hotkey: str | None = None,
        emission_per_block_rao: int = RAO_PER_TAO,
        tao_in_rao: int = 1_000 * RAO_PER_TAO,
        alpha_in_rao: int = 4_000 * RAO_PER_TAO,
        name: str | None = None,
        symbol: str | None = None,
        max_registrations_per_block: int = 1,
        serving_rate_limit: int = 50,
    ) -> Subnet:
        netuid = int(netuid)
        if netuid <= 0 or netuid > 4095:
            raise ValueError(f"netuid must be 1..4095 (simnet has no root subnet), got {netuid}")
        if netuid in self._subnets:
            raise ValueError(f"subnet {netuid} already exists")
        if tao_in_rao <= 0 or alpha_in_rao <= 0:
            raise ValueError("tao_in_rao and alpha_in_rao must be positive (they set the price)")
        sn = Subnet(
            netuid=netuid,
            tempo=int(tempo),
            max_uids=int(max_uids),
            max_validators=int(max_validators),
            immunity_period=int(immunity_period),
            activity_cutoff=int(activity_cutoff),
            burn_rao=int(burn_rao),
            weights_rate_limit=int(weights_rate_limit),
            min_allowed_weights=int(min_allowed_weights),
            commit_reveal=bool(commit_reveal),
            owner_coldkey=owner_coldkey or NULL_ACCOUNT,
            owner_hotkey=owner_hotkey or owner_coldkey or NULL_ACCOUNT,
            emission_per_block_rao=int(emission_per_block_rao),
            tao_in=int(tao_in_rao),
            alpha_in=int(alpha_in_rao),
            registered_at=self.building_block,
            name=name if name is not None else f"simnet-{netuid}",
            symbol=symbol if symbol is not None else f"S{netuid}",
            max_registrations_per_block=int(max_registrations_per_block),
            serving_rate_limit=int(serving_rate_limit),
        )
        for param in HYPERPARAMETERS:
            self._check_param(param, getattr(sn, param))
        self._subnets[netuid] = sn
        if owner_hotkey and owner_coldkey:
            self._set_owner(owner_hotkey, owner_coldkey)
        self._emit("SubtensorModule", "NetworkAdded", [netuid, 0])
        self._touch(netuid)
        return sn

    @staticmethod
    def _check_param(name: str, value: Any) -> None:
        if name == "commit_reveal":
            if not isinstance(value, bool):
                raise ValueError(
                    f"hyperparameter commit_reveal must be true or false, got {value!r}"
                )
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"hyperparameter {name} must be a non-negative integer, got {value!r}")
        if name in ("max_uids", "max_validators") and value < 1:
            raise ValueError(f"hyperparameter {name} must be at least 1, got {value}")
        if name in ("kappa", "max_weights_limit") and value > U16_MAX:
            raise ValueError(f"hyperparameter {name} is a u16 (0..65535), got {value}")

    def set_hyperparameter(self, netuid: int, name: str, value: Any) -> None:
        sn = self.subnet(netuid)
        param = _ALIASES.get(name, name)
        if param not in HYPERPARAMETERS:
            raise ValueError(
                f"unknown hyperparameter {name!r}; known: {', '.join(HYPERPARAMETERS)}"
            )
        self._check_param(param, value)
        if param == "max_uids" and value < sn.n:
            raise ValueError(
                f"hyperparameter max_uids={value} is below the {sn.n} neurons registered on "
                f"subnet {netuid}; simnet does not trim subnets"
            )
        setattr(sn, param, value)
        self._touch(sn.netuid)

    # ---------------------------------------------------------------- accounts

    def balance(self, ss58: str) -> int:
        return self._balances.get(ss58, 0)

    def nonce(self, ss58: str) -> int:
        return self._nonces.get(ss58, 0)

    def owner_of(self, hotkey: str) -> str | None:
        return self._owner.get(hotkey)

    def fund(self, coldkey_ss58: str, rao: int) -> None:
        if int(rao) < 0:
            raise ValueError(f"fund amount must be >= 0 rao, got {rao}")
        self._balances[coldkey_ss58] = self.balance(coldkey_ss58) + int(rao)
        self._touch_accounts()

    def _set_owner(self, hotkey: str, coldkey: str) -> None:
        if hotkey in self._owner:
            return
        self._owner[hotkey] = coldkey
        self._owned.setdefault(coldkey, []).append(hotkey)
        self._touch_accounts()

    def _debit(self, ss58: str, rao: int, error: str = "NotEnoughBalanceToStake") -> None:
        have = self.balance(ss58)
        if have < rao:
            raise ChainFailure(error, f"{ss58} has {have} rao free, {rao} rao needed")
        self._balances[ss58] = have - rao
        self._touch_accounts()

    def transfer(self, src: str, dest: str, rao: int, *, keep_alive: bool = False) -> None:
        rao = int(rao)
        if rao < 0:
            raise ChainFailure("InvalidValue", "transfer amount must be >= 0")
        have = self.balance(src)
        if have < rao:
            raise ChainFailure("InsufficientBalance", f"{src} has {have} rao, {rao} needed")
        if keep_alive and have - rao < EXISTENTIAL_DEPOSIT_RAO:
            raise ChainFailure(
                "Expendability", "the transfer would take the sender below the existential deposit"
            )
        self._balances[src] = have - rao
        self._balances[dest] = self.balance(dest) + rao
        self._touch_accounts()
        self._emit("Balances", "Transfer", {"from": src, "to": dest, "amount": rao})

    # ---------------------------------------------------------------- registration

    def _immune(self, sn: Subnet, nrn: Neuron, block: int) -> bool:
        return nrn.hotkey == sn.owner_hotkey or block - nrn.registered_at < sn.immunity_period

    def neuron_to_evict(self, netuid: int) -> int | None:
        """The uid a registration on a full subnet would replace, or None if all are immune."""
        sn = self.subnet(netuid)
        block = self.building_block
        candidates = [n for n in sn.neurons if not self._immune(sn, n, block)]
        if not candidates:
            return None
        return min(candidates, key=lambda n: (n.emission, n.registered_at, n.uid)).uid

    def register(
        self,
        netuid: int,
        hotkey: str,
        coldkey: str,
        *,
        burn: bool = True,
        evict: str | None = None,
        _limit: bool = False,
    ) -> int:
        """Burned registration. Direct calls skip the per-block registration limit.

        ``evict`` (scenarios only) makes this registration evict that hotkey, as if it were
        first in the eviction order at this moment; the chain itself always follows the rule.
        """
        sn = self.subnet(netuid)
        block = self.building_block
        if hotkey in sn.uids:
            raise ChainFailure(
                "HotKeyAlreadyRegisteredInSubNet", f"{hotkey} is already uid {sn.uids[hotkey]}"
            )
        owner = self._owner.get(hotkey)
        if owner is not None and owner != coldkey:
            raise ChainFailure(
                "NonAssociatedColdKey", f"hotkey {hotkey} is owned by another coldkey ({owner})"
            )
        if _limit and sn.registrations_this_block >= sn.max_registrations_per_block:
            raise ChainFailure(
                "TooManyRegistrationsThisBlock",
                f"subnet {netuid} accepts {sn.max_registrations_per_block} registration(s) "
                "per block",
            )
        cost = sn.burn_rao if burn else 0
        if self.balance(coldkey) < cost:
            raise ChainFailure(
                "NotEnoughBalanceToStake",
                f"registration burns {cost} rao; {coldkey} has {self.balance(coldkey)}",
            )
        if evict is not None:
            if evict not in sn.uids:
                raise ChainFailure(
                    "HotKeyNotRegisteredInSubNet", f"{evict} is not registered on {netuid}"
                )
            uid = sn.uids[evict]
        elif sn.n < sn.max_uids:
            uid = sn.n
        else:
            evict = self.neuron_to_evict(netuid)
            if evict is None:
                raise ChainFailure(
                    "NoNeuronIdAvailable", f"subnet {netuid} is full and every neuron is immune"
                )
            uid = evict
        if cost:
            self._debit(coldkey, cost)
        self._set_owner(hotkey, coldkey)
        fresh = Neuron(
            uid=uid, hotkey=hotkey, coldkey=coldkey, registered_at=block, last_update=block
        )
        if uid == sn.n:
            sn.neurons.append(fresh)
        else:
            old = sn.neurons[uid]
            del sn.uids[old.hotkey]
            sn.neurons[uid] = fresh
            # subtensor's clear_neuron: nothing may keep pointing at the reused uid.
            for i, nrn in enumerate(sn.neurons):
                if i == uid:
                    continue
                w = tuple(p for p in nrn.weights if p[0] != uid)
                b = tuple(p for p in nrn.bonds if p[0] != uid)
                if len(w) != len(nrn.weights) or len(b) != len(nrn.bonds):
                    sn.neurons[i] = replace(nrn, weights=w, bonds=b)
        sn.uids[hotkey] = uid
        sn.registrations_this_block += 1
        self._touch(sn.netuid)
        self._emit("SubtensorModule", "NeuronRegistered", [sn.netuid, uid, hotkey])
        return uid

    # ---------------------------------------------------------------- stake and the pool

    def sim_tao_for_alpha(self, netuid: int, tao_rao: int) -> int:
        sn = self.subnet(netuid)
        k = sn.tao_in * sn.alpha_in
        return sn.alpha_in - -(-k // (sn.tao_in + tao_rao))  # ceil keeps the pool whole

    def sim_alpha_for_tao(self, netuid: int, alpha_rao: int) -> int:
        sn = self.subnet(netuid)
        k = sn.tao_in * sn.alpha_in
        return sn.tao_in - -(-k // (sn.alpha_in + alpha_rao))

    def add_stake(
        self,
        coldkey: str,
        hotkey: str,
        netuid: int,
        tao_rao: int,
        *,
        limit_price: int | None = None,
    ) -> int:
        """Swap TAO into the pool and credit the alpha; returns the alpha bought (rao)."""
        sn = self.subnet(netuid)
        tao_rao = int(tao_rao)
        if hotkey not in self._owner:
            raise ChainFailure(
                "HotKeyAccountNotExists", f"hotkey {hotkey} is not registered anywhere"
            )
        if tao_rao < MIN_STAKE_RAO:
            raise ChainFailure("AmountTooLow", f"stake {tao_rao} rao is below {MIN_STAKE_RAO} rao")
        if self.balance(coldkey) < tao_rao:
            raise ChainFailure(
                "NotEnoughBalanceToStake",
                f"{coldkey} has {self.balance(coldkey)} rao free, {tao_rao} needed",
            )
        alpha = self.sim_tao_for_alpha(netuid, tao_rao)
        if alpha <= 0:
            raise ChainFailure("InsufficientLiquidity", "the pool cannot pay out any alpha")
        new_tao, new_alpha = sn.tao_in + tao_rao, sn.alpha_in - alpha
        if limit_price is not None and new_tao * RAO_PER_TAO // new_alpha > limit_price:
            raise ChainFailure(
                "SlippageTooHigh", f"the price would rise above the limit {limit_price} rao"
            )
        self._debit(coldkey, tao_rao)
        sn.tao_in, sn.alpha_in = new_tao, new_alpha
        sn.alpha_out += alpha
        key = (hotkey, coldkey)
        sn.stake[key] = sn.stake.get(key, 0) + alpha
        self._touch(sn.netuid)
        self._emit("SubtensorModule", "StakeAdded", [coldkey, hotkey, tao_rao, alpha, sn.netuid, 0])
        return alpha

    def remove_stake(
        self,
        coldkey: str,
        hotkey: str,
        netuid: int,
        alpha_rao: int,
        *,
        limit_price: int | None = None,
    ) -> int:
        """Swap alpha back out of a position; returns the TAO received (rao)."""
        sn = self.subnet(netuid)
        alpha_rao = int(alpha_rao)
        key = (hotkey, coldkey)
        have = sn.stake.get(key, 0)
        if alpha_rao <= 0:
            raise ChainFailure("AmountTooLow", "unstake amount must be positive")
        if have < alpha_rao:
            raise ChainFailure(
                "NotEnoughStakeToWithdraw",
                f"{coldkey} holds {have} alpha rao on {hotkey} at netuid {netuid}, "
                f"{alpha_rao} requested",
            )
        tao = self.sim_alpha_for_tao(netuid, alpha_rao)
        new_tao, new_alpha = sn.tao_in - tao, sn.alpha_in + alpha_rao
        if limit_price is not None and new_tao * RAO_PER_TAO // new_alpha < limit_price:
            raise ChainFailure(
                "SlippageTooHigh", f"the price would fall below the limit {limit_price} rao"
            )
        sn.tao_in, sn.alpha_in = new_tao, new_alpha
        sn.alpha_out -= alpha_rao
        if have == alpha_rao:
            del sn.stake[key]
        else:
            sn.stake[key] = have - alpha_rao
        self._balances[coldkey] = self.balance(coldkey) + tao
        self._touch(sn.netuid)
        self._touch_accounts()
        self._emit(
            "SubtensorModule", "StakeRemoved", [coldkey, hotkey, tao, alpha_rao, sn.netuid, 0]
        )
        return tao

    def stake_alpha(self, netuid: int, hotkey: str, coldkey: str | None = None) -> int:
        sn = self.subnet(netuid)
        if coldkey is None:
            return sn.hotkey_alpha(hotkey)
        return sn.stake.get((hotkey, coldkey), 0)

    def set_stake(self, netuid: int, hotkey: str, coldkey: str, alpha_rao: int) -> None:
        """Scenario setup: place an alpha position directly (no swap, no pool effect)."""
        sn = self.subnet(netuid)
        if hotkey not in self._owner:
            self._set_owner(hotkey, coldkey)
        if int(alpha_rao) <= 0:
            sn.stake.pop((hotkey, coldkey), None)
        else:
            sn.stake[(hotkey, coldkey)] = int(alpha_rao)
        self._touch(sn.netuid)

    def scale_stake(self, netuid: int, hotkey: str, factor: float) -> None:
        """Scenario lever: multiply every position on ``hotkey`` by ``factor`` (no swap)."""
        if factor < 0:
            raise ValueError(f"stake factor must be >= 0, got {factor}")
        sn = self.subnet(netuid)
        for key in [k for k in sn.stake if k[0] == hotkey]:
            scaled = int(sn.stake[key] * factor)
            if scaled > 0:
                sn.stake[key] = scaled
            else:
                del sn.stake[key]
        self._touch(sn.netuid)

    # ---------------------------------------------------------------- weights and serving

    def set_weights(
        self,
        netuid: int,
        hotkey: str,
        uids: Iterable[int],
        weights_u16: Iterable[int],
        *,
        version_key: int = 0,
    ) -> None:
        """subtensor's ``do_set_weights`` checks, in its order, then store max-upscaled u16."""
        sn = self.subnet(netuid)
        uids, weights = [int(u) for u in uids], [int(w) for w in weights_u16]
        block = self.building_block
        if sn.commit_reveal:
            raise ChainFailure(
                "CommitRevealEnabled",
                f"subnet {netuid} has commit-reveal on; plaintext weights are refused",
            )
        if len(uids) != len(weights):
            raise ChainFailure("WeightVecNotEqualSize", "uids and weights differ in length")
        uid = sn.uids.get(hotkey)
        if uid is None:
            raise ChainFailure(
                "HotKeyNotRegisteredInSubNet", f"{hotkey} is not registered on subnet {netuid}"
            )
        if version_key < sn.weights_version:
            raise ChainFailure(
                "IncorrectWeightVersionKey",
                f"version_key {version_key} is below the subnet's {sn.weights_version}",
            )
        last = sn.neurons[uid].last_update
        if sn.weights_rate_limit and last > 0 and block - last < sn.weights_rate_limit:
            raise ChainFailure(
                "SettingWeightsTooFast",
                f"weights were set {block - last} blocks ago; the limit is "
                f"{sn.weights_rate_limit} blocks",
            )
        if len(set(uids)) != len(uids):
            raise ChainFailure("DuplicateUids", "a uid appears twice")
        if any(u < 0 or u >= sn.n for u in uids):
            raise ChainFailure("UidVecContainInvalidOne", f"a uid is not below {sn.n}")
        self_only = uids == [uid]
        if not self_only and len(uids) < min(sn.min_allowed_weights, sn.n):
            raise ChainFailure(
                "WeightVecLengthIsLow",
                f"{len(uids)} weights given; subnet {netuid} requires {sn.min_allowed_weights}",
            )
        if any(w < 0 or w > U16_MAX for w in weights):
            raise ChainFailure("InvalidValue", "weights are u16 values")
        stored = _upscale_u16([float(w) for w in weights])
        row = tuple(sorted(zip(uids, stored, strict=True)))
        sn.neurons[uid] = replace(sn.neurons[uid], weights=row, last_update=block)
        self._touch(sn.netuid)
        self._emit("SubtensorModule", "WeightsSet", [sn.netuid, uid])

    def serve_axon(
        self,
        netuid: int,
        hotkey: str,
        ip: int,
        port: int,
        ip_type: int = 4,
        protocol: int = 4,
        version: int = 1,
        placeholder1: int = 0,
        placeholder2: int = 0,
    ) -> None:
        sn = self.subnet(netuid)
        block = self.building_block
        if hotkey not in sn.uids:
            raise ChainFailure(
                "HotKeyNotRegisteredInNetwork", f"{hotkey} is not registered on subnet {netuid}"
            )
        if ip_type not in (4, 6):
            raise ChainFailure("InvalidIpType", f"ip_type must be 4 or 6, got {ip_type}")
        try:
            if ip_type == 4:
                ipaddress.IPv4Address(int(ip))
            else:
                ipaddress.IPv6Address(int(ip))
        except ValueError:
            raise ChainFailure("InvalidIpAddress", f"{ip} is not an IPv{ip_type} address") from None
        if not 0 < int(port) < 65536:
            raise ChainFailure("InvalidPort", f"port {port} is not 1..65535")
        prev = sn.axons.get(hotkey)
        if (
            prev is not None
            and sn.serving_rate_limit
            and block - prev.block < sn.serving_rate_limit
        ):
            raise ChainFailure(
                "ServingRateLimitExceeded",
                f"axon served {block - prev.block} blocks ago; the limit is "
                f"{sn.serving_rate_limit} blocks",
            )
        sn.axons[hotkey] = Axon(
            block=block,
            version=int(version),
            ip=int(ip),
            port=int(port),
            ip_type=int(ip_type),
            protocol=int(protocol),
            placeholder1=int(placeholder1),
            placeholder2=int(placeholder2),
        )
        self._touch(sn.netuid)
        self._emit("SubtensorModule", "AxonServed", [sn.netuid, hotkey])

    # ---------------------------------------------------------------- the pool

    def validate(self, ext: Extrinsic) -> None:
        """Pool-level validity (nonce, fee): a failure here never reaches a block."""
        expected = self.nonce(ext.signer) + sum(
            1 for p in self._pool if p.extrinsic.signer == ext.signer
        )
        if ext.nonce < self.nonce(ext.signer):
            raise ChainFailure("Stale", "Invalid Transaction: Transaction is outdated")
        if ext.nonce > expected:
            raise ChainFailure("Future", "Invalid Transaction: will be valid in the future")
        if ext.nonce < expected:
            raise ChainFailure(
                "Usurped", "Priority is too low: another transaction uses this nonce"
            )
        key = (ext.call.module, ext.call.function)
        if key not in FREE_CALLS and self.balance(ext.signer) < FEE_RAO:
            raise ChainFailure("Payment", "Invalid Transaction: Inability to pay some fees")
        if key not in DISPATCH:
            raise ChainFailure(
                "CallUnavailable",
                f"simnet does not implement {ext.call.module}.{ext.call.function}",
            )

    def submit(self, ext: Extrinsic) -> Pending:
        """Validate and queue; the next ``step`` includes it."""
        self.validate(ext)
        pending = Pending(ext)
        self._pool.append(pending)
        return pending

    def record_shield_inner(self, ext: Extrinsic) -> None:
        """A signed inner extrinsic made for a MEV-shield carrier; the carrier from the same
        signer at nonce ``ext.nonce - 1`` brings it into the block (the chain's "decryption")."""
        self._shield_inner[(ext.signer, ext.nonce)] = ext
        if len(self._shield_inner) > 10_000:  # abandoned ones must not accumulate forever
            self._shield_inner.pop(next(iter(self._shield_inner)))

    @property
    def pool_size(self) -> int:
        return len(self._pool)

    def next_index(self, ss58: str) -> int:
        return self.nonce(ss58) + sum(1 for p in self._pool if p.extrinsic.signer == ss58)

    def _dispatch(self, ext: Extrinsic) -> None:
        handler = DISPATCH[(ext.call.module, ext.call.function)]
        handler(self, ext)

    def _apply(self, ext: Extrinsic, block: int, idx: int) -> Receipt:
        key = (ext.call.module, ext.call.function)
        fee = 0 if key in FREE_CALLS else min(FEE_RAO, self.balance(ext.signer))
        self._nonces[ext.signer] = self.nonce(ext.signer) + 1
        if fee:
            self._balances[ext.signer] -= fee
        self._touch_accounts()
        self._current_idx = idx
        start = len(self._events)
        error: ChainFailure | None = None
        try:
            self._dispatch(ext)
        except ChainFailure as failure:
            error = failure
            del self._events[start:]  # a failed dispatch leaves no events of its own
        if fee:
            self._emit(
                "TransactionPayment",
                "TransactionFeePaid",
                {"who": ext.signer, "actual_fee": fee, "tip": 0},
            )
        if error is None:
            self._emit("System", "ExtrinsicSuccess", {"dispatch_info": _dispatch_info(key)})
        else:
            self._emit(
                "System",
                "ExtrinsicFailed",
                {
                    "dispatch_error": _dispatch_error(error.name),
                    "dispatch_info": _dispatch_info(key),
                },
            )
        self._current_idx = None
        return Receipt(
            block=block,
            block_hash=self.block_hash(block),
            index=idx,
            extrinsic=ext,
            success=error is None,
            error=error,
            events=tuple(self._events[start:]),
            fee_rao=fee,
        )

    # ---------------------------------------------------------------- producing blocks

    def step(self, n: int = 1) -> None:
        for _ in range(int(n)):
            with self._step_lock:
                if self._stepping:
                    raise RuntimeError(
                        "Chain.step() called from inside a block (an on_block hook?)"
                    )
                self._stepping = True
                try:
                    self._produce()
                finally:
                    self._stepping = False
                    self._building = None

    def _produce(self) -> None:
        b = self.head + 1
        self._building = b
        self._events = list(self._setup_events)
        self._setup_events = []
        # Timestamp.set inherent is extrinsic 0, as on chain.
        self._events.append(
            EventRecord("System", "ExtrinsicSuccess", {"dispatch_info": _dispatch_info(None)}, 0)
        )
        for sn in self._subnets.values():
            if sn.registrations_this_block:
                sn.registrations_this_block = 0
                self._touch(sn.netuid)
        for netuid in sorted(self._subnets):
            sn = self._subnets[netuid]
            sn.pending_emission += sn.emission_per_block_rao
            self._touch(netuid)
            if sn.tempo > 0 and (b + netuid + 1) % (sn.tempo + 1) == 0:
                self._epoch(sn, b)
        receipts: list[Receipt] = []
        resolved: list[tuple[Pending, Receipt]] = []
        pool, self._pool = self._pool, []
        idx = 1
        for pending in pool:
            ext = pending.extrinsic
            if ext.nonce != self.nonce(ext.signer):
                continue  # superseded while queued; the pool drops it
            receipt = self._apply(ext, b, idx)
            receipts.append(receipt)
            resolved.append((pending, receipt))
            idx += 1
            if ext.call.module == "MevShield" and receipt.success:
                inner = self._shield_inner.pop((ext.signer, ext.nonce + 1), None)
                if inner is not None and inner.nonce == self.nonce(inner.signer):
                    receipts.append(self._apply(inner, b, idx))
                    idx += 1
        self.head = b
        self.finalized = max(self.finalized, b - self.finality_lag)
        for hook in list(self._hooks):
            hook(self, b)
        self._seal(b, events=tuple(self._events), receipts=tuple(receipts))
        self._events = []
        for pending, receipt in resolved:
            pending._resolve(receipt)
        self._notify_finality()

    def finalize_to_head(self) -> None:
        """Manual mode: let finality catch up so a waiting client need not step the chain."""
        self.finalized = self.head
        self._notify_finality()

    def when_finalized(self, block: int, fn: Callable[[], None]) -> None:
        """Call ``fn`` once the finalized head reaches ``block`` (at once if it has)."""
        if self.finalized >= block:
            fn()
        else:
            self._finality_waiters.append((block, fn))

    def _notify_finality(self) -> None:
        due = [w for w in self._finality_waiters if w[0] <= self.finalized]
        if due:
            self._finality_waiters = [w for w in self._finality_waiters if w[0] > self.finalized]
            for _block, fn in due:
                fn()

    def _epoch(self, sn: Subnet, block: int) -> None:
        outcome = run_subnet_epoch(sn, block)
        for uid, nrn in enumerate(sn.neurons):
            sn.neurons[uid] = replace(
                nrn,
                active=outcome.active[uid],
                validator_permit=outcome.validator_permit[uid],
                consensus=outcome.consensus[uid],
                incentive=outcome.incentive[uid],
                dividends=outcome.dividends[uid],
                validator_trust=outcome.validator_trust[uid],
                emission=outcome.emission[uid],
                bonds=outcome.bonds[uid],
            )
        paid = 0
        for uid, nrn in enumerate(sn.neurons):
            server, validator = outcome.server_emission[uid], outcome.validator_emission[uid]
            if server:
                key = (nrn.hotkey, nrn.coldkey)
                sn.stake[key] = sn.stake.get(key, 0) + server
                paid += server
            if validator:
                stakers = sn.stakers(nrn.hotkey)
                total = sum(amount for _, amount in stakers)
                if total <= 0:
                    stakers, total = [(nrn.coldkey, 1)], 1
                given = 0
                for ck, amount in stakers:
                    share = validator * amount // total
                    sn.stake[(nrn.hotkey, ck)] = sn.stake.get((nrn.hotkey, ck), 0) + share
                    given += share
                rest = validator - given  # rounding dust goes to the owner's position
                if rest:
                    key = (nrn.hotkey, nrn.coldkey)
                    sn.stake[key] = sn.stake.get(key, 0) + rest
                paid += validator
        sn.alpha_out += paid
        sn.pending_emission = 0
        sn.last_epoch_block = block
        sn.epoch_index += 1
        self._touch(sn.netuid)

    # ---------------------------------------------------------------- sealing history

    def _touch(self, netuid: int) -> None:
        self._dirty_subnets.add(netuid)
        if self._building is None:
            self._reseal_head()

    def _touch_accounts(self) -> None:
        self._accounts_dirty = True
        if self._building is None:
            self._reseal_head()

    def _frozen_accounts_now(self) -> Accounts:
        if self._accounts_dirty or self._frozen_accounts is None:
            self._frozen_accounts = Accounts(
                balances=MappingProxyType(dict(self._balances)),
                nonces=MappingProxyType(dict(self._nonces)),
                owner=MappingProxyType(dict(self._owner)),
                owned=MappingProxyType({k: tuple(v) for k, v in self._owned.items()}),
            )
            self._accounts_dirty = False
        return self._frozen_accounts

    def _frozen_subnets(self, previous: BlockRecord | None) -> MappingProxyType:
        out = {}
        for netuid, sn in self._subnets.items():
            if previous is not None and netuid not in self._dirty_subnets:
                kept = previous.subnets.get(netuid)
                if kept is not None:
                    out[netuid] = kept
                    continue
            out[netuid] = sn.frozen()
        self._dirty_subnets.clear()
        return MappingProxyType(out)

    def _seal(self, b: int, *, events: tuple, receipts: tuple) -> None:
        previous = self._history.get(b - 1) or self._history.get(b)
        self._history[b] = BlockRecord(
            number=b,
            hash=self.block_hash(b),
            parent_hash=self.block_hash(b - 1) if b > 0 else "0x" + "00" * 32,
            timestamp_ms=self.timestamp_ms(b),
            subnets=self._frozen_subnets(previous),
            accounts=self._frozen_accounts_now(),
            events=events,
            receipts=receipts,
        )
        stale = b - self.history_blocks
        for old in [k for k in self._history if k <= stale]:
            del self._history[old]

    def _reseal_head(self) -> None:
        """A direct (setup) change between blocks: the head record shows it at once."""
        rec = self._history.get(self.head)
        if rec is None:
            return
        self._history[self.head] = replace(
            rec, subnets=self._frozen_subnets(rec), accounts=self._frozen_accounts_now()
        )

    def _emit(self, module: str, event: str, attributes: Any) -> None:
        if self._building is None:
            self._setup_events.append(EventRecord(module, event, attributes, None))
        else:
            self._events.append(EventRecord(module, event, attributes, self._current_idx))


# ------------------------------------------------------------------------------------------
# Dispatch of signed calls. Each handler raises ChainFailure before changing anything.


def _dispatch_info(key: tuple[str, str] | None) -> dict:
    pays = "No" if key is None or key in FREE_CALLS else "Yes"
    return {
        "weight": {"ref_time": 1_000_000, "proof_size": 0},
        "class": "Mandatory" if key is None else "Normal",
        "pays_fee": pays,
    }


def _error_index() -> dict[str, tuple[int, int]]:
    try:
        from bittensor._generated.errors import ERRORS
    except ImportError:  # the SDK moved its catalog; names still travel in the receipt
        return {}
    out: dict[str, tuple[int, int]] = {}
    for (pallet, index), info in ERRORS.items():
        out.setdefault(info.name, (pallet, index))
    return out


_ERROR_INDEX: dict[str, tuple[int, int]] | None = None


def _dispatch_error(name: str) -> dict:
    global _ERROR_INDEX
    if _ERROR_INDEX is None:
        _ERROR_INDEX = _error_index()
    if name == "BadOrigin":
        return {"BadOrigin": None}
    pallet, index = _ERROR_INDEX.get(name, (7, 255))
    return {"Module": {"index": pallet, "error": f"0x{index:02x}000000"}}


def _p(ext: Extrinsic, name: str, default: Any = ...) -> Any:
    params = ext.call.params
    if name in params:
        return params[name]
    if default is ...:
        raise ChainFailure("InvalidValue", f"{ext.call.name} needs parameter {name!r}")
    return default


def _do_set_weights(chain: Chain, ext: Extrinsic) -> None:
    if int(_p(ext, "mecid", 0)) != 0:
        raise ChainFailure("MechanismDoesNotExist", "simnet subnets have one mechanism (0)")
    chain.set_weights(
        int(_p(ext, "netuid")),
        ext.signer,
        list(_p(ext, "dests")),
        list(_p(ext, "weights")),
        version_key=int(_p(ext, "version_key", 0)),
    )


def _do_commit_timelocked(chain: Chain, ext: Extrinsic) -> None:
    sn = chain.subnet(int(_p(ext, "netuid")))
    if not sn.commit_reveal:
        raise ChainFailure("CommitRevealDisabled", f"subnet {sn.netuid} has commit-reveal off")
    raise ChainFailure(
        "CommitRevealUnsupported",
        "simnet does not model commit-reveal weights (no drand); turn commit_reveal off "
        f"on subnet {sn.netuid}",
    )


def _do_serve_axon(chain: Chain, ext: Extrinsic) -> None:
    chain.serve_axon(
        int(_p(ext, "netuid")),
        ext.signer,
        int(_p(ext, "ip")),
        int(_p(ext, "port")),
        ip_type=int(_p(ext, "ip_type", 4)),
        protocol=int(_p(ext, "protocol", 4)),
        version=int(_p(ext, "version", 1)),
        placeholder1=int(_p(ext, "placeholder1", 0)),
        placeholder2=int(_p(ext, "placeholder2", 0)),
    )


def _do_burned_register(chain: Chain, ext: Extrinsic) -> None:
    chain.register(int(_p(ext, "netuid")), str(_p(ext, "hotkey")), ext.signer, _limit=True)


def _do_add_stake(chain: Chain, ext: Extrinsic) -> None:
    limit = _p(ext, "limit_price", None)
    chain.add_stake(
        ext.signer,
        str(_p(ext, "hotkey")),
        int(_p(ext, "netuid")),
        int(_p(ext, "amount_staked")),
        limit_price=None if limit is None else int(limit),
    )


def _do_remove_stake(chain: Chain, ext: Extrinsic) -> None:
    limit = _p(ext, "limit_price", None)
    chain.remove_stake(
        ext.signer,
        str(_p(ext, "hotkey")),
        int(_p(ext, "netuid")),
        int(_p(ext, "amount_unstaked")),
        limit_price=None if limit is None else int(limit),
    )


def _do_transfer(chain: Chain, ext: Extrinsic) -> None:
    keep_alive = ext.call.function == "transfer_keep_alive"
    chain.transfer(ext.signer, str(_p(ext, "dest")), int(_p(ext, "value")), keep_alive=keep_alive)


def _do_transfer_all(chain: Chain, ext: Extrinsic) -> None:
    keep_alive = bool(_p(ext, "keep_alive", False))
    have = chain.balance(ext.signer)
    amount = have - EXISTENTIAL_DEPOSIT_RAO if keep_alive else have
    chain.transfer(ext.signer, str(_p(ext, "dest")), max(0, amount))


def _do_shield_carrier(chain: Chain, ext: Extrinsic) -> None:
    ciphertext = _p(ext, "ciphertext")
    if not isinstance(ciphertext, bytes | bytearray) or len(ciphertext) < 16:
        raise ChainFailure("DecryptionFailed", "the shielded payload is not a ciphertext")
    chain._emit("MevShield", "EncryptedSubmitted", {"who": ext.signer})


DISPATCH: dict[tuple[str, str], Callable[[Chain, Extrinsic], None]] = {
    ("SubtensorModule", "set_weights"): _do_set_weights,
    ("SubtensorModule", "set_mechanism_weights"): _do_set_weights,
    ("SubtensorModule", "commit_timelocked_mechanism_weights"): _do_commit_timelocked,
    ("SubtensorModule", "serve_axon"): _do_serve_axon,
    ("SubtensorModule", "burned_register"): _do_burned_register,
    ("SubtensorModule", "add_stake"): _do_add_stake,
    ("SubtensorModule", "add_stake_limit"): _do_add_stake,
    ("SubtensorModule", "remove_stake"): _do_remove_stake,
    ("SubtensorModule", "remove_stake_limit"): _do_remove_stake,
    ("Balances", "transfer_keep_alive"): _do_transfer,
    ("Balances", "transfer_allow_death"): _do_transfer,
    ("Balances", "transfer_all"): _do_transfer_all,
    ("MevShield", "submit_encrypted"): _do_shield_carrier,
}


# ------------------------------------------------------------------------------------------
# The epoch adapter: subnet state -> simnet.yuma dense tensors -> per-uid integers.


@dataclass(frozen=True)
class EpochOutcome:
    active: list[bool]
    validator_permit: list[bool]
    consensus: list[int]
    incentive: list[int]
    dividends: list[int]
    validator_trust: list[int]
    emission: list[int]
    server_emission: list[int]
    validator_emission: list[int]
    bonds: list[tuple[tuple[int, int], ...]]


def run_subnet_epoch(sn: Subnet, block: int) -> EpochOutcome:
    """Run Yuma over one subnet as stored; emission is the alpha accrued since the last epoch."""
    import torch

    from simnet.yuma import EpochInputs, run_epoch

    n = sn.n
    if n == 0:
        return EpochOutcome([], [], [], [], [], [], [], [], [], [])
    alpha = sn.alpha_by_hotkey()

    def dense(rows_of: Callable[[Neuron], tuple]) -> Any:
        # One scatter per matrix: element-wise tensor assignment costs ~1 µs a write, which
        # at thousands of neurons would cost more than the epoch itself.
        rows, cols, vals = [], [], []
        for i, nrn in enumerate(sn.neurons):
            for j, v in rows_of(nrn):
                if j < n:
                    rows.append(i)
                    cols.append(j)
                    vals.append(float(v))
        out = torch.zeros((n, n), dtype=torch.float64)
        if rows:
            out[torch.tensor(rows), torch.tensor(cols)] = torch.tensor(vals, dtype=torch.float64)
        return out

    weights = dense(lambda nrn: nrn.weights)
    bonds = dense(lambda nrn: nrn.bonds)
    owner_uid = sn.uids.get(sn.owner_hotkey)
    out = run_epoch(
        EpochInputs(
            block=block,
            stake=torch.tensor(
                [float(alpha.get(x.hotkey, 0)) for x in sn.neurons], dtype=torch.float64
            ),
            weights=weights,
            last_update=torch.tensor([x.last_update for x in sn.neurons], dtype=torch.int64),
            block_at_registration=torch.tensor(
                [x.registered_at for x in sn.neurons], dtype=torch.int64
            ),
            validator_permit=torch.tensor(
                [x.validator_permit for x in sn.neurons], dtype=torch.bool
            ),
            bonds=bonds,
            activity_cutoff=sn.activity_cutoff,
            max_validators=sn.max_validators,
            last_step_block=sn.last_epoch_block,
            tempo=sn.tempo,
            rao_emission=sn.pending_emission,
            owner_uid=owner_uid,
            kappa_u16=sn.kappa,
            bonds_moving_average=sn.bonds_moving_average,
        )
    )

    def ints(t: Any) -> list[int]:
        return [int(v) for v in t.tolist()]

    # Bonds live on validator rows only: convert just the entries that survive the u16 store
    # (v >= 1), never the whole n x n matrix.
    bond_rows: list[tuple] = [()] * n
    kept = out.bonds >= 1
    for i in kept.any(dim=1).nonzero().flatten().tolist():
        cols = kept[i].nonzero().flatten()
        vals = out.bonds[i, cols].to(torch.int64)
        bond_rows[i] = tuple(zip(cols.tolist(), vals.tolist(), strict=True))
    return EpochOutcome(
        active=[bool(v) for v in out.active.tolist()],
        validator_permit=[bool(v) for v in out.validator_permit.tolist()],
        consensus=ints(out.consensus),
        incentive=ints(out.incentive),
        dividends=ints(out.dividends),
        validator_trust=ints(out.validator_trust),
        emission=ints(out.emission),
        server_emission=ints(out.server_emission),
        validator_emission=ints(out.validator_emission),
        bonds=bond_rows,
    )
