"""taowatch health: is it the chain, the exporter or the runtime?

When the other dashboards look wrong, this one says whether to believe them: chain polls and
their errors, each RPC endpoint, partial outages (error ratios) and whether the endpoint still
serves the chain the agent trusted, how long Prometheus takes to scrape each taowatch process,
the neuron runtimes' metagraph syncs, and the optional InfluxDB sink.
"""

from __future__ import annotations

from common.metric_names import Exporter as E
from common.metric_names import Runtime as R

from . import common as c

UID = "taowatch-health"
FILENAME = "taowatch-health.json"


def _taowatch_jobs(knobs: c.Knobs) -> str:
    # The scrape jobs the alert rules select on; the scrape config must use these names.
    return f'job=~"{knobs.setting("agent_job")}|{knobs.setting("neuron_job")}"'


def build(knobs: c.Knobs):
    dash = c.base_dashboard(
        UID,
        "taowatch / Health",
        "The monitoring itself: chain polls, RPC endpoints, scrapes, metagraph syncs and the "
        "InfluxDB sink.",
    )

    dash = dash.with_row(c.row("Chain polls"))
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Exporter up",
                "1 when the agent's last chain poll succeeded.",
                c.NONE,
                c.query(E.EXPORTER_UP, "{{instance}}"),
                thresholds=c.falling(None, 1),
                min_value=0,
                max_value=1,
                stepped=True,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Poll duration against interval",
                "How long one chain poll took, beside the configured poll interval: a poll "
                "that takes longer than the interval falls behind the chain.",
                c.SECONDS,
                c.query(E.EXPORTER_POLL_DURATION_SECONDS, "duration {{instance}}"),
                c.query(E.EXPORTER_POLL_INTERVAL_SECONDS, "interval {{instance}}"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Chain data age",
                "Time since the last successful poll, in poll intervals. Dashed line: where "
                "the 'exporter data stale' alert fires.",
                c.POLLS,
                c.query(c.data_age_polls(), "{{instance}}"),
                thresholds=c.rising(None, knobs.threshold("exporter_stale_polls")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Polls and poll errors",
                "Chain polls per second, and failed polls per second by reason (timeout, "
                "RPC error, decode error...).",
                c.OPS,
                c.query(f"sum(rate({c.total(E.EXPORTER_POLLS)}[$__rate_interval]))", "polls"),
                c.query(
                    f"sum by (reason) (rate({c.total(E.EXPORTER_POLL_ERRORS)}[$__rate_interval]))",
                    "error: {{reason}}",
                ),
                min_value=0,
                width=12,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Data lag behind the head",
                "Blocks between the chain head and the block the last poll was pinned to.",
                c.BLOCKS,
                c.query(f"max({E.CHAIN_HEAD_BLOCK}) - max({E.EXPORTER_SOURCE_BLOCK})", "lag"),
                min_value=0,
                width=12,
            )
        )
    )

    dash = dash.with_row(c.row("Chain and RPC endpoints"))
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "RPC endpoints up",
                "Health of each configured RPC endpoint (up), and which one the poll reads "
                "from now (polling): it fails over to a healthy one and back. Every 'up' at 0 "
                "is the 'every RPC endpoint down' alert.",
                c.NONE,
                c.query(f"max by (endpoint) ({E.EXPORTER_RPC_ENDPOINT_UP})", "up {{endpoint}}"),
                c.query(
                    f"max by (endpoint) ({E.EXPORTER_RPC_ENDPOINT_ACTIVE})", "polling {{endpoint}}"
                ),
                min_value=0,
                max_value=1,
                stepped=True,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "RPC endpoint head lag",
                "Blocks each endpoint's head trails the best head seen across endpoints.",
                c.BLOCKS,
                c.query(
                    f"max by (endpoint) ({E.EXPORTER_RPC_ENDPOINT_HEAD_LAG_BLOCKS})",
                    "{{endpoint}}",
                ),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Finalization lag",
                "Blocks between the best and the finalized head. Dashed line: the "
                "finalization-lag alert's threshold.",
                c.BLOCKS,
                c.query(f"max({E.CHAIN_HEAD_BLOCK}) - max({E.CHAIN_FINALIZED_BLOCK})", "lag"),
                thresholds=c.rising(None, knobs.threshold("finalization_lag_blocks")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Block time",
                "Seconds between the last two blocks the agent saw (12 s on a healthy chain).",
                c.SECONDS,
                c.query(f"max({E.CHAIN_BLOCK_TIME_SECONDS})", "block time"),
                min_value=0,
                width=12,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Head age",
                "Seconds since the chain head last advanced. Dashed line: where the "
                "chain-stalled alert fires.",
                c.SECONDS,
                c.query(f"time() - max({E.CHAIN_HEAD_TIMESTAMP_SECONDS})", "head age"),
                thresholds=c.rising(None, knobs.threshold("chain_stall_seconds")),
                min_value=0,
                width=12,
            )
        )
    )

    dash = dash.with_row(c.row("Partial outages and chain identity"))
    window = knobs.window("poll_error_window")
    polls = f"sum by (instance) (rate({c.total(E.EXPORTER_POLLS)}[{window}]))"
    probes = (
        f"sum by (instance, endpoint) (rate({c.total(E.EXPORTER_RPC_ENDPOINT_PROBES)}[{window}]))"
    )
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Poll error ratio",
                "Share of chain polls that failed over the alert's window: a partial outage "
                "lets the odd poll through, so 'exporter up' flickers while this stays high. "
                "Dashed line: where the poll-error-ratio alert fires (after its for:).",
                c.RATIO,
                # The errors counter has a series per reason only once a poll failed with it:
                # a healthy exporter's missing errors count as zero polls failed, per instance.
                c.query(
                    f"(sum by (instance) (rate({c.total(E.EXPORTER_POLL_ERRORS)}[{window}]))"
                    f" or {polls} * 0) / {polls}",
                    "{{instance}}",
                ),
                thresholds=c.rising(None, knobs.threshold("poll_error_ratio")),
                min_value=0,
                max_value=1,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "RPC endpoint error ratio",
                "Share of each endpoint's probes and reads that failed over the alert's "
                "window, though it may answer now and then. Dashed line: where the "
                "endpoint-error-ratio alert fires (after its for:).",
                c.RATIO,
                # As above: an endpoint's error series appear with its first failure.
                c.query(
                    "(sum by (instance, endpoint) "
                    f"(rate({c.total(E.EXPORTER_RPC_ENDPOINT_ERRORS)}[{window}]))"
                    f" or {probes} * 0) / {probes}",
                    "{{endpoint}}",
                ),
                thresholds=c.rising(None, knobs.threshold("endpoint_error_ratio")),
                min_value=0,
                max_value=1,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Endpoint off the trusted chain",
                "1 while the active RPC endpoint is rewound (far behind the last trusted "
                "block, or another block at a trusted height) or serves another chain "
                "(changed: another genesis hash): neuron values stay at the last trusted "
                "block and no deregistration is counted. The rewound and chain-changed "
                "alerts fire at 1 and stay up for their lookback.",
                c.NONE,
                c.query(
                    f"max by (instance, kind) ({E.EXPORTER_CHAIN_MISMATCH})",
                    "{{instance}} {{kind}}",
                ),
                thresholds=c.rising(None, 1),
                min_value=0,
                max_value=1,
                stepped=True,
                width=8,
            )
        )
    )

    dash = _reads(dash)

    dash = dash.with_row(c.row("Scrapes and runtimes"))
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Targets up",
                "Prometheus' own 'up' for every taowatch process (the agent and each neuron "
                "runtime): 0 means the scrape failed.",
                c.NONE,
                c.query(f"up{{{_taowatch_jobs(knobs)}}}", "{{job}} {{instance}}"),
                min_value=0,
                max_value=1,
                stepped=True,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Scrape duration",
                "How long Prometheus took to scrape each taowatch process. Close to the "
                "scrape timeout means missed scrapes and gaps in every dashboard.",
                c.SECONDS,
                c.query(
                    f"scrape_duration_seconds{{{_taowatch_jobs(knobs)}}}",
                    "{{job}} {{instance}}",
                ),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Metagraph age by runtime",
                "Age of each neuron runtime's metagraph in sync intervals. Dashed line: the "
                "stale-metagraph alert.",
                "suffix: intervals",
                c.query(
                    f"(time() - {R.METAGRAPH_LAST_SYNC_TIMESTAMP_SECONDS})"
                    f" / {R.METAGRAPH_SYNC_INTERVAL_SECONDS}",
                    "sn{{netuid}} {{hotkey}}",
                ),
                thresholds=c.rising(None, knobs.threshold("metagraph_stale_intervals")),
                min_value=0,
                width=8,
            )
        )
    )

    dash = dash.with_row(c.row("InfluxDB sink"))
    dash = dash.with_panel(
        c.timeseries_panel(
            "Points written, failed, dropped",
            "Points per second the agent wrote to InfluxDB, write errors, and points "
            "dropped because the bounded buffer was full. Empty when the sink is off.",
            c.OPS,
            c.query(
                f"sum(rate({c.total(E.EXPORTER_INFLUX_POINTS_WRITTEN)}[$__rate_interval]))",
                "written",
            ),
            c.query(
                f"sum(rate({c.total(E.EXPORTER_INFLUX_WRITE_ERRORS)}[$__rate_interval]))",
                "write errors",
            ),
            c.query(
                f"sum(rate({c.total(E.EXPORTER_INFLUX_POINTS_DROPPED)}[$__rate_interval]))",
                "dropped",
            ),
            min_value=0,
        )
    ).with_panel(
        c.timeseries_panel(
            "Buffered points",
            "Points waiting to be written. Growth means InfluxDB is slower than the "
            "agent or unreachable; at the buffer's bound new points are dropped.",
            c.COUNT,
            c.query(f"sum({E.EXPORTER_INFLUX_BUFFER_POINTS})", "buffered"),
            min_value=0,
        )
    )
    return dash


def _reads(dash):
    """Reads that fail alone, and the runtime they read from (exporters/reads.py)."""
    dash = dash.with_row(c.row("Chain reads and runtime"))
    return (
        dash.with_panel(
            c.timeseries_panel(
                "Failed reads by read",
                "Chain reads that failed after retries, per second, by read: only that "
                "read's series were absent for the poll; the rest was exported.",
                c.OPS,
                c.query(
                    f"sum by (read) (rate({c.total(E.EXPORTER_READ_ERRORS)}[$__rate_interval]))",
                    "{{read}}",
                ),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Reads the runtime lacks",
                "1 for each read whose storage item the chain's runtime does not have (an "
                "older node, or an upgrade that removed it): its series are absent or at the "
                "chain's default.",
                c.NONE,
                c.query(f"max by (read) ({E.EXPORTER_READ_UNSUPPORTED})", "{{read}}"),
                min_value=0,
                max_value=1,
                stepped=True,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Runtime spec version and upgrades",
                "The chain runtime's spec_version, and upgrades seen (a step is an upgrade).",
                c.NONE,
                c.query(f"max({E.CHAIN_RUNTIME_SPEC_VERSION})", "spec version"),
                c.query(f"max({c.total(E.CHAIN_RUNTIME_UPGRADES)})", "upgrades"),
                stepped=True,
                width=8,
            )
        )
    )
