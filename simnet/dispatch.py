"""The call table: which signed calls simnet applies, and what their outcome looks like.

Each handler raises :class:`ChainFailure` before changing anything. A failed dispatch is
reported with the runtime's ``DispatchError`` shape, the module error index taken from the
SDK's generated error catalog so the SDK decodes the name it expects. Timelocked
(commit-reveal) weights go to :mod:`simnet.commit_reveal`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from simnet.epoch import reset_bonds_on
from simnet.records import EXISTENTIAL_DEPOSIT_RAO, ChainFailure, Extrinsic

if TYPE_CHECKING:
    from simnet.accounts import Balances
    from simnet.commit_reveal import CommitReveal
    from simnet.governance import Governance
    from simnet.ledger import Ledger
    from simnet.mechanisms import Mechanisms
    from simnet.registration import Registrar
    from simnet.stake import StakePool
    from simnet.subnets import Subnets
    from simnet.weights import Weights

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

UNKNOWN_ERROR = (7, 255)  # SubtensorModule, an index no real error uses


def dispatch_info(key: tuple[str, str] | None) -> dict:
    """``None`` is the block's timestamp inherent."""
    pays = "No" if key is None or key in FREE_CALLS else "Yes"
    return {
        "weight": {"ref_time": 1_000_000, "proof_size": 0},
        "class": "Mandatory" if key is None else "Normal",
        "pays_fee": pays,
    }


def load_error_index() -> Mapping[str, tuple[int, int]]:
    """Runtime error name -> (pallet index, error index), from the SDK's catalog."""
    try:
        from bittensor._generated.errors import ERRORS
    except ImportError:  # the SDK moved its catalog; names still travel in the receipt
        return MappingProxyType({})
    out: dict[str, tuple[int, int]] = {}
    for (pallet, index), info in ERRORS.items():
        out.setdefault(info.name, (pallet, index))
    return MappingProxyType(out)


class ErrorIndex:
    """The catalog, read on the first failed call (importing it costs ~0.5 s, which a chain
    whose calls all succeed never pays). Each chain owns its index: nothing is shared between
    chains or held at module level, and once read the mapping is read-only."""

    def __init__(self, load: Callable[[], Mapping[str, tuple[int, int]]] = load_error_index):
        self._load = load
        self._index: Mapping[str, tuple[int, int]] | None = None

    def dispatch_error(self, name: str) -> dict:
        if name == "BadOrigin":
            return {"BadOrigin": None}
        if self._index is None:
            self._index = self._load()
        pallet, index = self._index.get(name, UNKNOWN_ERROR)
        return {"Module": {"index": pallet, "error": f"0x{index:02x}000000"}}


def _p(ext: Extrinsic, name: str, default: Any = ...) -> Any:
    params = ext.call.params
    if name in params:
        return params[name]
    if default is ...:
        raise ChainFailure("InvalidValue", f"{ext.call.name} needs parameter {name!r}")
    return default


def _limit(ext: Extrinsic) -> int | None:
    limit = _p(ext, "limit_price", None)
    return None if limit is None else int(limit)


class CallTable:
    """Signed calls -> the components that apply them."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        balances: Balances,
        subnets: Subnets,
        registrar: Registrar,
        stake: StakePool,
        weights: Weights,
        commit_reveal: CommitReveal,
        governance: Governance | None = None,
        errors: ErrorIndex | None = None,
        mechanisms: Mechanisms | None = None,
    ):
        self._commit_reveal = commit_reveal
        self._governance = governance
        self._ledger = ledger
        self._balances = balances
        self._subnets = subnets
        self._registrar = registrar
        self._stake = stake
        self._weights = weights
        self.errors = errors or ErrorIndex()
        self._handlers: Mapping[tuple[str, str], Callable[[Extrinsic], None]] = MappingProxyType(
            {
                ("SubtensorModule", "set_weights"): self._set_weights,
                ("SubtensorModule", "set_mechanism_weights"): self._set_weights,
                ("SubtensorModule", "commit_timelocked_mechanism_weights"): self._commit_timelocked,
                ("SubtensorModule", "serve_axon"): self._serve_axon,
                ("Commitments", "set_commitment"): self._set_commitment,
                ("SubtensorModule", "burned_register"): self._burned_register,
                ("SubtensorModule", "add_stake"): self._add_stake,
                ("SubtensorModule", "add_stake_limit"): self._add_stake,
                ("SubtensorModule", "remove_stake"): self._remove_stake,
                ("SubtensorModule", "remove_stake_limit"): self._remove_stake,
                ("Balances", "transfer_keep_alive"): self._transfer,
                ("Balances", "transfer_allow_death"): self._transfer,
                ("Balances", "transfer_all"): self._transfer_all,
                ("MevShield", "submit_encrypted"): self._shield_carrier,
            }
            | (self._governance_handlers() if governance is not None else {})
            | (_mechanism_handlers(mechanisms) if mechanisms is not None else {})
        )

    def _governance_handlers(self) -> dict[tuple[str, str], Callable[[Extrinsic], None]]:
        gov = self._governance
        assert gov is not None

        def take(increase: bool) -> Callable[[Extrinsic], None]:
            return lambda ext: gov.change_take(
                ext.signer, str(_p(ext, "hotkey")), int(_p(ext, "take")), increase=increase
            )

        m = "SubtensorModule"
        return {
            (m, "announce_coldkey_swap"): lambda ext: gov.announce_coldkey_swap(
                ext.signer, str(_p(ext, "new_coldkey_hash"))
            ),
            (m, "swap_coldkey_announced"): lambda ext: gov.swap_coldkey_announced(
                ext.signer, str(_p(ext, "new_coldkey"))
            ),
            (m, "dispute_coldkey_swap"): lambda ext: gov.dispute_coldkey_swap(ext.signer),
            (m, "clear_coldkey_swap_announcement"): lambda ext: gov.clear_coldkey_swap_announcement(
                ext.signer
            ),
            (m, "increase_take"): take(True),
            (m, "decrease_take"): take(False),
            (m, "set_children"): lambda ext: gov.set_children(
                ext.signer,
                str(_p(ext, "hotkey")),
                int(_p(ext, "netuid")),
                [(int(p), str(c)) for p, c in _p(ext, "children")],
            ),
        }

    def implements(self, key: tuple[str, str]) -> bool:
        return key in self._handlers

    def dispatch(self, ext: Extrinsic) -> None:
        self._handlers[(ext.call.module, ext.call.function)](ext)

    # ---------------------------------------------------------------- handlers

    def _set_weights(self, ext: Extrinsic) -> None:
        self._weights.set_weights(
            int(_p(ext, "netuid")),
            ext.signer,
            list(_p(ext, "dests")),
            list(_p(ext, "weights")),
            version_key=int(_p(ext, "version_key", 0)),
            mechid=int(_p(ext, "mecid", 0)),
        )

    def _commit_timelocked(self, ext: Extrinsic) -> None:
        commit = _p(ext, "commit")
        if isinstance(commit, str):
            commit = bytes.fromhex(commit.removeprefix("0x"))
        self._commit_reveal.commit(
            int(_p(ext, "netuid")),
            ext.signer,
            bytes(commit),
            int(_p(ext, "reveal_round")),
            int(_p(ext, "commit_reveal_version")),
            mechid=int(_p(ext, "mecid", 0)),
        )

    def _set_commitment(self, ext: Extrinsic) -> None:
        """The metadata commitment's effect on consensus only: ``OnMetadataCommitment`` ->
        ``do_reset_bonds``. The commitment itself is not stored (reads of ``CommitmentOf`` stay
        empty)."""
        sn = self._subnets.get(int(_p(ext, "netuid")))
        if ext.signer not in sn.uids:
            raise ChainFailure(
                "AccountNotAllowedCommit",
                f"{ext.signer} is not registered on subnet {sn.netuid}; only its neurons commit",
            )
        _p(ext, "info")
        if reset_bonds_on(sn, ext.signer):
            self._ledger.subnet_changed(sn.netuid)
        self._ledger.emit("Commitments", "Commitment", {"netuid": sn.netuid, "who": ext.signer})

    def _serve_axon(self, ext: Extrinsic) -> None:
        self._weights.serve_axon(
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

    def _burned_register(self, ext: Extrinsic) -> None:
        self._registrar.register(
            int(_p(ext, "netuid")), str(_p(ext, "hotkey")), ext.signer, per_block_limit=True
        )

    def _add_stake(self, ext: Extrinsic) -> None:
        self._stake.add_stake(
            ext.signer,
            str(_p(ext, "hotkey")),
            int(_p(ext, "netuid")),
            int(_p(ext, "amount_staked")),
            limit_price=_limit(ext),
        )

    def _remove_stake(self, ext: Extrinsic) -> None:
        self._stake.remove_stake(
            ext.signer,
            str(_p(ext, "hotkey")),
            int(_p(ext, "netuid")),
            int(_p(ext, "amount_unstaked")),
            limit_price=_limit(ext),
        )

    def _transfer(self, ext: Extrinsic) -> None:
        keep_alive = ext.call.function == "transfer_keep_alive"
        self._balances.transfer(
            ext.signer, str(_p(ext, "dest")), int(_p(ext, "value")), keep_alive=keep_alive
        )

    def _transfer_all(self, ext: Extrinsic) -> None:
        keep_alive = bool(_p(ext, "keep_alive", False))
        have = self._balances.balance(ext.signer)
        amount = have - EXISTENTIAL_DEPOSIT_RAO if keep_alive else have
        self._balances.transfer(ext.signer, str(_p(ext, "dest")), max(0, amount))

    def _shield_carrier(self, ext: Extrinsic) -> None:
        ciphertext = _p(ext, "ciphertext")
        if not isinstance(ciphertext, bytes | bytearray) or len(ciphertext) < 16:
            raise ChainFailure("DecryptionFailed", "the shielded payload is not a ciphertext")
        self._ledger.emit("MevShield", "EncryptedSubmitted", {"who": ext.signer})


def _mechanism_handlers(mech: Mechanisms) -> dict[tuple[str, str], Callable[[Extrinsic], None]]:
    """The owner's mechanism calls (:mod:`simnet.mechanisms`)."""

    def split(ext: Extrinsic) -> None:
        shares = _p(ext, "maybe_split", None)
        mech.set_split(
            int(_p(ext, "netuid")),
            None if shares is None else [int(x) for x in shares],
            signer=ext.signer,
        )

    return {
        ("AdminUtils", "sudo_set_mechanism_count"): lambda ext: mech.set_count(
            int(_p(ext, "netuid")), int(_p(ext, "mechanism_count")), signer=ext.signer
        ),
        ("AdminUtils", "sudo_set_mechanism_emission_split"): split,
    }
