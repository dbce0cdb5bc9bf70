"""The series about the chain as a whole and about the exporter itself (its polls, reads,
endpoints and InfluxDB sink), each declared once; :class:`common.metric_names.Exporter`
re-exports them, so ``Exporter.EXPORTER_UP`` reads as before. Split from
``common.metric_names`` by concern: these belong to ``exporters/status.py``,
``exporters/subnets.py``, ``exporters/runtime_version.py``, ``exporters/reads.py`` and
``agent/influx.py``, not to a neuron or subnet area.
"""

from common.series import Series, SeriesGroup, cached

ENDPOINT = ("endpoint",)


class StatusSeries(SeriesGroup):
    """The chain's and the exporter's own series (no neuron or subnet labels)."""

    # -- the chain (exporters/subnets.py): no labels --------------------------------------
    CHAIN_HEAD_BLOCK = Series(
        "bittensor_chain_head_block",
        "gauge",
        cached("Chain head block at the last successful poll."),
    )
    CHAIN_FINALIZED_BLOCK = Series(
        "bittensor_chain_finalized_block",
        "gauge",
        "Finalized block at the last successful poll, as pushed by the endpoint's "
        "finalized-heads subscription (chain_subscribeFinalizedHeads), not read per "
        "poll; while that subscription has delivered nothing for "
        "poll.finality_stale_blocks block times (default 5; hung or reconnecting) each "
        "poll reads it directly instead. Absent until known.",
    )
    CHAIN_BLOCK_TIME_SECONDS = Series(
        "bittensor_chain_block_time_seconds",
        "gauge",
        "Target seconds per block, from the chain's runtime. Cached: read once per "
        "connection to an endpoint.",
        unit="seconds",
    )
    CHAIN_HEAD_TIMESTAMP_SECONDS = Series(
        "bittensor_chain_head_timestamp_seconds",
        "gauge",
        cached(
            "Unix time at which this agent first saw the current head; it stops advancing "
            "when the chain stalls."
        ),
        unit="seconds",
    )

    # -- the runtime version (exporters/runtime_version.py) -------------------------------
    CHAIN_RUNTIME_SPEC_VERSION = Series(
        "bittensor_chain_runtime_spec_version",
        "gauge",
        cached("The chain runtime's spec_version."),
    )
    CHAIN_RUNTIME_PREVIOUS_SPEC_VERSION = Series(
        "bittensor_chain_runtime_previous_spec_version",
        "gauge",
        cached(
            "The spec_version before the last runtime upgrade the agent saw; absent "
            "until it has seen one (exists only after an upgrade)."
        ),
    )
    CHAIN_RUNTIME_UPGRADES = Series(
        "bittensor_chain_runtime_upgrades",
        "counter",
        "Runtime upgrades (spec_version changes) the agent has seen on this chain; kept "
        "across restarts.",
    )

    # -- the exporter itself (exporters/status.py) ----------------------------------------
    EXPORTER_UP = Series(
        "bittensor_exporter_up", "gauge", "1 if the last poll of the chain succeeded, else 0."
    )
    EXPORTER_POLL_DURATION_SECONDS = Series(
        "bittensor_exporter_poll_duration_seconds",
        "gauge",
        "Seconds the last poll took.",
        unit="seconds",
    )
    EXPORTER_LAST_SUCCESS_TIMESTAMP_SECONDS = Series(
        "bittensor_exporter_last_success_timestamp_seconds",
        "gauge",
        "Unix time of the last successful poll; values are as of then.",
        unit="seconds",
    )
    EXPORTER_SOURCE_BLOCK = Series(
        "bittensor_exporter_source_block",
        "gauge",
        "Block every cached chain value was read at: the last trusted poll's head "
        "(older than bittensor_chain_head_block while the endpoint lags, is rewound or "
        "serves another chain).",
    )
    EXPORTER_TRUSTED_CHAIN_INFO = Series(
        "bittensor_exporter_trusted_chain_info",
        "gauge",
        "The trusted chain's history the values belong to (label chain: its genesis "
        "hash, short, @ the block first trusted); a new one after an adoption "
        "(taowatch agent --adopt-chain). Value always 1.",
        ("chain",),
    )
    EXPORTER_POLL_INTERVAL_SECONDS = Series(
        "bittensor_exporter_poll_interval_seconds",
        "gauge",
        "Configured seconds between polls.",
        unit="seconds",
    )
    EXPORTER_POLLS = Series("bittensor_exporter_polls", "counter", "Polls attempted.")
    EXPORTER_POLL_ERRORS = Series(
        "bittensor_exporter_poll_errors", "counter", "Failed polls by reason.", ("reason",)
    )
    EXPORTER_RPC_ENDPOINT_UP = Series(
        "bittensor_exporter_rpc_endpoint_up",
        "gauge",
        "1 if the endpoint answered its last head probe, else 0.",
        ENDPOINT,
    )
    EXPORTER_RPC_ENDPOINT_ACTIVE = Series(
        "bittensor_exporter_rpc_endpoint_active",
        "gauge",
        "1 for the endpoint the poll reads from, else 0.",
        ENDPOINT,
    )
    EXPORTER_RPC_ENDPOINT_HEAD_LAG_BLOCKS = Series(
        "bittensor_exporter_rpc_endpoint_head_lag_blocks",
        "gauge",
        "Blocks the endpoint's head is behind the best head among the endpoints.",
        ENDPOINT,
    )
    EXPORTER_RPC_ENDPOINT_PROBES = Series(
        "bittensor_exporter_rpc_endpoint_probes",
        "counter",
        "Head probes sent to the endpoint (one per poll).",
        ENDPOINT,
    )
    EXPORTER_RPC_ENDPOINT_ERRORS = Series(
        "bittensor_exporter_rpc_endpoint_errors",
        "counter",
        "Failed probes and reads on the endpoint by reason; divided by the probes, the "
        "share of polls the endpoint failed.",
        ("endpoint", "reason"),
    )
    EXPORTER_CHAIN_MISMATCH = Series(
        "bittensor_exporter_chain_mismatch",
        "gauge",
        "1 while the active endpoint is rewound (kind rewound: far behind, or another block "
        "at the trusted height) or serves another chain (kind changed: another genesis "
        "hash): neuron and subnet series keep their last trusted values and no "
        "deregistration is counted until it matches again.",
        ("kind",),
    )
    EXPORTER_CHAIN_MISMATCHES = Series(
        "bittensor_exporter_chain_mismatches",
        "counter",
        "Times the active endpoint was found rewound or on another chain, by kind.",
        ("kind",),
    )
    EXPORTER_SHARDS = Series(
        "bittensor_exporter_shards",
        "gauge",
        "Agents the watched subnets are split over; this one reads netuid n when "
        "n % count equals its shard_index (1 and 0 when one agent reads them all).",
        ("shard_index",),
    )
    # -- reads that fail alone (exporters/reads.py) ---------------------------------------
    EXPORTER_READ_ERRORS = Series(
        "bittensor_exporter_read_errors",
        "counter",
        "Reads of the chain that failed (after retries) by read and reason; only that "
        "read's series are absent for the poll. Every read starts at 0.",
        ("read", "reason"),
    )
    EXPORTER_READ_UNSUPPORTED = Series(
        "bittensor_exporter_read_unsupported",
        "gauge",
        "1 while the chain's runtime lacks the storage item this read needs (an older or "
        "upgraded runtime): its series are absent or at the chain's default, else 0.",
        ("read",),
    )
    # -- the InfluxDB sink (agent/influx.py) ----------------------------------------------
    EXPORTER_INFLUX_POINTS_WRITTEN = Series(
        "bittensor_exporter_influx_points_written", "counter", "Points InfluxDB accepted."
    )
    EXPORTER_INFLUX_WRITE_ERRORS = Series(
        "bittensor_exporter_influx_write_errors",
        "counter",
        "Failed InfluxDB write attempts (each retry counts).",
    )
    EXPORTER_INFLUX_POINTS_DROPPED = Series(
        "bittensor_exporter_influx_points_dropped",
        "counter",
        "Points dropped: buffer full, or a batch InfluxDB rejected as invalid.",
    )
    EXPORTER_INFLUX_BUFFER_POINTS = Series(
        "bittensor_exporter_influx_buffer_points", "gauge", "Points waiting to be written."
    )
