"""``taowatch agent --config FILE --adopt-chain``: trust the chain the endpoints serve now.

For when the chain behind the agent's URL was replaced on purpose (a devnet reset, a move to
another network) and ``BittensorRpcEndpointChainChanged`` / ``...Rewound`` says so. The
agent may keep running: the state file is replaced in one rename and the running agent
reloads it at its next poll (``exporters/chain_trust.py``). Refused while any endpoint that
answers still serves the trusted chain, or when the endpoints serve different chains.
"""

from __future__ import annotations

from typing import Any

from agent.config import AgentConfig
from common.chain import SubstrateBackends
from exporters.chain_trust import Adoption, AdoptionRefused, adopt_chain, check_chain
from exporters.deregistration import LAGGING, TRUSTED, DeregistrationTracker
from exporters.endpoints import EndpointPool


async def adopt(config: AgentConfig, *, backends: SubstrateBackends | None = None) -> Adoption:
    if config.state_file is None:
        raise AdoptionRefused(
            "state_file is not set: without one the agent trusts the chain it finds at each "
            "start, so there is nothing to adopt (restart it)"
        )
    tracker = DeregistrationTracker(config.state_file)
    pool = EndpointPool.over(
        [config.chain.network, *config.chain.fallback_networks],
        backends or SubstrateBackends.installed(),
        timeout=config.chain.timeout_seconds,
    )
    try:
        await pool.probe()
        checks: list[tuple[Any, Any]] = []
        for ep in pool.endpoints:
            if ep.up and ep.head is not None:
                check = await check_chain(
                    ep.memo, tracker.anchor, ep.head, lag_blocks=tracker.lag_blocks
                )
                checks.append((ep, check))
    finally:
        await pool.close()
    if not checks:
        raise AdoptionRefused(
            "no endpoint answered: "
            + "; ".join(f"{ep.label}: {ep.last_error}" for ep in pool.endpoints)
        )
    trusted = [ep.label for ep, c in checks if c.verdict in (TRUSTED, LAGGING)]
    if trusted:
        raise AdoptionRefused(
            f"{', '.join(trusted)} still serve the chain this agent trusts "
            f"({tracker.chain}); nothing to adopt while they do"
        )
    if len({c.genesis for _, c in checks}) > 1:
        raise AdoptionRefused(
            "the endpoints serve different chains: "
            + ", ".join(f"{ep.label} genesis {c.genesis[:10]}" for ep, c in checks)
            + "; point chain.network and chain.fallback_networks at one chain first"
        )
    ep, check = checks[0]
    return adopt_chain(config.state_file, ep.label, check, ep.head)


def describe(adoption: Adoption) -> str:
    kept = f"; the old state is kept at {adoption.archived}" if adoption.archived else ""
    return (
        f"adopted chain {adoption.chain} served by {adoption.endpoint} at block "
        f"{adoption.block} (it was {adoption.verdict} against the trusted one){kept}. "
        "A running agent takes it up at its next poll."
    )
