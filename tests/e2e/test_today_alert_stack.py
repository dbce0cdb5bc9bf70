"""Today's chain alerts through real Prometheus and Alertmanager, from the real exporter.

The exporter polls an in-process simnet chain stepped by hand and serves its collector to
Prometheus over loopback, so each assertion is about a known block: a validator that stops
committing on a commit-reveal subnet pages only once its weights are older than the warning's
tempos plus the reveal period, and a watched subnet pushed out of its emission tier by another
subnet's price pages.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import bittensor as bt
import bittensor_core
import pytest

from exporters.chain import ChainPoller, WatchPlan
from simnet.state import RAO_PER_TAO, Chain
from simnet.testing import dev_wallet, sim_client, small_world
from taowatch.receiver import PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings
from tests.support.exporters import make_poller
from tests.support.loopback import serving_registry

pytestmark = pytest.mark.e2e

DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound
TAO = RAO_PER_TAO


async def seen(stack: Stack, poller: ChainPoller, chain: Chain) -> None:
    """Poll the chain at its head and wait until Prometheus has evaluated every rule group
    on a scrape of it."""
    assert await poller.poll()
    await stack.wait_for_query(f"bittensor_chain_head_block == {chain.head}", DEADLINE)
    scraped = datetime.now(UTC)
    deadline = time.monotonic() + DEADLINE
    while True:
        groups = await stack.rule_groups()
        if all(datetime.fromisoformat(g["lastEvaluation"]) > scraped for g in groups):
            return
        assert time.monotonic() < deadline, "the rules were not evaluated again"
        await asyncio.sleep(0.2)


async def active(stack: Stack, alertname: str, **labels: str) -> list[dict]:
    return [
        a
        for a in await stack.alerts()
        if a["labels"]["alertname"] == alertname
        and all(a["labels"].get(k) == v for k, v in labels.items())
    ]


def _is(service: str, status: str, alertname: str, needle: str):
    def match(n: Notification) -> bool:
        return (
            n.service == service
            and n.status == status
            and n.mentions(alertname)
            and n.mentions(needle)
        )

    return match


@pytest.mark.slow
async def test_a_validator_that_stops_committing_pages_after_the_warning_plus_the_reveal_period(
    monkeypatch,
):
    world = small_world(validators=2, miners=3, tempo=10, max_uids=8)
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    chain.set_hyperparameter(netuid, "commit_reveal", True)
    chain.step()
    # Offline drand: the real encryptor runs; the chain's escrow learns the plaintext.
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", chain.timelock_escrow.wrap(real))
    sn = chain.subnet(netuid)
    tempo, reveal = sn.tempo, sn.reveal_period_epochs
    hotkey = validator.hotkey.ss58_address
    poller, _, registry = make_poller(chain, WatchPlan(hotkeys=((netuid, hotkey),)))
    settings_overrides = {**FAST_ALERTMANAGER, "weights_stale_for": "0s"}
    async with (
        serving_registry(registry) as target,
        Receiver() as receiver,
        Stack(
            StackSettings(targets={"taowatch-agent": [target]}, overrides=settings_overrides),
            receiver,
        ) as stack,
        sim_client(chain) as client,
    ):
        # Three tempos of commits, one per tempo: never stale.
        for _ in range(3):
            result = await client.execute(bt.SetWeights(netuid, weights={3: 1.0}), validator)
            assert result.success, result.message
            chain.step(tempo + 1)
            await seen(stack, poller, chain)
            assert await active(stack, "BittensorValidatorWeightsStale", hotkey=hotkey) == []
        last_commit = chain.subnet(netuid).neurons[sn.uids[hotkey]].last_update
        # Commits stop. The warning waits 2.5 tempos plus the reveal period: silent up to
        # that many blocks after the last commit, firing the block after.
        limit = int((2.5 + reveal) * tempo)
        chain.step(last_commit + limit - 2 - chain.head)
        for _ in range(2):
            chain.step()
            await seen(stack, poller, chain)
            assert chain.head - last_commit <= limit
            assert await active(stack, "BittensorValidatorWeightsStale", hotkey=hotkey) == []
        chain.step()
        await seen(stack, poller, chain)
        firing = await active(stack, "BittensorValidatorWeightsStale", hotkey=hotkey)
        assert [a["labels"]["severity"] for a in firing] == ["warning"]
        assert firing[0]["state"] == "firing"
        assert (chain.head - last_commit) / tempo == pytest.approx(2.5 + reveal + 1 / tempo)
        slack = await receiver.wait_for(
            _is(SLACK, "firing", "BittensorValidatorWeightsStale", hotkey), DEADLINE
        )
        assert f"on subnet {netuid}" in slack.text
        assert not receiver.rejected, receiver.rejected


def seventy_subnets() -> Chain:
    """70 subnets priced 0.99, 0.98, ... TAO per alpha by netuid: subnet 64 ranks 64th."""
    chain = Chain()
    owner = dev_wallet("Alice").coldkey.ss58_address
    for netuid in range(1, 71):
        chain.create_subnet(
            netuid,
            tempo=10_000,
            owner_coldkey=owner,
            tao_in_rao=round(1000 * (1 - netuid / 100) * TAO),
            alpha_in_rao=1000 * TAO,
        )
    chain.step()
    return chain


@pytest.mark.slow
async def test_a_watched_subnet_pushed_out_of_its_emission_tier_pages():
    chain = seventy_subnets()
    poller, _, registry = make_poller(chain, WatchPlan(export_all=frozenset({64})))
    overrides = {
        **FAST_ALERTMANAGER,
        "emission_tier_for": "0s",
        "subnet_no_emission_for": "0s",
    }
    async with (
        serving_registry(registry) as target,
        Receiver() as receiver,
        Stack(
            StackSettings(targets={"taowatch-agent": [target]}, overrides=overrides), receiver
        ) as stack,
    ):
        await seen(stack, poller, chain)
        assert (await stack.query('bittensor_subnet_emission_rank{netuid="64"}'))[0]["value"][
            1
        ] == "64"
        # On the last rank of tier 2: the warning, not the page.
        warning = await receiver.wait_for(
            _is(SLACK, "firing", "BittensorSubnetEmissionTierAtRisk", "Subnet 64"), DEADLINE
        )
        assert "0 rank(s) from the end of its emission tier" in warning.text
        assert await active(stack, "BittensorSubnetNoEmission") == []

        # Stake into subnet 70 lifts its price above 64's: 64 falls to rank 65.
        buyer = dev_wallet("Buyer")
        chain.fund(buyer.coldkey.ss58_address, 10_000 * TAO)
        chain.register(70, buyer.hotkey.ss58_address, buyer.coldkey.ss58_address)
        chain.add_stake(buyer.coldkey.ss58_address, buyer.hotkey.ss58_address, 70, 2_000 * TAO)
        chain.step()
        await seen(stack, poller, chain)
        page = await receiver.wait_for(
            _is(PAGERDUTY, "firing", "BittensorSubnetNoEmission", "Subnet 64"), DEADLINE
        )
        assert page.payload["payload"]["severity"] == "critical"
        assert (await stack.query('bittensor_subnet_emission_rank{netuid="64"}'))[0]["value"][
            1
        ] == "65"
        # Out of every tier there is no margin left to warn about: the warning resolves.
        await receiver.wait_for(
            _is(SLACK, "resolved", "BittensorSubnetEmissionTierAtRisk", "Subnet 64"), DEADLINE
        )
        assert not receiver.rejected, receiver.rejected
