"""subtensor's own ``get_neuron_to_prune`` tests, run on simnet's registration rule.

Source: ``pallets/subtensor/src/tests/uids.rs`` (opentensor/subtensor, the rule in
``subnets/registration.rs``: ``get_immune_owner_tuples`` and ``get_neuron_to_prune``). Each case
builds the test's subnet through simnet's chain (``add_dynamic_network`` registers the owner's
hotkey first) and asks ``Chain.neuron_to_evict``, the path a registration into a full subnet
takes.
"""

from __future__ import annotations

from dataclasses import replace

from simnet.state import RAO_PER_TAO, Chain
from simnet.subnets import legacy_rules
from simnet.testing import dev_keypair

TAO = RAO_PER_TAO


def addr(name: str) -> str:
    return dev_keypair(name).ss58_address


def subnet(*, owner_hotkey: str | None, limit: int, immunity: int, floor: int) -> Chain:
    chain = Chain(block_time=0.25)
    chain.create_subnet(
        1,
        tempo=0,
        max_uids=16,
        immunity_period=immunity,
        owner_coldkey=addr("owner_ck"),
        owner_hotkey=owner_hotkey or addr("owner_hk_unregistered"),
        **(legacy_rules() | {"min_non_immune_uids": floor, "immune_owner_uids_limit": limit}),
    )
    return chain


def register(chain: Chain, hotkey: str, coldkey: str) -> int:
    chain.fund(coldkey, 10 * TAO)
    return chain.register(1, hotkey, coldkey)


def set_emissions(chain: Chain, by_uid: dict[int, int]) -> None:
    sn = chain.subnet(1)
    for uid, value in by_uid.items():
        sn.neurons[uid] = replace(sn.neurons[uid], emission=value)


def test_get_neuron_to_prune_owner_not_pruned():
    chain = subnet(owner_hotkey=addr("owner_hk"), limit=1, immunity=4096, floor=0)
    owner = register(chain, addr("owner_hk"), addr("owner_ck"))
    uid_1 = register(chain, addr("hk1000"), addr("ck2000"))
    uid_2 = register(chain, addr("hk1001"), addr("ck2001"))
    set_emissions(chain, {owner: 0, uid_1: 1, uid_2: 2})
    assert chain.neuron_to_evict(1) == uid_1


def test_get_neuron_to_prune_owner_pruned_if_not_in_sn_owner_hotkey_map():
    chain = subnet(owner_hotkey=addr("owner_hk"), limit=1, immunity=4096, floor=0)
    owner = register(chain, addr("owner_hk"), addr("owner_ck"))
    other_owner = register(chain, addr("other_owner_hk"), addr("owner_ck"))
    uid_2 = register(chain, addr("hk1000"), addr("ck2000"))
    uid_3 = register(chain, addr("hk1001"), addr("ck2001"))
    set_emissions(chain, {owner: 0, other_owner: 1, uid_2: 2, uid_3: 3})
    # Case 1: SubnetOwnerHotkey is the owner's first hotkey; the owner's second is prunable.
    assert chain.neuron_to_evict(1) == other_owner
    # Case 2: SubnetOwnerHotkey moves to the second hotkey; the first loses its immunity.
    chain.subnet(1).owner_hotkey = addr("other_owner_hk")
    assert chain.neuron_to_evict(1) == owner


def test_prune_respects_min_non_immune_floor_prefers_immune():
    chain = subnet(owner_hotkey=None, limit=0, immunity=1000, floor=0)
    for i in range(3):
        register(chain, addr(f"hk{10_000 + i}"), addr(f"ck{20_000 + i}"))
        chain.step(1)
    chain.step(1000 + 5)
    newest = register(chain, addr("hk99999"), addr("ck88888"))
    chain.subnet(1).min_non_immune_uids = 3
    assert newest == 3
    assert chain.neuron_to_evict(1) == 3


def test_prune_tie_breakers_non_immune_emission_block_uid():
    chain = subnet(owner_hotkey=None, limit=0, immunity=0, floor=0)
    for i in range(3):
        register(chain, addr(f"hk{30_000 + i}"), addr(f"ck{40_000 + i}"))
        chain.step(1)
    set_emissions(chain, {0: 10, 1: 10, 2: 10})
    assert chain.neuron_to_evict(1) == 0


def test_prune_all_owner_immortal_returns_none():
    chain = subnet(owner_hotkey=None, limit=10, immunity=1, floor=0)
    for name in ("owner_hk_0", "owner_hk_1", "owner_hk_2"):
        register(chain, addr(name), addr("owner_ck"))
    chain.step(5)
    assert chain.neuron_to_evict(1) is None
