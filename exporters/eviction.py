"""How soon a neuron is evicted: the inputs of the eviction ETA, per exported neuron.

The chain evicts only when a registration arrives on a full subnet, and then the neuron at
pruning position 0 (``snapshot.pruning_order``, subtensor's ``get_neuron_to_prune``). So a
neuron's eviction is counted in registrations, and its time is that count over the subnet's
registration rate. The agent exports the counts; Prometheus divides them by the rate it sees
in the churn counter (``bittensor_subnet_registrations_total``, ``exporters/events.py``) over
a window, and adds the immunity left (``alerts/src/eviction.yaml``):

* ``bittensor_neuron_registrations_until_pruned`` — the free uids (registrations fill them
  first and evict nobody) + position + 1; for an immune neuron outside today's pool, the
  position it takes when its immunity ends (below), counted from then. Absent where no
  registration can evict the neuron (the owner's hotkey, root, a neuron outside the pool
  the next eviction draws from).
* ``bittensor_neuron_pruning_position_after_immunity`` — for an immune neuron, its place in
  the eviction order were its immunity over now, at today's emissions and with every other
  neuron's immunity as it is.

Where the estimate is wrong (README, "Eviction ETA"): emissions change every epoch and the
order with them; other neurons' immunity ends too (they join the pool ahead of or behind it);
registrations come in bursts, not at the window's average; deregistrations free uids; and an
immune neuron's count assumes the free uids are still free when its immunity ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from common.metric_names import Exporter as N
from exporters.family import Family

# (uid, emission_rao, block_at_registration, immune)
Row = tuple[int, int, int, bool]


def positions_after_immunity(
    rows: Sequence[Row], floor: int, pruning_order: Callable[..., dict[int, int]]
) -> dict[int, int]:
    """uid -> pruning position of each immune row were its immunity over (the others as
    they are); ``pruning_order`` is ``snapshot.pruning_order`` (passed in: snapshot builds on
    this module)."""
    out: dict[int, int] = {}
    for i, row in enumerate(rows):
        if not row[3]:
            continue
        flipped = [*rows[:i], (row[0], row[1], row[2], False), *rows[i + 1 :]]
        position = pruning_order(flipped, floor).get(row[0])
        if position is not None:
            out[row[0]] = position
    return out


def registrations_until_pruned(
    free_uids: int, position: int | None, position_after_immunity: int | None, immune: bool
) -> int | None:
    """Registrations that evict this neuron: free uids fill first, then one per position. An
    immune neuron in the pool now (too few non-immune neurons left) is counted by its place
    now, else by its place once immunity ends."""
    at = position if position is not None or not immune else position_after_immunity
    return None if at is None else max(0, free_uids) + at + 1


def eviction_families(snap, neurons, labels) -> list[Family]:
    """The two gauges above for ``neurons``, ``labels[i]`` being neuron i's label values."""
    until: list[float | None] = []
    after: list[float | None] = []
    for nv in neurons:
        view = snap.subnets.get(nv.netuid)
        free = view.max_neurons - view.num_neurons if view is not None else 0
        n = registrations_until_pruned(
            free, nv.pruning_position, nv.pruning_position_after_immunity, nv.immune
        )
        until.append(None if n is None else float(n))
        p = nv.pruning_position_after_immunity
        after.append(None if p is None or not nv.immune else float(p))
    return [
        Family(N.NEURON_REGISTRATIONS_UNTIL_PRUNED, labels, until),
        Family(N.NEURON_PRUNING_POSITION_AFTER_IMMUNITY, labels, after),
    ]
