"""The dashboards against the real system: simnet, the agent (with its InfluxDB sink and its
probe on), a miner and a validator, scraped by real Prometheus under the job names the alert
rules use.

Every metric a dashboard names must be one Prometheus has ingested, and every panel query,
expanded the way Grafana expands it (the preview's machinery), must return data. Data is made
to exist rather than excused: one stranger's request so the blacklist counts something, an
epoch after the validator's weights so incentive, dividends and vtrust move, and a rule with
a short ``for`` so a real alert fires while the test watches.
"""

from __future__ import annotations

import math
import time

import pytest

from tests.support.live_dashboards import (
    dashboard_gaps,
    make_every_dashboard_series_exist,
    unearning_watch,
)
from tests.support.system import running_system

pytestmark = pytest.mark.e2e


@pytest.mark.slow
async def test_every_dashboard_query_names_live_metrics_and_every_panel_shows_data(tmp_path):
    started = time.time()
    # A fresh neuron is in immunity with no emission yet: with no grace period the
    # "immunity ending unearned" warning fires for it at once, a real alert for the tables.
    overrides = {"immunity_ending_for": "0s", "immunity_ending_fraction": 1}
    async with running_system(
        tmp_path, overrides=overrides, influx=True, probe=True, extra_watch=unearning_watch()
    ) as system:
        await make_every_dashboard_series_exist(system)
        end = time.time()
        # Whole steps back from ``end``, so the range's last evaluation is at ``end`` itself
        # and sees the samples the waits above just saw.
        start = end - math.ceil(end - started)

        gaps = await dashboard_gaps(system.stack.prometheus_url, start=start, end=end)
        assert not gaps["missing"], (
            f"dashboards use metrics Prometheus never ingested: {gaps['missing']}"
        )
        assert not gaps["errors"], gaps["errors"]
        assert not gaps["empty"], "queries without data:\n" + "\n".join(gaps["empty"])
    print(f"\nlive dashboards test: {time.time() - started:.1f} s")
