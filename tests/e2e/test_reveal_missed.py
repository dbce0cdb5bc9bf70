"""A weight commit the chain fails to open, end to end: the bundled validator in its own
process on a commit-reveal subnet of a served simnet whose scenario makes the chain fail to
open its first commit (``unopenable_commit``); its metrics scraped by real Prometheus, the
repository's rules and routing in real Alertmanager. The miss pages once; the next commits
are revealed and page nothing more."""

from __future__ import annotations

import asyncio
import re

import pytest
from bittensor.keyfiles import Keypair

from taowatch.receiver import PAGERDUTY, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings
from tests.support.neuron_processes import miners_and_validator
from tests.support.scenarios import VALIDATOR_NAME, one_validator_scenario
from tests.support.system import job_names

pytestmark = pytest.mark.e2e

NETUID = 1
DEADLINE = 120.0  # generous: a loaded CI machine, never a performance bound
GOOD = Keypair.create_from_uri("//taowatch/e2e/miss-good")
POOR = Keypair.create_from_uri("//taowatch/e2e/miss-poor")

SCENARIO = {
    **one_validator_scenario(
        "reveal-missed-e2e",
        NETUID,
        weights_rate_limit=2,
        min_allowed_weights=1,
        commit_reveal=True,
        reveal_period_epochs=1,
    ),
    # Armed from the start: the validator's first commit to come up for its reveal is lost.
    "events": [{"at": 2, "unopenable_commit": {"netuid": NETUID, "hotkey": VALIDATOR_NAME}}],
}


@pytest.mark.xfail(
    reason=(
        "KNOWN DEFECT, issue #21 open: the bundled validator counts more than the one dropped "
        "commit as missed (the counter did not read 1 after the page; with the fault armed at "
        "block 240 the page came before it, at ~block 90), so RevealMissed can page falsely. "
        "Also racy: a miss before Prometheus' first scrape leaves the counter at 1 from its "
        "first sample. Remove this mark with the fix."
    ),
    strict=False,
)
async def test_a_commit_the_chain_cannot_open_pages_once_and_later_reveals_page_nothing(
    tmp_path, processes
):
    _, neuron_job = job_names()
    async with miners_and_validator(
        tmp_path, processes, scenario=SCENARIO, netuid=NETUID, good=GOOD, poor=POOR
    ) as neurons:
        target = f"127.0.0.1:{neurons.ports['validator'][1]}"
        settings = StackSettings(targets={neuron_job: [target]}, overrides=dict(FAST_ALERTMANAGER))
        async with Receiver() as receiver, Stack(settings, receiver) as stack:
            await stack.wait_for_query(
                "bittensor_validator_weight_reveals_missed_total == 0", DEADLINE
            )

            def missed_page(n) -> bool:
                return (
                    n.service == PAGERDUTY
                    and n.status == "firing"
                    and n.mentions("BittensorValidatorRevealMissed")
                )

            page = await receiver.wait_for(missed_page, DEADLINE)
            # The description, not only the name. Its count is increase()'s, which extrapolates
            # to the window's end: one missed commit can read as 2 on a young series.
            assert re.search(r"\b[1-9]\d* weight commit\(s\) left the", page.text), page.text
            # The fault was for one commit: the ones after it are revealed.
            await stack.wait_for_query("bittensor_validator_weight_reveals_total >= 2", DEADLINE)
            await stack.wait_for_query(
                "bittensor_validator_weight_reveals_missed_total == 1", DEADLINE
            )
            await asyncio.sleep(5)  # group_interval 1s: a second page would be here
            assert len([n for n in receiver.notifications if missed_page(n)]) == 1
            assert not receiver.rejected, receiver.rejected
