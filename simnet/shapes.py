"""Chain state in the decoded shapes the bittensor 11 SDK reads.

Every function here takes a sealed :class:`~simnet.state.BlockRecord` and returns plain
values shaped like the transport's decoded output for the same storage item or runtime API
(see ``bittensor-v11.md`` §1-5): u16 parts for scores, rao ints for amounts, ss58 strings for
accounts, ``None`` for a missing OptionQuery entry and the type default for a ValueQuery one.
A storage item or runtime API simnet does not model raises :class:`Unmodelled`, which the seam
turns into a ``ChainError`` naming it, rather than answering a silent ``None``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from simnet import mechagraph, views
from simnet.commit_reveal import COMMIT_REVEAL_VERSION
from simnet.mechagraph import timelocked_commits
from simnet.metagraph_shape import axon_of, metagraph, subnet_of, text_bytes
from simnet.records import (
    EXISTENTIAL_DEPOSIT_RAO,
    RAO_PER_TAO,
    U16_MAX,
    BlockRecord,
    EventRecord,
    Neuron,
    Subnet,
)
from simnet.subnets import EPOCH_STORAGE

# Root dividends into validators' beta baskets are not simulated: every basket is empty.
BASKETS_NEVER_FILLED: Mapping[str, Any] = MappingProxyType(
    {"get_root_basket_owed": 0, "get_root_basket_positions": ()}
)
MECHANISM_STRIDE = 4096  # LastUpdate/Weights/Bonds are keyed by mechid * 4096 + netuid
NETWORK_REGISTRATION_COST_RAO = 1_000 * RAO_PER_TAO


class Unmodelled(LookupError):
    """A storage item, constant or runtime API that simnet does not implement."""


# ----------------------------------------------------------------------------- helpers


def _netuid_of_index(index: Any) -> int:
    """Storage index -> netuid for items keyed by netuid alone (mechanism-keyed items read
    through :mod:`simnet.mechagraph`)."""
    index = int(index)
    if index >= MECHANISM_STRIDE:
        return -1
    return index


def prometheus_info() -> dict[str, int]:
    return {"block": 0, "version": 0, "ip": 0, "port": 0, "ip_type": 0}


def neuron_info(sn: Subnet, nrn: Neuron, *, lite: bool) -> dict[str, Any]:
    stakes = sorted(
        ((ck, amount) for (hk, ck), amount in sn.stake.items() if hk == nrn.hotkey),
    )
    record: dict[str, Any] = {
        "hotkey": nrn.hotkey,
        "coldkey": nrn.coldkey,
        "uid": nrn.uid,
        "netuid": sn.netuid,
        "active": nrn.active,
        "axon_info": axon_of(sn, nrn.hotkey),
        "prometheus_info": prometheus_info(),
        "stake": stakes,
        "rank": 0,
        "emission": nrn.emission,
        "incentive": nrn.incentive,
        "consensus": nrn.consensus,
        "trust": 0,
        "validator_trust": nrn.validator_trust,
        "dividends": nrn.dividends,
        "last_update": nrn.last_update,
        "validator_permit": nrn.validator_permit,
        "pruning_score": U16_MAX,
    }
    if not lite:
        record["weights"] = [list(p) for p in nrn.weights]
        record["bonds"] = [list(p) for p in nrn.bonds]
    return record


def neurons(rec: BlockRecord, netuid: Any, *, lite: bool) -> list[dict[str, Any]]:
    sn = subnet_of(rec, netuid)
    if sn is None:
        return []
    return [neuron_info(sn, nrn, lite=lite) for nrn in sn.neurons]


def next_epoch_block(sn: Subnet, block: int) -> int | None:
    """The first block after ``block`` whose epoch runs: ``(b + netuid + 1) % (tempo + 1) == 0``."""
    if sn.tempo <= 0:
        return None
    period = sn.tempo + 1
    b = block + 1
    return b + (-(b + sn.netuid + 1)) % period


def hyperparams_v3(sn: Subnet) -> list[dict[str, Any]]:
    # The full name set lives with the rest of the 2026 surface.
    return views.hyperparams_v3(sn)


def _epoch_scalars() -> dict[str, Any]:
    """Storage items of the epoch's switches (``simnet.subnets.EPOCH_STORAGE``) and
    ``AlphaValues`` (one tuple)."""
    defaults = Subnet.__dataclass_fields__
    items = {
        item: _persubnet_of(lambda s, r, a=attr: getattr(s, a), defaults[attr].default)
        for item, attr in EPOCH_STORAGE.items()
    }
    items["AlphaValues"] = _persubnet_of(lambda s, r: (s.alpha_low, s.alpha_high), (45875, 58982))
    return items


def mlkem768_public_key(seed: int) -> bytes:
    """A well-formed ML-KEM-768 encapsulation key: 768 12-bit coefficients (< 3329) packed
    two per three bytes, then a 32-byte rho. Nobody holds its secret; simnet never decrypts,
    because the shielded inner extrinsic is handed over signed (see ``SimSubstrate``)."""
    rng = random.Random(f"simnet-mlkem:{seed}")
    packed = bytearray()
    for _ in range(384):
        a, b = rng.randrange(3329), rng.randrange(3329)
        packed += bytes((a & 0xFF, (a >> 8) | ((b & 0x0F) << 4), b >> 4))
    packed += bytes(rng.randrange(256) for _ in range(32))
    return bytes(packed)


def event_dict(ev: EventRecord) -> dict[str, Any]:
    phase = "Initialization" if ev.extrinsic_idx is None else "ApplyExtrinsic"
    inner = {
        "module_id": ev.module,
        "event_id": ev.event,
        "attributes": ev.attributes,
    }
    return {
        "phase": phase,
        "extrinsic_idx": ev.extrinsic_idx,
        "event": inner,
        "event_index": None,
        "module_id": ev.module,
        "event_id": ev.event,
        "attributes": ev.attributes,
        "topics": [],
    }


def account_info(rec: BlockRecord, ss58: str) -> dict[str, Any]:
    return {
        "nonce": int(rec.accounts.nonces.get(ss58, 0)),
        "consumers": 0,
        "providers": 1 if ss58 in rec.accounts.balances else 0,
        "sufficients": 0,
        "data": {
            "free": int(rec.accounts.balances.get(ss58, 0)),
            "reserved": 0,
            "frozen": 0,
            "flags": 0,
        },
    }


def stake_info(rec: BlockRecord, hotkey: str, coldkey: str, netuid: int) -> dict[str, Any] | None:
    sn = subnet_of(rec, netuid)
    if sn is None:
        return None
    amount = sn.stake.get((hotkey, coldkey), 0)
    if not amount:  # the chain answers a zero record, not None
        return views.zero_stake_info(hotkey, coldkey, sn)
    return {
        "hotkey": hotkey,
        "coldkey": coldkey,
        "netuid": sn.netuid,
        "stake": amount,
        "locked": 0,
        "emission": 0,
        "tao_emission": 0,
        "drain": 0,
        "is_registered": hotkey in sn.uids,
    }


def stake_infos(rec: BlockRecord, coldkey: str) -> list[dict[str, Any]]:
    """Every stake position of a coldkey, subnet by subnet, hotkey by hotkey."""
    return [
        stake_info(rec, hk, coldkey, netuid)
        for netuid, sn in sorted(rec.subnets.items())
        for hk, owner in sorted(sn.stake)
        if owner == coldkey
    ]


def stake_availability(rec: BlockRecord, coldkeys: Any, netuids: Any) -> dict:
    """coldkey -> netuid -> {total, locked, available}: simnet locks no stake, so all of a
    coldkey's stake on a subnet is available."""
    out: dict[str, dict[int, dict[str, int]]] = {}
    for ck in map(str, coldkeys):
        per: dict[int, dict[str, int]] = {}
        for netuid in sorted({int(n) for n in netuids}):
            sn = subnet_of(rec, netuid)
            held = 0 if sn is None else sum(a for (_hk, c), a in sn.stake.items() if c == ck)
            per[netuid] = {"total": held, "locked": 0, "available": held}
        out[ck] = per
    return out


# ----------------------------------------------------------------------------- storage


def _persubnet_of(getter: Callable[[Subnet, BlockRecord], Any], default: Any) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        if not params:
            raise Unmodelled("this item needs a netuid parameter")
        sn = subnet_of(rec, params[0])
        return default if sn is None else getter(sn, rec)

    read.per_subnet = getter  # type: ignore[attr-defined]
    read.default = default  # type: ignore[attr-defined]
    return read


def _vector(getter: Callable[[Neuron], Any]) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        sn = subnet_of(rec, _netuid_of_index(params[0])) if params else None
        return [] if sn is None else [getter(n) for n in sn.neurons]

    return read


def _uid_value(getter: Callable[[Subnet, Neuron], Any], missing: Any) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        sn = subnet_of(rec, _netuid_of_index(params[0])) if params else None
        if sn is None or len(params) < 2:
            return missing
        uid = int(params[1])
        if not 0 <= uid < sn.n:
            return missing
        return getter(sn, sn.neurons[uid])

    return read


SUBNET_SCALARS: Mapping[str, Any] = MappingProxyType(
    {
        "Tempo": _persubnet_of(lambda s, r: s.tempo, 0),
        "Burn": _persubnet_of(lambda s, r: s.burn_rao, 0),
        "MinBurn": _persubnet_of(lambda s, r: s.min_burn_rao, 0),
        "MaxBurn": _persubnet_of(lambda s, r: s.max_burn_rao, 0),
        "BurnHalfLife": _persubnet_of(lambda s, r: s.burn_half_life, 0),
        # FixedU128 (64 fractional bits), decoded by the SDK as {"bits": n}
        "BurnIncreaseMult": _persubnet_of(
            lambda s, r: {"bits": round(s.burn_increase_mult * (1 << 64))}, {"bits": 0}
        ),
        "MinNonImmuneUids": _persubnet_of(lambda s, r: s.min_non_immune_uids, 0),
        "SubnetworkN": _persubnet_of(lambda s, r: s.n, 0),
        "NetworksAdded": _persubnet_of(lambda s, r: True, False),
        "MaxAllowedUids": _persubnet_of(lambda s, r: s.max_uids, 0),
        "MaxAllowedValidators": _persubnet_of(lambda s, r: s.max_validators, 0),
        "ImmunityPeriod": _persubnet_of(lambda s, r: s.immunity_period, 0),
        "ActivityCutoff": _persubnet_of(lambda s, r: s.activity_cutoff, 0),
        "WeightsSetRateLimit": _persubnet_of(lambda s, r: s.weights_rate_limit, 0),
        "MinAllowedWeights": _persubnet_of(lambda s, r: s.min_allowed_weights, 0),
        "MaxWeightsLimit": _persubnet_of(lambda s, r: s.max_weights_limit, U16_MAX),
        "WeightsVersionKey": _persubnet_of(lambda s, r: s.weights_version, 0),
        "CommitRevealWeightsEnabled": _persubnet_of(lambda s, r: s.commit_reveal, False),
        "SubnetEpochConsensus": _persubnet_of(
            lambda s, r: "Null" if s.null_consensus_enabled else "Yuma", "Yuma"
        ),
        "Yuma3On": _persubnet_of(lambda s, r: s.yuma3_on, False),
        # simnet.emission_shares: the switch and the miner-burn weight (U96F32 bits).
        "SubnetEmissionEnabled": _persubnet_of(lambda s, r: s.emission_enabled, True),
        "MinerBurned": _persubnet_of(
            lambda s, r: {"bits": round(s.miner_burned * (1 << 32))}, None
        ),
        "ImmuneOwnerUidsLimit": _persubnet_of(lambda s, r: s.immune_owner_uids_limit, 1),
        # The rest of get_subnets_to_emit_to's eligibility: every simnet subnet but root has
        # started emission (from its registration block) and has its subtoken enabled.
        "FirstEmissionBlockNumber": _persubnet_of(
            lambda s, r: None if s.is_root else s.registered_at, None
        ),
        "SubtokenEnabled": _persubnet_of(lambda s, r: not s.is_root, False),
        "LastEpochBlock": _persubnet_of(lambda s, r: s.last_epoch_block, 0),
        "LastMechansimStepBlock": _persubnet_of(lambda s, r: s.last_epoch_block, 0),
        "BlocksSinceLastStep": _persubnet_of(lambda s, r: r.number - s.last_epoch_block, 0),
        "PendingEpochAt": _persubnet_of(lambda s, r: 0, 0),
        "SubnetEpochIndex": _persubnet_of(lambda s, r: s.epoch_index, 0),
        "RevealPeriodEpochs": _persubnet_of(lambda s, r: s.reveal_period_epochs, 1),
        "CollateralLockShare": _persubnet_of(lambda s, r: 0, 0),
        "SubnetOwner": _persubnet_of(lambda s, r: s.owner_coldkey, None),
        "SubnetOwnerHotkey": _persubnet_of(lambda s, r: s.owner_hotkey, None),
        "NetworkRegisteredAt": _persubnet_of(lambda s, r: s.registered_at, 0),
        "SubnetTAO": _persubnet_of(lambda s, r: s.tao_in, 0),
        "SubnetAlphaIn": _persubnet_of(lambda s, r: s.alpha_in, 0),
        "SubnetAlphaOut": _persubnet_of(lambda s, r: s.alpha_out, 0),
        "Kappa": _persubnet_of(lambda s, r: s.kappa, 0),
        "BondsMovingAverage": _persubnet_of(lambda s, r: s.bonds_moving_average, 0),
        "ServingRateLimit": _persubnet_of(lambda s, r: s.serving_rate_limit, 0),
        "MaxRegistrationsPerBlock": _persubnet_of(lambda s, r: s.max_registrations_per_block, 0),
        "RegistrationsThisBlock": _persubnet_of(lambda s, r: s.registrations_this_block, 0),
        "NetworkRegistrationAllowed": _persubnet_of(lambda s, r: True, False),
        "TokenSymbol": _persubnet_of(lambda s, r: text_bytes(s.symbol), []),
        "SubnetMechanism": _persubnet_of(lambda s, r: 1, 0),
        "MechanismCountCurrent": _persubnet_of(lambda s, r: s.mechanism_count, 1),
        "MechanismEmissionSplit": _persubnet_of(mechagraph.split_read, None),
        "PendingEmission": _persubnet_of(lambda s, r: s.pending_emission, 0),
        **_epoch_scalars(),
    }
)

UID_ITEMS: Mapping[str, Any] = MappingProxyType(
    {
        "Keys": _uid_value(lambda s, n: n.hotkey, None),
        "BlockAtRegistration": _uid_value(lambda s, n: n.registered_at, 0),
        "Weights": mechagraph.uid_value(lambda t: [list(p) for p in t.weights], []),
        "Bonds": mechagraph.uid_value(lambda t: [list(p) for p in t.bonds], []),
    }
)

VECTORS: Mapping[str, Any] = MappingProxyType(
    {
        "LastUpdate": mechagraph.vector(lambda t: t.last_update),
        "ValidatorPermit": _vector(lambda n: n.validator_permit),
        "Active": _vector(lambda n: n.active),
        "Consensus": _vector(lambda n: n.consensus),
        "Incentive": mechagraph.vector(lambda t: t.incentive),
        "Dividends": _vector(lambda n: n.dividends),
        "ValidatorTrust": _vector(lambda n: n.validator_trust),
        "Emission": _vector(lambda n: n.emission),
    }
)


def query(rec: BlockRecord, module: str, item: str, params: list, *, mev_key: bytes) -> Any:
    """One storage value, as ``Substrate.query`` returns it."""
    params = list(params or [])
    if module == "SubtensorModule":
        if item in SUBNET_SCALARS:
            return SUBNET_SCALARS[item](rec, params)
        if item in VECTORS:
            return VECTORS[item](rec, params)
        if item in UID_ITEMS:
            return UID_ITEMS[item](rec, params)
        if item == "Uids":
            sn = subnet_of(rec, params[0])
            return None if sn is None else sn.uids.get(str(params[1]))
        if item == "Axons":
            sn = subnet_of(rec, params[0])
            axon = None if sn is None else sn.axons.get(str(params[1]))
            return None if axon is None else axon.as_dict()
        if item == "Prometheus":
            return None
        if item == "IsNetworkMember":
            sn = subnet_of(rec, params[1])
            return sn is not None and str(params[0]) in sn.uids
        if item == "Owner":
            return rec.accounts.owner.get(str(params[0]))
        if item == "OwnedHotkeys":
            return list(rec.accounts.owned.get(str(params[0]), ()))
        if item == "TotalHotkeyAlpha":
            sn = subnet_of(rec, params[1])
            return 0 if sn is None else sn.hotkey_alpha(str(params[0]))
        if item == "TotalNetworks":
            return len(rec.subnets)
        if item == "TxRateLimit":
            return 0
        if item == "CommitRevealWeightsVersion":
            return COMMIT_REVEAL_VERSION
        if item == "SubnetLimit":
            return 128
    elif module == "System":
        if item == "Account":
            return account_info(rec, str(params[0]))
        if item == "Number":
            return rec.number
        if item == "Events":
            return [event_dict(ev) for ev in rec.events]
    elif module == "Timestamp" and item == "Now":
        return rec.timestamp_ms
    elif module == "MevShield" and item in ("NextKey", "CurrentKey"):
        return mev_key
    elif module == "Balances" and item == "TotalIssuance":
        return sum(rec.accounts.balances.values())
    found, value = views.query(rec, module, item, params)
    if found:
        return value
    raise Unmodelled(f"simnet does not model storage {module}.{item}")


def query_map(rec: BlockRecord, module: str, item: str, params: list) -> list[tuple[Any, Any]]:
    """A storage map as ``[(key, value)]``: the free key component(s) as key."""
    params = list(params or [])
    if module == "Commitments" and item in ("CommitmentOf", "RevealedCommitments"):
        return []
    if module == "SubtensorModule":
        if item in SUBNET_SCALARS and not params:
            getter = SUBNET_SCALARS[item].per_subnet
            return [(netuid, getter(sn, rec)) for netuid, sn in sorted(rec.subnets.items())]
        if item == "TimelockedWeightCommits" and len(params) == 1:
            return timelocked_commits(rec, params[0])
        if item == "IsNetworkMember" and len(params) == 1:
            hk = str(params[0])
            return [(netuid, True) for netuid, sn in sorted(rec.subnets.items()) if hk in sn.uids]
        if item == "Uids" and len(params) == 1:
            sn = subnet_of(rec, params[0])
            return [] if sn is None else [(n.hotkey, n.uid) for n in sn.neurons]
        if item == "Keys" and len(params) == 1:
            sn = subnet_of(rec, params[0])
            return [] if sn is None else [(n.uid, n.hotkey) for n in sn.neurons]
        if item in UID_ITEMS and len(params) == 1:
            sn, _mechid = mechagraph.subnet_at(rec, params[0])
            if sn is None:
                return []
            return [(n.uid, UID_ITEMS[item](rec, [params[0], n.uid])) for n in sn.neurons]
        if item == "Axons" and len(params) == 1:
            sn = subnet_of(rec, params[0])
            return [] if sn is None else [(hk, a.as_dict()) for hk, a in sorted(sn.axons.items())]
        if item == "Owner" and not params:
            return sorted(rec.accounts.owner.items())
        if item in views.PER_SUBNET_READS and not params:
            return [(n, views.query(rec, module, item, [n])[1]) for n in sorted(rec.subnets)]
        if item in views.NEVER_RECORDED and not params:
            return []
    if module == "System" and item == "Account" and not params:
        return [(ss58, account_info(rec, ss58)) for ss58 in sorted(rec.accounts.balances)]
    raise Unmodelled(f"simnet does not model map {module}.{item} with {len(params)} key(s)")


def runtime_call(rec: BlockRecord, api: str, method: str, params: Any) -> Any:
    """A runtime API call, as ``Substrate.runtime_call`` returns it."""
    args = params if isinstance(params, dict) else list(params or [])

    def arg(i: int, name: str) -> Any:
        return args[name] if isinstance(args, dict) else args[i]

    if api == "NeuronInfoRuntimeApi":
        if method in ("get_neurons_lite", "get_neurons"):
            return neurons(rec, arg(0, "netuid"), lite=method == "get_neurons_lite")
        if method in ("get_neuron_lite", "get_neuron"):
            sn = subnet_of(rec, arg(0, "netuid"))
            uid = int(arg(1, "uid"))
            if sn is None or not 0 <= uid < sn.n:
                return None
            return neuron_info(sn, sn.neurons[uid], lite=method == "get_neuron_lite")
    elif api == "SubnetInfoRuntimeApi":
        if method == "get_metagraph":
            return metagraph(rec, arg(0, "netuid"))
        if method == "get_next_epoch_start_block":
            sn = subnet_of(rec, arg(0, "netuid"))
            return None if sn is None else next_epoch_block(sn, rec.number)
        if method == "get_subnet_hyperparams_v3":
            sn = subnet_of(rec, arg(0, "netuid"))
            return None if sn is None else hyperparams_v3(sn)
    elif api == "SwapRuntimeApi":
        if method == "current_alpha_price":
            sn = subnet_of(rec, arg(0, "netuid"))
            return 0 if sn is None else sn.price_rao
        if method == "current_alpha_price_all":
            return [{"netuid": k, "price": sn.price_rao} for k, sn in sorted(rec.subnets.items())]
        if method in ("sim_swap_tao_for_alpha", "sim_swap_alpha_for_tao"):
            return _sim_swap(rec, method, args)
    elif api == "StakeInfoRuntimeApi":
        if method == "get_stake_info_for_hotkey_coldkey_netuid":
            return stake_info(rec, str(arg(0, "hotkey")), str(arg(1, "coldkey")), arg(2, "netuid"))
        if method == "get_stake_info_for_coldkey":
            return stake_infos(rec, str(arg(0, "coldkey")))
        if method == "get_stake_info_for_coldkeys":
            return [(str(ck), stake_infos(rec, str(ck))) for ck in arg(0, "coldkey_accounts")]
        if method == "get_stake_availability_for_coldkeys":
            return stake_availability(rec, arg(0, "coldkeys"), arg(1, "netuids"))
    elif api == "SubnetRegistrationRuntimeApi" and method == "get_network_registration_cost":
        return NETWORK_REGISTRATION_COST_RAO
    found, value = _surface_call(rec, api, method, arg)
    if found:
        return value
    raise Unmodelled(f"simnet does not model runtime API {api}.{method}")


def _surface_call(rec: BlockRecord, api: str, method: str, arg: Any) -> tuple[bool, Any]:
    """(found, value) for the runtime APIs of the 2026 surface (:mod:`simnet.views`) and the
    mechagraphs (:mod:`simnet.mechagraph`); ``arg(i, name)`` reads the call's i-th (or named)
    parameter."""
    if api == "AccountNonceApi" and method == "account_nonce":
        return True, int(rec.accounts.nonces.get(str(arg(0, "account")), 0))
    if api == "BetaBasketRuntimeApi" and method in BASKETS_NEVER_FILLED:
        return True, BASKETS_NEVER_FILLED[method]
    if api != "SubnetInfoRuntimeApi":
        return False, None
    if method in mechagraph.MECHAGRAPH_METHODS:
        return True, mechagraph.runtime_call(rec, method, arg)
    if method == "get_all_dynamic_info":
        return True, [views.dynamic_info(rec, sn) for _n, sn in sorted(rec.subnets.items())]
    if method == "get_subnets_info":
        return True, [views.subnet_info(rec, sn) for _n, sn in sorted(rec.subnets.items())]
    if method not in (
        "get_dynamic_info",
        "get_subnet_info",
        "get_subnet_hyperparams",
        "get_selective_metagraph",
    ):
        return False, None
    sn = rec.subnets.get(int(arg(0, "netuid")))
    if sn is None:
        return True, None
    if method == "get_dynamic_info":
        return True, views.dynamic_info(rec, sn)
    if method == "get_subnet_info":
        return True, views.subnet_info(rec, sn)
    if method == "get_subnet_hyperparams":
        return True, views.hyperparams_v1(sn)
    full = metagraph(rec, sn.netuid)
    return True, views.selective_metagraph(full, list(arg(1, "metagraph_indexes")))


def _sim_swap(rec: BlockRecord, method: str, args: Any) -> dict[str, int]:
    netuid = args["netuid"] if isinstance(args, dict) else args[0]
    sn = subnet_of(rec, netuid)
    if sn is None:
        raise Unmodelled(f"subnet {netuid} does not exist")
    k = sn.tao_in * sn.alpha_in
    if method == "sim_swap_tao_for_alpha":
        tao = int(args["tao"] if isinstance(args, dict) else args[1])
        alpha = sn.alpha_in - -(-k // (sn.tao_in + tao))
        ideal = tao * RAO_PER_TAO // sn.price_rao if sn.price_rao else 0
        return {
            "tao_amount": tao,
            "alpha_amount": alpha,
            "tao_fee": 0,
            "alpha_fee": 0,
            "tao_slippage": 0,
            "alpha_slippage": max(0, ideal - alpha),
        }
    alpha = int(args["alpha"] if isinstance(args, dict) else args[1])
    tao = sn.tao_in - -(-k // (sn.alpha_in + alpha))
    ideal = alpha * sn.price_rao // RAO_PER_TAO
    return {
        "tao_amount": tao,
        "alpha_amount": alpha,
        "tao_fee": 0,
        "alpha_fee": 0,
        "tao_slippage": max(0, ideal - tao),
        "alpha_slippage": 0,
    }


def constant(module: str, name: str, *, block_time: float) -> Any:
    if (module, name) == ("Aura", "SlotDuration"):
        return round(block_time * 1000)
    if (module, name) == ("Balances", "ExistentialDeposit"):
        return EXISTENTIAL_DEPOSIT_RAO
    if (module, name) == ("Timestamp", "MinimumPeriod"):
        return round(block_time * 500)
    raise Unmodelled(f"simnet does not model constant {module}.{name}")
