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

from simnet import mechagraph
from simnet.commit_reveal import COMMIT_REVEAL_VERSION
from simnet.mechagraph import timelocked_commits
from simnet.records import (
    EMPTY_AXON,
    EXISTENTIAL_DEPOSIT_RAO,
    RAO_PER_TAO,
    U16_MAX,
    BlockRecord,
    EventRecord,
    Neuron,
    Subnet,
)
from simnet.subnets import EPOCH_STORAGE

MECHANISM_STRIDE = 4096  # LastUpdate/Weights/Bonds are keyed by mechid * 4096 + netuid
SPEC_VERSION = 438
NETWORK_REGISTRATION_COST_RAO = 1_000 * RAO_PER_TAO
I96F32_ONE = 1 << 32


class Unmodelled(LookupError):
    """A storage item, constant or runtime API that simnet does not implement."""


# ----------------------------------------------------------------------------- helpers


def _subnet(rec: BlockRecord, netuid: Any) -> Subnet | None:
    try:
        return rec.subnets.get(int(netuid))
    except (TypeError, ValueError):
        return None


def _netuid_of_index(index: Any) -> int:
    """Storage index -> netuid for items keyed by netuid alone (mechanism-keyed items read
    through :mod:`simnet.mechagraph`)."""
    index = int(index)
    if index >= MECHANISM_STRIDE:
        return -1
    return index


def _text_bytes(text: str) -> list[int]:
    return list(text.encode("utf-8"))


def prometheus_info() -> dict[str, int]:
    return {"block": 0, "version": 0, "ip": 0, "port": 0, "ip_type": 0}


def axon_of(sn: Subnet, hotkey: str) -> dict[str, int]:
    return (sn.axons.get(hotkey) or EMPTY_AXON).as_dict()


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
    sn = _subnet(rec, netuid)
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


def metagraph(rec: BlockRecord, netuid: Any) -> dict[str, Any] | None:
    sn = _subnet(rec, netuid)
    if sn is None:
        return None
    alpha = sn.alpha_by_hotkey()
    nrns = sn.neurons
    price_bits = sn.tao_in * I96F32_ONE // sn.alpha_in if sn.alpha_in else 0
    graph = {
        "netuid": sn.netuid,
        "name": _text_bytes(sn.name),
        "symbol": _text_bytes(sn.symbol),
        "identity": None,
        "network_registered_at": sn.registered_at,
        "owner_hotkey": sn.owner_hotkey,
        "owner_coldkey": sn.owner_coldkey,
        "block": rec.number,
        "tempo": sn.tempo,
        "last_step": sn.last_epoch_block,
        "blocks_since_last_step": rec.number - sn.last_epoch_block,
        "subnet_emission": sn.emission_per_block_rao,
        "alpha_in": sn.alpha_in,
        "alpha_out": sn.alpha_out,
        "tao_in": sn.tao_in,
        "alpha_out_emission": sn.emission_per_block_rao,
        "alpha_in_emission": 0,
        "tao_in_emission": 0,
        "pending_alpha_emission": sn.pending_emission,
        "pending_root_emission": 0,
        "subnet_volume": 0,
        "moving_price": {"bits": price_bits},
        "rho": 10,
        "kappa": sn.kappa,
        "min_allowed_weights": sn.min_allowed_weights,
        "max_weights_limit": sn.max_weights_limit,
        "weights_version": sn.weights_version,
        "weights_rate_limit": sn.weights_rate_limit,
        "activity_cutoff": sn.activity_cutoff,
        "max_validators": sn.max_validators,
        "num_uids": sn.n,
        "max_uids": sn.max_uids,
        "burn": sn.burn_rao,
        "difficulty": 0,
        "registration_allowed": True,
        "pow_registration_allowed": False,
        "immunity_period": sn.immunity_period,
        "min_difficulty": 0,
        "max_difficulty": 0,
        "min_burn": sn.min_burn_rao,
        "max_burn": sn.max_burn_rao,
        "adjustment_alpha": 0,
        "adjustment_interval": 0,
        "target_regs_per_interval": sn.max_registrations_per_block,
        "max_regs_per_block": sn.max_registrations_per_block,
        "serving_rate_limit": sn.serving_rate_limit,
        "commit_reveal_weights_enabled": sn.commit_reveal,
        "commit_reveal_period": sn.reveal_period_epochs,
        "liquid_alpha_enabled": False,
        "alpha_high": 58_982,
        "alpha_low": 45_875,
        "bonds_moving_avg": sn.bonds_moving_average,
        "hotkeys": [n.hotkey for n in nrns],
        "coldkeys": [n.coldkey for n in nrns],
        "identities": [None for _ in nrns],
        "axons": [axon_of(sn, n.hotkey) for n in nrns],
        "active": [n.active for n in nrns],
        "validator_permit": [n.validator_permit for n in nrns],
        "pruning_score": [U16_MAX for _ in nrns],
        "last_update": [n.last_update for n in nrns],
        "emission": [n.emission for n in nrns],
        "dividends": [n.dividends for n in nrns],
        "incentives": [n.incentive for n in nrns],
        "consensus": [n.consensus for n in nrns],
        "trust": [0 for _ in nrns],
        "rank": [0 for _ in nrns],
        "block_at_registration": [n.registered_at for n in nrns],
        "alpha_stake": [alpha.get(n.hotkey, 0) for n in nrns],
        "tao_stake": [0 for _ in nrns],
        "total_stake": [alpha.get(n.hotkey, 0) for n in nrns],
        "tao_dividends_per_hotkey": [(n.hotkey, 0) for n in nrns],
        "alpha_dividends_per_hotkey": [(n.hotkey, 0) for n in nrns],
    }
    from simnet import views  # the 2026 surface: stake columns, emission terms, collateral

    return graph | views.metagraph_economy(rec, sn)


def hyperparams_v3(sn: Subnet) -> list[dict[str, Any]]:
    from simnet import views  # the full name set lives with the rest of the 2026 surface

    return views.hyperparams_v3(sn)


def _epoch_scalars() -> dict[str, Any]:
    """Storage items of the epoch's switches (``simnet.subnets.EPOCH_STORAGE``) and
    ``AlphaValues`` (one tuple)."""
    defaults = Subnet.__dataclass_fields__
    items = {
        item: _per_subnet(lambda s, r, a=attr: getattr(s, a), defaults[attr].default)
        for item, attr in EPOCH_STORAGE.items()
    }
    items["AlphaValues"] = _per_subnet(lambda s, r: (s.alpha_low, s.alpha_high), (45875, 58982))
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
    sn = _subnet(rec, netuid)
    if sn is None:
        return None
    amount = sn.stake.get((hotkey, coldkey), 0)
    if not amount:
        from simnet import views  # the chain answers a zero record, not None

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


# ----------------------------------------------------------------------------- storage


def _per_subnet(getter: Callable[[Subnet, BlockRecord], Any], default: Any) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        if not params:
            raise Unmodelled("this item needs a netuid parameter")
        sn = _subnet(rec, params[0])
        return default if sn is None else getter(sn, rec)

    read.per_subnet = getter  # type: ignore[attr-defined]
    read.default = default  # type: ignore[attr-defined]
    return read


def _vector(getter: Callable[[Neuron], Any]) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        sn = _subnet(rec, _netuid_of_index(params[0])) if params else None
        return [] if sn is None else [getter(n) for n in sn.neurons]

    return read


def _uid_value(getter: Callable[[Subnet, Neuron], Any], missing: Any) -> Any:
    def read(rec: BlockRecord, params: list) -> Any:
        sn = _subnet(rec, _netuid_of_index(params[0])) if params else None
        if sn is None or len(params) < 2:
            return missing
        uid = int(params[1])
        if not 0 <= uid < sn.n:
            return missing
        return getter(sn, sn.neurons[uid])

    return read


SUBNET_SCALARS: Mapping[str, Any] = MappingProxyType(
    {
        "Tempo": _per_subnet(lambda s, r: s.tempo, 0),
        "Burn": _per_subnet(lambda s, r: s.burn_rao, 0),
        "MinBurn": _per_subnet(lambda s, r: s.min_burn_rao, 0),
        "MaxBurn": _per_subnet(lambda s, r: s.max_burn_rao, 0),
        "BurnHalfLife": _per_subnet(lambda s, r: s.burn_half_life, 0),
        "BurnIncreaseMult": _per_subnet(lambda s, r: round(s.burn_increase_mult * (1 << 64)), 0),
        "MinNonImmuneUids": _per_subnet(lambda s, r: s.min_non_immune_uids, 0),
        "SubnetworkN": _per_subnet(lambda s, r: s.n, 0),
        "NetworksAdded": _per_subnet(lambda s, r: True, False),
        "MaxAllowedUids": _per_subnet(lambda s, r: s.max_uids, 0),
        "MaxAllowedValidators": _per_subnet(lambda s, r: s.max_validators, 0),
        "ImmunityPeriod": _per_subnet(lambda s, r: s.immunity_period, 0),
        "ActivityCutoff": _per_subnet(lambda s, r: s.activity_cutoff, 0),
        "WeightsSetRateLimit": _per_subnet(lambda s, r: s.weights_rate_limit, 0),
        "MinAllowedWeights": _per_subnet(lambda s, r: s.min_allowed_weights, 0),
        "MaxWeightsLimit": _per_subnet(lambda s, r: s.max_weights_limit, U16_MAX),
        "WeightsVersionKey": _per_subnet(lambda s, r: s.weights_version, 0),
        "CommitRevealWeightsEnabled": _per_subnet(lambda s, r: s.commit_reveal, False),
        "SubnetEpochConsensus": _per_subnet(
            lambda s, r: "Null" if s.null_consensus_enabled else "Yuma", "Yuma"
        ),
        "Yuma3On": _per_subnet(lambda s, r: s.yuma3_on, False),
        "LastEpochBlock": _per_subnet(lambda s, r: s.last_epoch_block, 0),
        "LastMechansimStepBlock": _per_subnet(lambda s, r: s.last_epoch_block, 0),
        "BlocksSinceLastStep": _per_subnet(lambda s, r: r.number - s.last_epoch_block, 0),
        "PendingEpochAt": _per_subnet(lambda s, r: 0, 0),
        "SubnetEpochIndex": _per_subnet(lambda s, r: s.epoch_index, 0),
        "RevealPeriodEpochs": _per_subnet(lambda s, r: s.reveal_period_epochs, 1),
        "CollateralLockShare": _per_subnet(lambda s, r: 0, 0),
        "SubnetOwner": _per_subnet(lambda s, r: s.owner_coldkey, None),
        "SubnetOwnerHotkey": _per_subnet(lambda s, r: s.owner_hotkey, None),
        "NetworkRegisteredAt": _per_subnet(lambda s, r: s.registered_at, 0),
        "SubnetTAO": _per_subnet(lambda s, r: s.tao_in, 0),
        "SubnetAlphaIn": _per_subnet(lambda s, r: s.alpha_in, 0),
        "SubnetAlphaOut": _per_subnet(lambda s, r: s.alpha_out, 0),
        "Kappa": _per_subnet(lambda s, r: s.kappa, 0),
        "BondsMovingAverage": _per_subnet(lambda s, r: s.bonds_moving_average, 0),
        "ServingRateLimit": _per_subnet(lambda s, r: s.serving_rate_limit, 0),
        "MaxRegistrationsPerBlock": _per_subnet(lambda s, r: s.max_registrations_per_block, 0),
        "RegistrationsThisBlock": _per_subnet(lambda s, r: s.registrations_this_block, 0),
        "NetworkRegistrationAllowed": _per_subnet(lambda s, r: True, False),
        "TokenSymbol": _per_subnet(lambda s, r: _text_bytes(s.symbol), []),
        "SubnetMechanism": _per_subnet(lambda s, r: 1, 0),
        "MechanismCountCurrent": _per_subnet(lambda s, r: s.mechanism_count, 1),
        "MechanismEmissionSplit": _per_subnet(mechagraph.split_read, None),
        "PendingEmission": _per_subnet(lambda s, r: s.pending_emission, 0),
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
            sn = _subnet(rec, params[0])
            return None if sn is None else sn.uids.get(str(params[1]))
        if item == "Axons":
            sn = _subnet(rec, params[0])
            axon = None if sn is None else sn.axons.get(str(params[1]))
            return None if axon is None else axon.as_dict()
        if item == "Prometheus":
            return None
        if item == "IsNetworkMember":
            sn = _subnet(rec, params[1])
            return sn is not None and str(params[0]) in sn.uids
        if item == "Owner":
            return rec.accounts.owner.get(str(params[0]))
        if item == "OwnedHotkeys":
            return list(rec.accounts.owned.get(str(params[0]), ()))
        if item == "TotalHotkeyAlpha":
            sn = _subnet(rec, params[1])
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
    from simnet import views

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
            sn = _subnet(rec, params[0])
            return [] if sn is None else [(n.hotkey, n.uid) for n in sn.neurons]
        if item == "Keys" and len(params) == 1:
            sn = _subnet(rec, params[0])
            return [] if sn is None else [(n.uid, n.hotkey) for n in sn.neurons]
        if item in UID_ITEMS and len(params) == 1:
            sn, _mechid = mechagraph.subnet_at(rec, params[0])
            if sn is None:
                return []
            return [(n.uid, UID_ITEMS[item](rec, [params[0], n.uid])) for n in sn.neurons]
        if item == "Axons" and len(params) == 1:
            sn = _subnet(rec, params[0])
            return [] if sn is None else [(hk, a.as_dict()) for hk, a in sorted(sn.axons.items())]
        if item == "Owner" and not params:
            return sorted(rec.accounts.owner.items())
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
            sn = _subnet(rec, arg(0, "netuid"))
            uid = int(arg(1, "uid"))
            if sn is None or not 0 <= uid < sn.n:
                return None
            return neuron_info(sn, sn.neurons[uid], lite=method == "get_neuron_lite")
    elif api == "SubnetInfoRuntimeApi":
        if method == "get_metagraph":
            return metagraph(rec, arg(0, "netuid"))
        if method == "get_next_epoch_start_block":
            sn = _subnet(rec, arg(0, "netuid"))
            return None if sn is None else next_epoch_block(sn, rec.number)
        if method == "get_subnet_hyperparams_v3":
            sn = _subnet(rec, arg(0, "netuid"))
            return None if sn is None else hyperparams_v3(sn)
    elif api == "SwapRuntimeApi":
        if method == "current_alpha_price":
            sn = _subnet(rec, arg(0, "netuid"))
            return 0 if sn is None else sn.price_rao
        if method == "current_alpha_price_all":
            return [{"netuid": k, "price": sn.price_rao} for k, sn in sorted(rec.subnets.items())]
        if method in ("sim_swap_tao_for_alpha", "sim_swap_alpha_for_tao"):
            return _sim_swap(rec, method, args)
    elif api == "StakeInfoRuntimeApi":
        if method == "get_stake_info_for_hotkey_coldkey_netuid":
            return stake_info(rec, str(arg(0, "hotkey")), str(arg(1, "coldkey")), arg(2, "netuid"))
        if method == "get_stake_info_for_coldkey":
            ck = str(arg(0, "coldkey"))
            out = []
            for netuid, sn in sorted(rec.subnets.items()):
                for hk, owner in sorted(sn.stake):
                    if owner == ck:
                        out.append(stake_info(rec, hk, ck, netuid))
            return out
    elif api == "SubnetRegistrationRuntimeApi" and method == "get_network_registration_cost":
        return NETWORK_REGISTRATION_COST_RAO
    from simnet import views

    found, value = views.runtime_call(rec, api, method, arg)
    if found:
        return value
    raise Unmodelled(f"simnet does not model runtime API {api}.{method}")


def _sim_swap(rec: BlockRecord, method: str, args: Any) -> dict[str, int]:
    netuid = args["netuid"] if isinstance(args, dict) else args[0]
    sn = _subnet(rec, netuid)
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
