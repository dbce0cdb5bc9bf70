"""The series the neurons and the agent's probe expose about themselves, each declared once
as a :class:`common.series.Series`; ``neuron/metrics.py`` and ``agent/probe.py`` take their
HELP from here."""

from common.series import Series, SeriesGroup

BASE = ("netuid", "hotkey")


class Runtime(SeriesGroup):
    """Series the bundled miner (:9947) and validator (:9948) expose about themselves
    (``neuron/metrics.py``). Every series carries ``netuid`` and ``hotkey`` (the neuron's
    own), so it joins the exporter's per-hotkey series."""

    AXON_REQUESTS = Series(
        "bittensor_axon_requests",
        "counter",
        "Requests answered by the axon, by route and HTTP status.",
        (*BASE, "route", "status"),
    )
    AXON_REQUEST_DURATION_SECONDS = Series(
        "bittensor_axon_request_duration_seconds",
        "histogram",
        "Time from request arrival to response, by route.",
        (*BASE, "route"),
        unit="seconds",
    )
    AXON_BLACKLISTED = Series(
        "bittensor_axon_blacklisted",
        "counter",
        "Requests refused before reaching the handler, by reason.",
        (*BASE, "reason"),
    )
    AXON_INFLIGHT_REQUESTS = Series(
        "bittensor_axon_inflight_requests", "gauge", "Requests being handled now.", BASE
    )
    AXON_QUEUE_DEPTH = Series(
        "bittensor_axon_queue_depth",
        "gauge",
        "Verified requests waiting for a handler slot.",
        BASE,
    )
    METAGRAPH_LAST_SYNC_TIMESTAMP_SECONDS = Series(
        "bittensor_neuron_metagraph_last_sync_timestamp_seconds",
        "gauge",
        "Unix time of the last successful metagraph sync.",
        BASE,
        unit="seconds",
    )
    METAGRAPH_SYNC_INTERVAL_SECONDS = Series(
        "bittensor_neuron_metagraph_sync_interval_seconds",
        "gauge",
        "Seconds between metagraph syncs (the smaller of the configured interval and a tempo).",
        BASE,
        unit="seconds",
    )
    METAGRAPH_SYNC_FAILURES = Series(
        "bittensor_neuron_metagraph_sync_failures", "counter", "Metagraph syncs that failed.", BASE
    )
    METAGRAPH_BLOCK = Series(
        "bittensor_neuron_metagraph_block",
        "gauge",
        "Block of the last successful metagraph sync.",
        BASE,
    )
    SELF_REGISTERED = Series(
        "bittensor_neuron_self_registered",
        "gauge",
        "1 if this neuron's hotkey was registered at the last metagraph sync.",
        BASE,
    )
    BUILD_INFO = Series(
        "bittensor_neuron_build_info",
        "gauge",
        "Build of the running neuron; value 1.",
        (*BASE, "role", "version", "python"),
    )
    VALIDATOR_QUERIES = Series(
        "bittensor_validator_queries",
        "counter",
        "Challenges sent to miners, by outcome.",
        (*BASE, "outcome"),
    )
    VALIDATOR_QUERY_DURATION_SECONDS = Series(
        "bittensor_validator_query_duration_seconds",
        "histogram",
        "Round trip of one challenge to one miner.",
        BASE,
        unit="seconds",
    )
    VALIDATOR_MINER_SCORE = Series(
        "bittensor_validator_miner_score",
        "gauge",
        "Moving average of each miner's score (0..1) as this validator sees it.",
        (*BASE, "uid"),
    )
    VALIDATOR_SET_WEIGHTS = Series(
        "bittensor_validator_set_weights",
        "counter",
        "SetWeights attempts, by outcome (success or the failure's class).",
        (*BASE, "outcome"),
    )
    VALIDATOR_LAST_SET_WEIGHTS_BLOCK = Series(
        "bittensor_validator_last_set_weights_block",
        "gauge",
        "Block at which this validator's last SetWeights was included.",
        BASE,
    )
    # Commit-reveal (neuron/reveals.py): commits made, reveals the chain was seen to make.
    VALIDATOR_WEIGHT_COMMITS = Series(
        "bittensor_validator_weight_commits",
        "counter",
        "Commit-reveal weight commits included on chain (a subset of successful SetWeights).",
        BASE,
    )
    VALIDATOR_WEIGHT_REVEALS = Series(
        "bittensor_validator_weight_reveals",
        "counter",
        "Reveals of this validator's commits the chain was seen to make.",
        BASE,
    )
    VALIDATOR_WEIGHT_REVEALS_MISSED = Series(
        "bittensor_validator_weight_reveals_missed",
        "counter",
        "This validator's commits that left the chain's queue past their reveal epoch "
        "without being revealed (unopenable, or refused by the weight checks).",
        BASE,
    )
    VALIDATOR_LAST_COMMIT_BLOCK = Series(
        "bittensor_validator_last_weight_commit_block",
        "gauge",
        "Block at which this validator's last commit-reveal weight commit was included.",
        BASE,
    )
    VALIDATOR_LAST_REVEAL_BLOCK = Series(
        "bittensor_validator_last_weight_reveal_block",
        "gauge",
        "Block at which the chain was last seen revealing this validator's committed weights.",
        BASE,
    )
    VALIDATOR_UNREVEALED_COMMITS = Series(
        "bittensor_validator_unrevealed_weight_commits",
        "gauge",
        "This validator's weight commits the chain still holds unrevealed.",
        BASE,
    )
    VALIDATOR_STEP_DURATION_SECONDS = Series(
        "bittensor_validator_step_duration_seconds",
        "histogram",
        "Duration of one validator step (query k miners, score them).",
        BASE,
        unit="seconds",
    )
    # Connection bounds (neuron/serving.py) and the validator's fresh-connection probe.
    AXON_OPEN_CONNECTIONS = Series(
        "bittensor_axon_open_connections", "gauge", "Connections open on the axon now.", BASE
    )
    AXON_MAX_CONNECTIONS = Series(
        "bittensor_axon_max_connections", "gauge", "The axon's effective connection cap.", BASE
    )
    AXON_CONNECTIONS_CLOSED = Series(
        "bittensor_axon_connections_closed",
        "counter",
        "Connections the axon closed or refused to bound its resources, by reason.",
        (*BASE, "reason"),
    )
    AXON_ACCEPT_ERRORS = Series(
        "bittensor_axon_accept_errors",
        "counter",
        "accept() failures on the axon's listener (EMFILE: out of file descriptors).",
        (*BASE, "error"),
    )
    VALIDATOR_FRESH_CONNECTION_QUERIES = Series(
        "bittensor_validator_fresh_connection_queries",
        "counter",
        "Challenges sent over a newly opened connection (not a kept-alive one), by outcome.",
        (*BASE, "outcome"),
    )


PROBED = ("netuid", "hotkey", "uid", "axon")


class Probe(SeriesGroup):
    """Series of the agent's signed reachability probe (``agent/probe.py``), on the agent's
    ``/metrics``: per probed axon, then the prober about itself."""

    UP = Series(
        "bittensor_probe_up", "gauge", "1 if the axon answered the signed probe with 200.", PROBED
    )
    LATENCY_SECONDS = Series(
        "bittensor_probe_latency_seconds",
        "gauge",
        "Seconds from sending the probe to its answer or failure.",
        PROBED,
        unit="seconds",
    )
    STATUS_CODE = Series(
        "bittensor_probe_status_code",
        "gauge",
        "HTTP status of the last probe; 0 when no HTTP answer came.",
        PROBED,
    )
    CONSECUTIVE_FAILURES = Series(
        "bittensor_probe_consecutive_failures",
        "gauge",
        "Probe rounds in a row without a 200.",
        PROBED,
    )
    ROUNDS = Series("bittensor_probe_rounds", "counter", "Probe rounds completed.")
    PROBES = Series("bittensor_probe_probes", "counter", "Probes sent, by outcome.", ("outcome",))
    ROUND_DURATION_SECONDS = Series(
        "bittensor_probe_round_duration_seconds",
        "gauge",
        "Seconds the last probe round took.",
        unit="seconds",
    )
