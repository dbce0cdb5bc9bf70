"""How a simulated validator weights a commit-reveal subnet: through the commit path.

The world's validators live in the chain's process, so instead of timelock-encrypting to a
drand round they file their payload in the chain's :class:`simnet.timelock.PlaintextEscrow`
under an opaque ciphertext and commit that ciphertext, as
``commit_timelocked_mechanism_weights`` would: the commit is queued for its epoch, moves
``last_update``, emits ``TimelockedWeightsCommitted``, and the chain opens and applies it
after the subnet's reveal period like any other commit.

Simplified: the ciphertext is a digest, not a TLE ciphertext (nothing but the escrow can open
it), and the reveal round is the drand quicknet round of the block time, plus the reveal
period, with no drand beacon behind it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bittensor.sp_core import ss58_decode

from simnet.commit_reveal import COMMIT_REVEAL_VERSION
from simnet.timelock import WeightsPayload

if TYPE_CHECKING:
    from simnet.state import Chain

QUICKNET_GENESIS_S = 1_692_803_367  # drand quicknet's genesis time
QUICKNET_PERIOD_S = 3


def reveal_round(chain: Chain, netuid: int, block: int) -> int:
    """The quicknet round due when this commit's reveal epoch starts."""
    sn = chain.subnet(netuid)
    reveal_s = chain.timestamp_ms(block) / 1000 + (
        sn.reveal_period_epochs * (sn.tempo + 1) * chain.block_time
    )
    return max(1, int(reveal_s - QUICKNET_GENESIS_S) // QUICKNET_PERIOD_S + 1)


def commit_in_escrow(
    chain: Chain,
    netuid: int,
    hotkey: str,
    uids: Sequence[int],
    values: Sequence[int],
    block: int,
    *,
    version_key: int = 0,
    mechid: int = 0,
) -> None:
    """Commit ``hotkey``'s weights on ``netuid`` at ``block``, filed for the chain to open."""
    payload = WeightsPayload(
        hotkey=bytes(ss58_decode(hotkey)),
        uids=tuple(int(u) for u in uids),
        values=tuple(int(v) for v in values),
        version_key=int(version_key),
    ).encode()
    ciphertext = (
        b"simnet-escrow:"
        + hashlib.blake2b(f"{netuid}/{mechid}/{block}/".encode() + payload, digest_size=32).digest()
    )
    chain.timelock_escrow.file(ciphertext, payload)
    chain.commit_reveal.commit(
        netuid,
        hotkey,
        ciphertext,
        reveal_round(chain, netuid, block),
        COMMIT_REVEAL_VERSION,
        mechid=mechid,
    )
