"""Neuron detail: one hotkey over time, chain outcomes beside the runtime causes.

The top half is what the chain says (registration, scores, stake, weight updates); the bottom
half is what the miner or validator process says about itself. Both carry ``netuid`` and
``hotkey``, and registration, stake and weight-update events are drawn across every panel as
annotations, so "incentive fell" lines up with "requests started failing" by eye.
"""

from __future__ import annotations

from common.metric_names import Exporter as E
from common.metric_names import Probe as P
from common.metric_names import Runtime as R

from . import _events, _eviction, _shared
from . import common as c

UID = "taowatch-neuron"
FILENAME = "neuron-detail.json"

_LEGEND = "{{hotkey}}"
_SERVER_ERRORS = c.NEURON + ', status=~"5.."'


def _annotations():
    return [
        c.PrometheusAnnotation(
            "Registration changes",
            f"changes({c.series(E.NEURON_REGISTERED)}[$__rate_interval]) > 0"
            f" or increase({c.counter(E.NEURON_DEREGISTRATIONS)}[$__rate_interval]) > 0",
            c.RED,
            "Registration changed",
            "sn{{netuid}} {{hotkey}}: registration state or deregistration count changed",
        ),
        c.PrometheusAnnotation(
            "Stake changes",
            f"changes({c.series(E.NEURON_STAKE_TAO)}[$__rate_interval]) > 0",
            c.YELLOW,
            "Stake changed",
            "sn{{netuid}} {{hotkey}}: stake changed",
        ),
        c.PrometheusAnnotation(
            "Weight updates",
            f"changes({c.series(E.NEURON_LAST_UPDATE_BLOCK)}[$__rate_interval]) > 0",
            c.BLUE,
            "Weights set",
            "sn{{netuid}} {{hotkey}}: the chain recorded a weight update",
        ),
    ]


def build(knobs: c.Knobs):
    dash = (
        c.base_dashboard(
            UID,
            "taowatch / Neuron detail",
            "One hotkey over time: what the chain concluded about it, and what its own "
            "runtime was doing at the time.",
        )
        .with_variable(
            c.label_variable(
                "netuid", "Subnet", E.NEURON_REGISTERED, multi=False, description="Subnet."
            )
        )
        .with_variable(
            c.label_variable(
                "hotkey",
                "Hotkey",
                E.NEURON_REGISTERED,
                c.SUBNET,
                multi=False,
                description="The hotkey to follow.",
            )
        )
    )
    for annotation in _annotations() + _events.neuron_annotations():
        dash = dash.annotation(annotation)

    dash = dash.with_row(c.row("Chain events"))
    for panel in _events.neuron_panels():
        dash = dash.with_panel(panel)

    dash = dash.with_row(c.row("Chain: what the chain concluded"))
    dash = (
        dash.with_panel(
            c.stat_panel(
                "Registered",
                "Whether the hotkey holds a UID on this subnet now.",
                c.NONE,
                c.query(c.series(E.NEURON_REGISTERED), _LEGEND),
                thresholds=c.falling(None, 1),
                mappings=c.value_mappings(
                    {0: ("NOT REGISTERED", c.RED), 1: ("REGISTERED", c.GREEN)}
                ),
            )
        )
        .with_panel(
            c.stat_panel(
                "UID",
                "The UID the hotkey holds. A different UID after a gap is a re-registration.",
                c.NONE,
                c.query(c.series(E.NEURON_UID), _LEGEND),
            )
        )
        .with_panel(
            c.stat_panel(
                "Deregistrations",
                "Times taowatch saw this hotkey lose its UID (counter kept across agent restarts).",
                c.COUNT,
                c.query(f"max({c.counter(E.NEURON_DEREGISTRATIONS)})", _LEGEND),
                thresholds=c.rising(None, 1),
            )
        )
        .with_panel(
            c.stat_panel(
                "Validator permit",
                "1 when the neuron holds a validator permit (may set weights that count).",
                c.NONE,
                c.query(c.series(E.NEURON_VALIDATOR_PERMIT), _LEGEND),
                mappings=c.value_mappings({0: ("no permit", c.BLUE), 1: ("permit", c.GREEN)}),
            )
        )
        .with_panel(
            c.stat_panel(
                "Active",
                "1 while the neuron has set weights within the subnet's activity cutoff.",
                c.NONE,
                c.query(c.series(E.NEURON_ACTIVE), _LEGEND),
                thresholds=c.falling(None, 1),
                mappings=c.value_mappings({0: ("INACTIVE", c.RED), 1: ("active", c.GREEN)}),
            )
        )
        .with_panel(
            c.stat_panel(
                "Immunity left",
                "Blocks of immunity from pruning left. Orange where 'immunity ending' warns.",
                c.BLOCKS,
                c.query(c.series(E.NEURON_IMMUNITY_REMAINING_BLOCKS), _LEGEND),
                thresholds=c.immunity_thresholds(knobs),
            )
        )
    )
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Incentive, dividends, consensus, trust",
                "The chain's per-epoch scores for this neuron (0..1). Rank and trust are "
                "exported as the chain stores them; the current runtime no longer updates them.",
                c.RATIO,
                c.query(c.series(E.NEURON_INCENTIVE), "incentive"),
                c.query(c.series(E.NEURON_DIVIDENDS), "dividends"),
                c.query(c.series(E.NEURON_CONSENSUS), "consensus"),
                c.query(c.series(E.NEURON_TRUST), "trust"),
                c.query(c.series(E.NEURON_RANK), "rank"),
                min_value=0,
                stepped=True,
            )
        )
        .with_panel(_shared.validator_trust_against_peers())
        .with_panel(
            c.timeseries_panel(
                "Stake (root TAO)",
                "TAO staked on the hotkey on the root subnet (netuid 0). Yellow markers: every "
                "stake change.",
                c.TAO,
                c.query(c.series(E.NEURON_STAKE_TAO), "stake (TAO)"),
                stepped=True,
                width=6,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Stake by kind",
                "Alpha stake on this subnet after childkey inheritance, the hotkey's own alpha "
                "(its stakers' positions: a gap to the first is stake delegated to or from "
                "childkeys), the root TAO stake's part of the stake weight (tao_weight x root "
                "TAO), and the stake weight the chain's epoch uses for permits and consensus.",
                c.ALPHA,
                c.query(c.series(E.NEURON_STAKE_ALPHA), "alpha"),
                c.query(c.series(E.NEURON_STAKE_ALPHA_OWN), "own alpha"),
                c.query(
                    f"{c.series(E.NEURON_STAKE_WEIGHT)} - {c.series(E.NEURON_STAKE_ALPHA)}",
                    "root TAO (weighted)",
                ),
                c.query(c.series(E.NEURON_STAKE_WEIGHT), "stake weight"),
                stepped=True,
                width=6,
            )
        )
        .with_panel(_shared.stake_drop(knobs, "drop"))
        .with_panel(_shared.emission_per_epoch("emission", width=6))
        .with_panel(
            _shared.tempos_since_weights(
                knobs,
                "tempos since update",
                "critical",
                note=" Blue markers: weight updates.",
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Eviction position",
                "Place in the eviction order among non-immune neurons (0 = next to go), beside "
                "the subnet's recent registrations: position 0 matters only while others "
                "register.",
                c.NONE,
                c.query(c.series(E.NEURON_PRUNING_POSITION), "eviction position"),
                c.query(c.series(E.SUBNET_REGISTRATIONS_RECENT, c.SUBNET), "recent registrations"),
                thresholds=c.eviction_thresholds(knobs),
                min_value=0,
                stepped=True,
            )
        )
    )

    dash = _eviction.panels(dash, knobs)

    dash = dash.with_row(c.row("Runtime: what the neuron was doing"))
    runtime = c.NEURON
    dash = (
        dash.with_panel(
            c.timeseries_panel(
                "Requests by status",
                "Requests the miner's HTTP server answered per second, by route and status.",
                c.PER_SECOND,
                c.query(c.rate(R.AXON_REQUESTS, "route, status", runtime), "{{route}} {{status}}"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Error ratio",
                "Share of requests answered with a 5xx status. Dashed line: the miner "
                "error-rate alert's threshold.",
                c.RATIO,
                # No 5xx series exists until the first 5xx: count that as zero errors, or
                # a healthy miner's panel would say "No data".
                c.query(
                    f"(sum(rate({c.counter(R.AXON_REQUESTS, _SERVER_ERRORS)}"
                    "[$__rate_interval])) or vector(0))"
                    f" / sum(rate({c.counter(R.AXON_REQUESTS, runtime)}[$__rate_interval]))",
                    "5xx ratio",
                ),
                thresholds=c.rising(None, knobs.threshold("miner_error_ratio")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Request latency",
                "Request duration quantiles from the miner's histogram. Dashed line: the "
                "latency alert's p95 threshold (the alert averages over a longer window).",
                c.SECONDS,
                c.query(c.quantile(0.5, R.AXON_REQUEST_DURATION_SECONDS, "hotkey"), "p50"),
                c.query(c.quantile(0.95, R.AXON_REQUEST_DURATION_SECONDS, "hotkey"), "p95"),
                thresholds=c.rising(None, knobs.threshold("miner_latency_p95_seconds")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Blacklisted requests by reason",
                "Requests refused before the handler (unregistered caller, no permit, low "
                "stake, rate limit, queue full...), per second. 'surge line' is where the "
                "blacklist-surge alert fires: its factor times the refusal rate over its "
                "baseline window (and never below its minimum rate, the dashed line).",
                c.PER_SECOND,
                c.query(c.rate(R.AXON_BLACKLISTED, "reason", runtime), "{{reason}}"),
                c.query(
                    f"clamp_min({knobs.threshold('blacklist_surge_factor')} * sum("
                    f"rate({c.counter(R.AXON_BLACKLISTED, runtime)}"
                    f"[{knobs.window('blacklist_baseline_window')}])), "
                    f"{knobs.threshold('blacklist_min_rate')})",
                    "surge line",
                ),
                thresholds=c.rising(None, knobs.threshold("blacklist_min_rate")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "In flight and queued",
                "Requests being handled now and requests waiting in the stake-priority queue.",
                c.COUNT,
                c.query(f"sum({c.series(R.AXON_INFLIGHT_REQUESTS)})", "in flight"),
                c.query(f"sum({c.series(R.AXON_QUEUE_DEPTH)})", "queued"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Metagraph age",
                "Age of the runtime's metagraph copy in sync intervals. Above the dashed line "
                "the stale-metagraph alert fires: the neuron may be trusting deregistered "
                "callers or scoring the wrong miners.",
                "suffix: intervals",
                c.query(
                    f"(time() - {c.series(R.METAGRAPH_LAST_SYNC_TIMESTAMP_SECONDS)})"
                    f" / {c.series(R.METAGRAPH_SYNC_INTERVAL_SECONDS)}",
                    "age / sync interval",
                ),
                thresholds=c.rising(None, knobs.threshold("metagraph_stale_intervals")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Metagraph sync failures",
                "Failed metagraph syncs per second (RPC errors, timeouts).",
                c.OPS,
                c.query(c.rate(R.METAGRAPH_SYNC_FAILURES, "hotkey", runtime), "failures"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Runtime sees itself registered",
                "The runtime's own view of its registration (from its metagraph), beside the "
                "exporter's. A disagreement means one of them is looking at stale data.",
                c.NONE,
                c.query(f"max({c.series(R.SELF_REGISTERED)})", "runtime"),
                c.query(f"max({c.series(E.NEURON_REGISTERED)})", "exporter"),
                min_value=0,
                max_value=1,
                stepped=True,
                width=8,
            )
        )
        .with_panel(
            c.table_panel(
                "Runtime build",
                "Role and version of the process serving this hotkey.",
                [
                    (
                        "Processes",
                        c.COUNT,
                        f"count by (role, version, instance) ({c.series(R.BUILD_INFO)})",
                        None,
                    )
                ],
                hide=("Time", "job", "__name__"),
                width=8,
                height=8,
            )
        )
    )
    return _probe(_connections(dash, knobs), knobs)


def _failed_share(counter: str, window: str) -> tuple[str, str]:
    """(failed, all) queries of a validator counter over ``window``, summed over outcomes."""
    failed = c.counter(counter, c.NEURON + ', outcome!="correct"')
    return (
        f"sum by (hotkey) (increase({failed}[{window}]))",
        f"sum by (hotkey) (increase({c.counter(counter)}[{window}]))",
    )


def _connections(dash, knobs: c.Knobs):
    """The miner's connection bounds and the validator's queries over new connections: the
    outage where idle sockets lock new callers out while connected ones are still served."""
    window = knobs.window("fresh_connection_window")
    fresh_failed, fresh_all = _failed_share(R.VALIDATOR_FRESH_CONNECTION_QUERIES, window)
    all_failed, all_queries = _failed_share(R.VALIDATOR_QUERIES, window)
    dash = dash.with_row(c.row("Runtime: connections"))
    return (
        dash.with_panel(
            c.timeseries_panel(
                "Open connections against the cap",
                "Connections open on the miner's axon, its effective cap (lowered at start to "
                "fit the file-descriptor limit), and the share of the cap where the near-cap "
                "alert fires. At the cap, connections that sent no request are displaced "
                "first; only then are newcomers refused with 503.",
                c.COUNT,
                c.query(f"max by (hotkey) ({c.series(R.AXON_OPEN_CONNECTIONS)})", "open"),
                c.query(f"max by (hotkey) ({c.series(R.AXON_MAX_CONNECTIONS)})", "cap"),
                c.query(
                    f"{knobs.threshold('connections_near_cap_ratio')}"
                    f" * max by (hotkey) ({c.series(R.AXON_MAX_CONNECTIONS)})",
                    "near-cap alert",
                ),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Connections closed by reason",
                "Connections the miner closed or refused per second: displaced or timed out "
                "(idle, headers, body) are idle or slow sockets; over_capacity is a caller "
                "refused at the cap; header_too_large a 431.",
                c.OPS,
                c.query(c.rate(R.AXON_CONNECTIONS_CLOSED, "reason"), "{{reason}}"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Failed accepts",
                "accept() failures on the miner's listener over the out-of-descriptors "
                "alert's window, by error (EMFILE: the process's limit, ENFILE: the host's). "
                "Any is the alert: new callers cannot connect.",
                c.COUNT,
                c.query(
                    "sum by (error) "
                    f"(increase({c.counter(R.AXON_ACCEPT_ERRORS)}"
                    f"[{knobs.window('accept_errors_window')}]))",
                    "{{error}}",
                ),
                thresholds=c.rising(None, 1),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Fresh-connection query outcomes",
                "Validator: queries sent over a newly opened connection (every "
                "query.fresh_connection_every_steps steps) per second, by outcome. A miner "
                "can keep answering a kept-alive connection while it turns new callers away.",
                c.PER_SECOND,
                c.query(c.rate(R.VALIDATOR_FRESH_CONNECTION_QUERIES, "outcome"), "{{outcome}}"),
                min_value=0,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Fresh-connection queries failing",
                "Validator: share of its queries over new connections that did not come back "
                "correct, beside the share for its kept-alive ones, over the alert's window. "
                "Fresh failing while kept-alive succeed is a miner refusing new callers; "
                "dashed line: where that alert fires.",
                c.RATIO,
                c.query(f"{fresh_failed} / {fresh_all}", "new connections"),
                c.query(
                    f"({all_failed} - {fresh_failed}) / ({all_queries} - {fresh_all})",
                    "kept-alive connections",
                ),
                thresholds=c.rising(None, knobs.threshold("fresh_connection_failure_ratio")),
                min_value=0,
                max_value=1,
            )
        )
    )


def _probe(dash, knobs: c.Knobs):
    """The agent's signed probe of the axon the chain lists: reachable from outside, and
    served by this hotkey, whatever the neuron's own metrics say. No series: the probe is
    off (probe: in the agent config), or the chain lists no axon for the hotkey."""
    dash = dash.with_row(c.row("Reachability: the agent's signed probe"))
    return (
        dash.with_panel(
            c.timeseries_panel(
                "Probe latency",
                "Seconds from the agent's btauth/1-signed GET /probe to the axon the chain "
                "lists for this hotkey until the answer, or until the failure.",
                c.SECONDS,
                c.query(f"max by (axon) ({c.series(P.LATENCY_SECONDS)})", "{{axon}}"),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Probe rounds failed in a row",
                "Probe rounds in a row without a 200; red from where BittensorAxonUnreachable "
                "fires (while the hotkey is registered).",
                c.COUNT,
                c.query(f"max by (axon) ({c.series(P.CONSECUTIVE_FAILURES)})", "{{axon}}"),
                thresholds=c.rising(None, knobs.threshold("probe_unreachable_polls")),
                min_value=0,
                width=8,
            )
        )
        .with_panel(
            c.timeseries_panel(
                "Probe status",
                "HTTP status of the last probe: 200 up; 401/403 a signature for this hotkey "
                "refused there (another hotkey's miner, or a clock off); 404 no probe route; "
                "0 no HTTP answer at all.",
                c.NONE,
                c.query(f"max by (axon) ({c.series(P.STATUS_CODE)})", "{{axon}}"),
                min_value=0,
                width=8,
            )
        )
    )
