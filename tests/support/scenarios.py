"""Simnet scenarios the tests share: for the process-level tests a subnet whose only genesis
neuron is a staked validator that sets no weights of its own, so the neurons under test decide
them; for the event tests a small subnet of two validators and two miners."""

from __future__ import annotations

from typing import Any

VALIDATOR_NAME = "tw-validator"
"""The genesis validator's name: its hotkey is ``simnet.scenario.neuron_keypair`` of this."""


def one_validator_scenario(name: str, netuid: int, **subnet: Any) -> dict[str, Any]:
    """A scenario at seed 1 with Alice funded; ``subnet`` adds or overrides subnet fields."""
    return {
        "name": name,
        "block_time": 12,
        "seed": 1,
        "accounts": [{"uri": "//Alice", "tao": 100000}],
        "subnets": [
            {
                "netuid": netuid,
                "tempo": 10,  # permits are handed out at the first epoch
                "max_uids": 8,
                "max_validators": 2,
                "immunity_period": 1000,
                "activity_cutoff": 1000,
                "burn_tao": 1,
                # Staked and given a permit at genesis; it sets no weights of its own.
                "neurons": [
                    {
                        "name": VALIDATOR_NAME,
                        "role": "validator",
                        "stake_tao": 5000,
                        "weights": "idle",
                    }
                ],
                **subnet,
            }
        ],
    }


EVENTS_SUBNET = """
subnets:
  - netuid: 1
    tempo: 10
    max_uids: 6
    immunity_period: 5
    weights_rate_limit: 2
    burn_tao: 1
    min_burn_tao: 0.5
    max_burn_tao: 100
    neurons:
      - {name: v1, role: validator, stake_tao: 100, every: 3}
      - {name: v2, role: validator, stake_tao: 50, every: 3}
      - {name: m1, role: miner, quality: 0.9}
      - {name: m2, role: miner, quality: 0.1}
"""
"""Scenario YAML without events: two free slots for a registration burst, a burn with room to
move both ways; append an ``events:`` list naming v1, v2, m1 and m2."""
