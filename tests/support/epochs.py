"""Where the next epoch falls, for tests that step a simnet chain up to a reveal."""

from __future__ import annotations

from simnet.state import Chain


def blocks_to_next_epoch(chain: Chain, netuid: int) -> int:
    """Blocks from the head to the next block whose epoch runs, as subtensor schedules it:
    ``(block + netuid + 1) % (tempo + 1) == 0``."""
    sn = chain.subnet(netuid)
    b = chain.head + 1
    while (b + netuid + 1) % (sn.tempo + 1):
        b += 1
    return b - chain.head
