"""The chain's records and errors: what every room of simnet passes around.

Neurons and block records are immutable; a change replaces the object, so a sealed block
keeps pointing at the values it had (copy-on-write history). :class:`Subnet` is the one
mutable record: the live subnet the components change, frozen into each sealed block.
"""

from __future__ import annotations

from collections.abc import Callable
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


class ChainFailure(Exception):
    """A refused call; ``name`` is the runtime's error name, e.g. ``SettingWeightsTooFast``."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class BlockUnavailable(LookupError):
    """A block that is not (or no longer) held: unknown hash, future height, or pruned state."""


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
    # Mechanisms 1.. (simnet.mechanisms.MechanismTerms, index mechid - 1); mechanism 0 is above.
    mechanisms: tuple = ()


@dataclass(frozen=True)
class TimelockedCommit:
    """One ``commit_timelocked_mechanism_weights`` as the runtime queues it."""

    hotkey: str
    commit_block: int
    ciphertext: bytes  # the compressed TLE ciphertext, as the SDK sent it
    reveal_round: int  # the drand round whose signature opens it
    mechid: int = 0  # the mechanism the weights are for (simnet.mechanisms)


@dataclass
class Subnet:
    """One subnet's parameters and state. Mutated only by the chain's components."""

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
    # The epoch's consensus switches (subtensor storage names in simnet.subnets.EPOCH_STORAGE).
    yuma3_on: bool = False
    liquid_alpha_on: bool = False
    alpha_low: int = 45_875  # AlphaValues (u16 low, high), about (0.7, 0.9)
    alpha_high: int = 58_982
    alpha_sigmoid_steepness: int = 1_000  # i16, divided by 100 in the sigmoid
    bonds_penalty: int = U16_MAX
    bonds_reset_enabled: bool = False
    activity_cutoff_factor: int = 13_889  # per-mille of tempo; replaces activity_cutoff
    null_consensus_enabled: bool = False
    # simnet.mechanisms: MechanismCountCurrent, and MechanismEmissionSplit (None: even).
    mechanism_count: int = 1
    mechanism_split: tuple[int, ...] | None = None
    alpha_out: int = 0
    pending_emission: int = 0
    last_epoch_block: int = 0
    epoch_index: int = 0
    registrations_this_block: int = 0
    # Commit-reveal and moving registration (simnet.commit_reveal, simnet.burn): neutral
    # defaults here; Subnets.create sets the chain's.
    reveal_period_epochs: int = 1
    min_burn_rao: int = 0
    max_burn_rao: int = 0
    burn_half_life: int = 0
    burn_increase_mult: float = 1.0
    min_non_immune_uids: int = 0
    immune_owner_uids_limit: int = 1  # ImmuneOwnerUidsLimit (default 1, at most 10)
    # epoch -> commits made in it, as TimelockedWeightCommits stores them
    timelocked_commits: dict[int, tuple[TimelockedCommit, ...]] | MappingProxyType = field(
        default_factory=dict
    )
    neurons: list[Neuron] | tuple[Neuron, ...] = field(default_factory=list)
    uids: dict[str, int] | MappingProxyType = field(default_factory=dict)
    stake: dict[tuple[str, str], int] | MappingProxyType = field(default_factory=dict)
    axons: dict[str, Axon] | MappingProxyType = field(default_factory=dict)
    # Stake and emission (simnet.economy): the root subnet's TaoWeight (parts of u64::MAX),
    # the EMA price the emission ranking reads, the last block's injections, and the
    # dividends of the last epoch split by where the stake came from.
    tao_weight: int = 0
    emission_ranked: bool = False
    moving_price: float = 0.0
    tao_in_emission: int = 0
    # simnet.emission_shares: SubnetEmissionEnabled, MinerBurned; on the root record only, the
    # chain-wide gate (EmissionGateBar as last stored, EmissionBarRank, EmissionBarQuantile,
    # EmissionGateExponent), as TaoWeight lives there.
    emission_enabled: bool = True
    miner_burned: float = 0.0
    emission_gate_bar: float = 0.0
    emission_bar_rank: int = 32
    emission_bar_quantile: float = 0.61
    emission_gate_exponent: float = 3.0
    alpha_in_emission: int = 0
    alpha_out_emission: int = 0
    alpha_dividends: dict[str, int] | MappingProxyType = field(default_factory=dict)
    tao_dividends: dict[str, int] | MappingProxyType = field(default_factory=dict)
    # Childkeys (simnet.governance): parent hotkey -> ((proportion u64, child), ...), and
    # the proposals still in cooldown: parent -> (children, cooldown block).
    children: dict[str, tuple] | MappingProxyType = field(default_factory=dict)
    pending_children: dict[str, tuple] | MappingProxyType = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.netuid == 0

    @property
    def n(self) -> int:
        return len(self.neurons)

    @property
    def price_rao(self) -> int:
        """Rao of TAO per one alpha (1e9 alpha rao) at the pool's current reserves."""
        if self.netuid == 0:
            return RAO_PER_TAO  # root stake is TAO itself
        return self.tao_in * RAO_PER_TAO // self.alpha_in if self.alpha_in else 0

    @property
    def activity_cutoff_blocks(self) -> int:
        """``get_activity_cutoff_blocks``: the cutoff the epoch uses (``activity_cutoff`` is the
        deprecated storage value, still read by the SDK)."""
        return max(1, self.activity_cutoff_factor * self.tempo // 1000)

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
            timelocked_commits=MappingProxyType(dict(self.timelocked_commits)),
            alpha_dividends=MappingProxyType(dict(self.alpha_dividends)),
            tao_dividends=MappingProxyType(dict(self.tao_dividends)),
            children=MappingProxyType(dict(self.children)),
            pending_children=MappingProxyType(dict(self.pending_children)),
        )


@dataclass(frozen=True)
class Accounts:
    balances: MappingProxyType
    nonces: MappingProxyType
    owner: MappingProxyType  # hotkey -> coldkey
    owned: MappingProxyType  # coldkey -> tuple of hotkeys
    # simnet.governance: hotkey -> delegate take (u16 parts); coldkey -> (execute block,
    # new-coldkey hash); coldkey -> block its swap was disputed at.
    takes: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    swap_announcements: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    swap_disputes: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    # ColdkeySuccessor (spec 475): old coldkey -> the new coldkey of its executed swap.
    successors: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


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

    def resolve(self, receipt: Receipt) -> None:
        self.receipt = receipt
        for fn in self._listeners:
            fn(self)
