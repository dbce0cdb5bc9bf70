"""Whether the endpoint serves the chain the agent trusts, read so that no cache can answer.

The check (:func:`check_chain`) compares the endpoint's genesis hash and its hash at the
trusted height with the tracker's :class:`~exporters.deregistration.Anchor`. Both answers
must come from the node *now*: a remembered one is exactly what a chain change makes wrong.
Two caches sit on the way and neither knows about chain changes:

* the agent's ``BlockHashMemo`` (``exporters/endpoints.py``), cleared before each poll;
* the SDK's ``SubstrateConnection.get_block_hash``, an LRU(512) of number -> hash for
  finalized heights (block 0, and any trusted height once finalized) that survives the
  WebSocket reconnecting underneath, so after a node behind the same URL was reset or
  replaced it would still answer with the old chain's genesis and trusted hash, and a
  foreign chain would be judged ``trusted`` and its missing hotkeys counted.

:func:`uncached_block_hash` therefore asks the node itself (``chain_getBlockHash`` through the
SDK's raw-request escape hatch, ``SubstrateConnection.rpc_request``) and the memo keeps that
answer for the rest of the poll, so every pinned read of the poll uses the verified head hash.
Substrates without the SDK's transport (simnet's) hold no such cache and are asked through
``block_hash``. The cost is unchanged: the same one request per hash the first lookup paid.

Adopting a new chain (:func:`adopt_chain`, ``taowatch agent --adopt-chain``) replaces the
state file with one anchored on the endpoint's chain under a new chain identity
(:func:`chain_identity`); a running agent sees the file replaced at its next poll and
reloads it (``DeregistrationTracker.reload_if_replaced``). The identity is exported as the
``chain`` label of ``bittensor_exporter_trusted_chain_info``, and the recording rules the
lookback alerts read carry it, so no rule joins the old chain's history with the new one's.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporters.deregistration import (
    CHANGED,
    LAGGING,
    REWOUND,
    TRUSTED,
    Anchor,
    DeregistrationTracker,
    chain_identity,
    judge_chain,
)

__all__ = [
    "Adoption",
    "AdoptionRefused",
    "ChainBlockMissing",
    "ChainCheck",
    "adopt_chain",
    "chain_identity",
    "check_chain",
    "uncached_block_hash",
]


class ChainBlockMissing(LookupError):
    """The node has no block at a height it was asked for (a read error of the poll)."""


async def uncached_block_hash(substrate: Any, block: int) -> str:
    """The node's hash at ``block`` now, past every cache between the agent and the node."""
    raw = getattr(substrate, "raw", None)
    request = getattr(raw, "rpc_request", None)
    if request is None:
        # Not the SDK's RPC transport (simnet): nothing remembers hashes below this call.
        return await substrate.block_hash(block)
    block_hash = await request("chain_getBlockHash", [block])
    if block_hash is None:
        raise ChainBlockMissing(f"the node has no block at height {block}")
    return str(block_hash)


@dataclass(frozen=True)
class ChainCheck:
    verdict: str  # TRUSTED, LAGGING, REWOUND or CHANGED (exporters.deregistration)
    genesis: str
    head_hash: str


async def check_chain(
    memo: Any, anchor: Anchor | None, head: int, *, lag_blocks: int
) -> ChainCheck:
    """Judge the endpoint behind ``memo`` (a ``BlockHashMemo``) at ``head`` against ``anchor``.

    Steady state costs one read besides the head's hash (which every pinned read needs
    anyway): the hash at the anchor's height, skipped when the head has not moved. The
    genesis hash is read only when there is no anchor or the anchor does not match, so a
    chain restarted behind the same URL is caught on its first poll.
    """
    head_hash = await memo.fresh_block_hash(head)
    hash_at_anchor: str | None = None
    if anchor is not None and head >= anchor.block:
        hash_at_anchor = (
            head_hash if head == anchor.block else await memo.fresh_block_hash(anchor.block)
        )
        if hash_at_anchor == anchor.hash:
            return ChainCheck(TRUSTED, anchor.genesis, head_hash)
    genesis = await memo.fresh_block_hash(0)
    verdict = judge_chain(anchor, head, genesis, hash_at_anchor, lag_blocks=lag_blocks)
    return ChainCheck(verdict, genesis, head_hash)


class AdoptionRefused(Exception):
    """Nothing to adopt (the endpoints serve the trusted chain, or none answered)."""


@dataclass(frozen=True)
class Adoption:
    endpoint: str
    verdict: str  # what the endpoint was next to the old anchor: REWOUND or CHANGED
    chain: str  # the new chain identity
    block: int
    archived: Path | None  # where the old state file went


def adopt_chain(
    state_file: Path,
    endpoint: str,
    check: ChainCheck,
    head: int,
    *,
    clock: Any = time.time,
) -> Adoption:
    """Anchor ``state_file`` on the chain ``check`` found at ``endpoint`` (at ``head``).

    The old file is kept next to it as ``<name>.<old chain>.<unix time>`` (its counts and
    events belong to the old chain), then replaced in one rename, so a running agent reads
    either the old file or the new one, never none: it reloads the new one at its next poll.
    """
    if check.verdict in (TRUSTED, LAGGING):
        raise AdoptionRefused(
            f"{endpoint} serves the chain this agent already trusts ({check.verdict}); "
            "nothing to adopt"
        )
    assert check.verdict in (REWOUND, CHANGED), check.verdict
    old = DeregistrationTracker(state_file)
    archived: Path | None = None
    if state_file.exists():
        label = (old.chain or "unanchored").replace("@", "-")
        archived = state_file.with_name(f"{state_file.name}.{label}.{int(clock())}")
        try:
            os.link(state_file, archived)
        except OSError:
            shutil.copy2(state_file, archived)
    new = DeregistrationTracker(None)
    new.adopt(check.genesis, head, check.head_hash)
    new.save_to(state_file)
    return Adoption(endpoint, check.verdict, new.chain or "", head, archived)
