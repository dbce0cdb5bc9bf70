"""Every metric name taowatch exposes, in one place.

Exporters, the neuron runtime and the dashboard generator import these; the alert rules
are YAML, so a test checks every name they use against live exposition instead.

Label conventions shared by all components, so chain outcomes and runtime causes join in
one query: ``netuid`` (subnet id as a decimal string), ``hotkey`` (ss58), ``uid`` where the
neuron holds one, ``coldkey`` (ss58 of the owner) on identity-style series.
"""

from enum import StrEnum


class Exporter(StrEnum):
    """Series the agent's chain exporter yields (``agent`` on :9946 ``/metrics``)."""

    # Per watched hotkey and subnet. Labels: netuid, hotkey, plus uid where registered.
    NEURON_REGISTERED = "bittensor_neuron_registered"
    NEURON_UID = "bittensor_neuron_uid"
    NEURON_RANK = "bittensor_neuron_rank"
    NEURON_TRUST = "bittensor_neuron_trust"
    NEURON_VALIDATOR_TRUST = "bittensor_neuron_validator_trust"
    NEURON_CONSENSUS = "bittensor_neuron_consensus"
    NEURON_INCENTIVE = "bittensor_neuron_incentive"
    NEURON_DIVIDENDS = "bittensor_neuron_dividends"
    NEURON_EMISSION_ALPHA = "bittensor_neuron_emission_alpha"
    NEURON_STAKE_ALPHA = "bittensor_neuron_stake_alpha"  # after childkey inheritance
    NEURON_STAKE_ALPHA_OWN = "bittensor_neuron_stake_alpha_own"  # the hotkey's own, no inheritance
    NEURON_STAKE_TAO = "bittensor_neuron_stake_tao"  # root (netuid 0) TAO stake
    # alpha + tao_weight * root TAO: the stake the epoch weighs the hotkey by.
    NEURON_STAKE_WEIGHT = "bittensor_neuron_stake_weight"
    NEURON_ACTIVE = "bittensor_neuron_active"
    NEURON_VALIDATOR_PERMIT = "bittensor_neuron_validator_permit"
    NEURON_LAST_UPDATE_BLOCK = "bittensor_neuron_last_update_block"
    NEURON_BLOCKS_SINCE_LAST_UPDATE = "bittensor_neuron_blocks_since_last_update"
    NEURON_REGISTRATION_BLOCK = "bittensor_neuron_registration_block"
    NEURON_IMMUNITY_REMAINING_BLOCKS = "bittensor_neuron_immunity_remaining_blocks"
    NEURON_AXON_INFO = "bittensor_neuron_axon_info"  # labels + ip, port; value 1
    NEURON_DEREGISTRATIONS = "bittensor_neuron_deregistrations"  # counter: *_total on the wire
    NEURON_PRUNING_POSITION = "bittensor_neuron_pruning_position"  # 0 = evicted next
    # The agent's reveal watch of watched validators (exporters/reveal_watch.py).
    NEURON_WEIGHT_COMMITS_PENDING = "bittensor_neuron_weight_commits_pending"
    NEURON_WEIGHT_REVEALS = "bittensor_neuron_weight_reveals"  # counter
    NEURON_WEIGHT_REVEALS_MISSED = "bittensor_neuron_weight_reveals_missed"  # counter
    NEURON_REGISTRATIONS_UNTIL_PRUNED = "bittensor_neuron_registrations_until_pruned"
    NEURON_PRUNING_POSITION_AFTER_IMMUNITY = "bittensor_neuron_pruning_position_after_immunity"
    NEURON_VALIDATOR_TRUST_RANK = "bittensor_neuron_validator_trust_rank"  # 0 = highest
    # Only on subnets with more than one mechanism; labels + mechid.
    NEURON_MECHANISM_INCENTIVE = "bittensor_neuron_mechanism_incentive"

    # Per subnet. Labels: netuid.
    SUBNET_TEMPO_BLOCKS = "bittensor_subnet_tempo_blocks"
    SUBNET_BLOCKS_SINCE_LAST_STEP = "bittensor_subnet_blocks_since_last_step"
    SUBNET_IMMUNITY_PERIOD_BLOCKS = "bittensor_subnet_immunity_period_blocks"
    SUBNET_ACTIVITY_CUTOFF_BLOCKS = "bittensor_subnet_activity_cutoff_blocks"
    SUBNET_REGISTRATION_COST_TAO = "bittensor_subnet_registration_cost_tao"
    SUBNET_NEURONS = "bittensor_subnet_neurons"
    SUBNET_MAX_NEURONS = "bittensor_subnet_max_neurons"
    SUBNET_ALPHA_PRICE_TAO = "bittensor_subnet_alpha_price_tao"
    SUBNET_REGISTRATIONS_RECENT = "bittensor_subnet_registrations_recent"
    SUBNET_VALIDATOR_TRUST_MEDIAN = "bittensor_subnet_validator_trust_median"
    SUBNET_VALIDATORS = "bittensor_subnet_validators"
    SUBNET_VALIDATOR_WEIGHTS_AGE_MEDIAN_BLOCKS = (
        "bittensor_subnet_validator_weights_age_median_blocks"
    )
    # Today's chain rules per subnet (exporters/economics.py); booleans are 0/1.
    SUBNET_COMMIT_REVEAL_ENABLED = "bittensor_subnet_commit_reveal_enabled"
    SUBNET_REVEAL_PERIOD_EPOCHS = "bittensor_subnet_reveal_period_epochs"
    SUBNET_YUMA3_ENABLED = "bittensor_subnet_yuma3_enabled"
    SUBNET_LIQUID_ALPHA_ENABLED = "bittensor_subnet_liquid_alpha_enabled"
    SUBNET_NULL_CONSENSUS = "bittensor_subnet_null_consensus"
    SUBNET_MIN_BURN_TAO = "bittensor_subnet_min_burn_tao"
    SUBNET_MAX_BURN_TAO = "bittensor_subnet_max_burn_tao"
    SUBNET_MIN_NON_IMMUNE_UIDS = "bittensor_subnet_min_non_immune_uids"
    SUBNET_IMMUNE_OWNER_UIDS_LIMIT = "bittensor_subnet_immune_owner_uids_limit"
    SUBNET_SETTING = "bittensor_subnet_setting"  # label name: a storage-only switch
    SUBNET_IS_ROOT = "bittensor_subnet_is_root"
    # The operator's threshold from the agent config; absent where none is set.
    SUBNET_REGISTRATION_COST_ALERT_TAO = "bittensor_subnet_registration_cost_alert_tao"
    # The emission split and its gate (exporters/emission_gate.py), root excluded.
    SUBNET_EMA_PRICE_TAO = "bittensor_subnet_ema_price_tao"
    SUBNET_TAO_IN_EMISSION_TAO = "bittensor_subnet_tao_in_emission_tao"  # this block, the chain's
    SUBNET_EMISSION_SHARE = "bittensor_subnet_emission_share"  # of the block's TAO, 0..1
    SUBNET_EMISSION_DEMAND_SHARE = "bittensor_subnet_emission_demand_share"  # what the gate weighs
    SUBNET_EMISSION_GATE_WEIGHT = "bittensor_subnet_emission_gate_weight"  # 0..1, 1/2 at the bar
    SUBNET_EMISSION_BAR_RATIO = "bittensor_subnet_emission_bar_ratio"  # demand share / bar
    SUBNET_EMISSION_ENABLED = "bittensor_subnet_emission_enabled"  # SubnetEmissionEnabled 0/1
    CHAIN_EMISSION_GATE_BAR = "bittensor_chain_emission_gate_bar"  # EmissionGateBar
    CHAIN_EMISSION_GATE_EXPONENT = "bittensor_chain_emission_gate_exponent"
    CHAIN_EMISSION_BAR_RANK = "bittensor_chain_emission_bar_rank"

    # Chain. No labels.
    CHAIN_HEAD_BLOCK = "bittensor_chain_head_block"
    CHAIN_RUNTIME_SPEC_VERSION = "bittensor_chain_runtime_spec_version"
    CHAIN_RUNTIME_PREVIOUS_SPEC_VERSION = "bittensor_chain_runtime_previous_spec_version"
    CHAIN_RUNTIME_UPGRADES = "bittensor_chain_runtime_upgrades"  # counter
    CHAIN_FINALIZED_BLOCK = "bittensor_chain_finalized_block"
    CHAIN_BLOCK_TIME_SECONDS = "bittensor_chain_block_time_seconds"
    CHAIN_HEAD_TIMESTAMP_SECONDS = "bittensor_chain_head_timestamp_seconds"

    # The exporter about itself.
    EXPORTER_UP = "bittensor_exporter_up"
    EXPORTER_POLL_DURATION_SECONDS = "bittensor_exporter_poll_duration_seconds"
    EXPORTER_LAST_SUCCESS_TIMESTAMP_SECONDS = "bittensor_exporter_last_success_timestamp_seconds"
    EXPORTER_SOURCE_BLOCK = "bittensor_exporter_source_block"
    EXPORTER_POLL_INTERVAL_SECONDS = "bittensor_exporter_poll_interval_seconds"
    EXPORTER_POLLS = "bittensor_exporter_polls"  # counter
    EXPORTER_POLL_ERRORS = "bittensor_exporter_poll_errors"  # counter, label reason
    EXPORTER_RPC_ENDPOINT_UP = "bittensor_exporter_rpc_endpoint_up"  # label endpoint
    EXPORTER_RPC_ENDPOINT_HEAD_LAG_BLOCKS = "bittensor_exporter_rpc_endpoint_head_lag_blocks"
    EXPORTER_RPC_ENDPOINT_ACTIVE = "bittensor_exporter_rpc_endpoint_active"  # 1 = polls read here
    EXPORTER_RPC_ENDPOINT_PROBES = "bittensor_exporter_rpc_endpoint_probes"  # counter
    EXPORTER_RPC_ENDPOINT_ERRORS = "bittensor_exporter_rpc_endpoint_errors"  # counter, + reason
    EXPORTER_READ_ERRORS = "bittensor_exporter_read_errors"  # counter, labels read, reason
    EXPORTER_READ_UNSUPPORTED = "bittensor_exporter_read_unsupported"  # label read; 1 = lacking
    # Label kind (rewound / changed): 1 while the active endpoint is rewound or serves
    # another chain than the trusted one.
    EXPORTER_CHAIN_MISMATCH = "bittensor_exporter_chain_mismatch"
    # Label chain: the identity of the trusted history (genesis@block); value always 1.
    EXPORTER_TRUSTED_CHAIN_INFO = "bittensor_exporter_trusted_chain_info"
    EXPORTER_CHAIN_MISMATCHES = "bittensor_exporter_chain_mismatches"  # counter, label kind
    # Value: how many agents share the subnets; label shard_index: which part this one reads.
    EXPORTER_SHARDS = "bittensor_exporter_shards"
    EXPORTER_INFLUX_POINTS_WRITTEN = "bittensor_exporter_influx_points_written"  # counter
    EXPORTER_INFLUX_WRITE_ERRORS = "bittensor_exporter_influx_write_errors"  # counter
    EXPORTER_INFLUX_POINTS_DROPPED = "bittensor_exporter_influx_points_dropped"  # counter
    EXPORTER_INFLUX_BUFFER_POINTS = "bittensor_exporter_influx_buffer_points"


class Runtime(StrEnum):
    """Series the bundled miner (:9947) and validator (:9948) expose about themselves.

    Every series carries ``netuid`` and ``hotkey`` (the neuron's own), so it joins the
    exporter's per-hotkey series.
    """

    AXON_REQUESTS = "bittensor_axon_requests"  # counter, labels route, status
    AXON_REQUEST_DURATION_SECONDS = "bittensor_axon_request_duration_seconds"  # histogram
    AXON_BLACKLISTED = "bittensor_axon_blacklisted"  # counter, label reason
    AXON_INFLIGHT_REQUESTS = "bittensor_axon_inflight_requests"
    AXON_QUEUE_DEPTH = "bittensor_axon_queue_depth"
    METAGRAPH_LAST_SYNC_TIMESTAMP_SECONDS = "bittensor_neuron_metagraph_last_sync_timestamp_seconds"
    METAGRAPH_SYNC_INTERVAL_SECONDS = "bittensor_neuron_metagraph_sync_interval_seconds"
    METAGRAPH_SYNC_FAILURES = "bittensor_neuron_metagraph_sync_failures"  # counter
    METAGRAPH_BLOCK = "bittensor_neuron_metagraph_block"
    SELF_REGISTERED = "bittensor_neuron_self_registered"
    BUILD_INFO = "bittensor_neuron_build_info"  # labels role, version; value 1
    VALIDATOR_QUERIES = "bittensor_validator_queries"  # counter, label outcome
    VALIDATOR_QUERY_DURATION_SECONDS = "bittensor_validator_query_duration_seconds"  # histogram
    VALIDATOR_MINER_SCORE = "bittensor_validator_miner_score"  # label uid
    VALIDATOR_SET_WEIGHTS = "bittensor_validator_set_weights"  # counter, label outcome
    VALIDATOR_LAST_SET_WEIGHTS_BLOCK = "bittensor_validator_last_set_weights_block"
    # Commit-reveal (neuron/reveals.py): commits made, reveals the chain was seen to make.
    VALIDATOR_WEIGHT_COMMITS = "bittensor_validator_weight_commits"  # counter
    VALIDATOR_WEIGHT_REVEALS = "bittensor_validator_weight_reveals"  # counter
    VALIDATOR_WEIGHT_REVEALS_MISSED = "bittensor_validator_weight_reveals_missed"  # counter
    VALIDATOR_LAST_COMMIT_BLOCK = "bittensor_validator_last_weight_commit_block"
    VALIDATOR_LAST_REVEAL_BLOCK = "bittensor_validator_last_weight_reveal_block"
    VALIDATOR_UNREVEALED_COMMITS = "bittensor_validator_unrevealed_weight_commits"
    VALIDATOR_STEP_DURATION_SECONDS = "bittensor_validator_step_duration_seconds"  # histogram
    # Connection bounds (neuron/serving.py) and the validator's fresh-connection probe.
    AXON_OPEN_CONNECTIONS = "bittensor_axon_open_connections"
    AXON_MAX_CONNECTIONS = "bittensor_axon_max_connections"  # the effective cap
    AXON_CONNECTIONS_CLOSED = "bittensor_axon_connections_closed"  # counter, label reason
    AXON_ACCEPT_ERRORS = "bittensor_axon_accept_errors"  # counter, label error (EMFILE, ...)
    VALIDATOR_FRESH_CONNECTION_QUERIES = "bittensor_validator_fresh_connection_queries"  # counter


class Probe(StrEnum):
    """Series of the agent's signed reachability probe (``agent.probe``), on the agent's
    ``/metrics``. Per probed axon, labels: netuid, hotkey, uid, axon (host:port)."""

    UP = "bittensor_probe_up"
    LATENCY_SECONDS = "bittensor_probe_latency_seconds"
    STATUS_CODE = "bittensor_probe_status_code"  # 0 = no HTTP answer
    CONSECUTIVE_FAILURES = "bittensor_probe_consecutive_failures"
    # The prober about itself. No labels, except outcome on PROBES.
    ROUNDS = "bittensor_probe_rounds"  # counter
    PROBES = "bittensor_probe_probes"  # counter, label outcome
    ROUND_DURATION_SECONDS = "bittensor_probe_round_duration_seconds"


# Default ports, one per component, so a host can run them all side by side.
AGENT_PORT = 9946
MINER_METRICS_PORT = 9947
VALIDATOR_METRICS_PORT = 9948
MINER_AXON_PORT = 8091
SIMNET_PORT = 9955


class Events(StrEnum):
    """Chain events the agent's exporter counts (``exporters/events.py``), on :9946."""

    # Per watched coldkey. Labels: coldkey (+ action on the counter).
    COLDKEY_SWAP_EVENTS = "bittensor_coldkey_swap_events"  # counter: *_total on the wire
    COLDKEY_SWAP_EXECUTION_BLOCK = "bittensor_coldkey_swap_execution_block"
    COLDKEY_SWAP_DISPUTED = "bittensor_coldkey_swap_disputed"
    COLDKEY_SWAP_NEW_COLDKEY = "bittensor_coldkey_swap_new_coldkey_info"
    # Per watched hotkey. Label: hotkey.
    DELEGATE_TAKE_RATIO = "bittensor_delegate_take_ratio"
    DELEGATE_TAKE_PREVIOUS_RATIO = "bittensor_delegate_take_previous_ratio"
    DELEGATE_TAKE_CHANGES = "bittensor_delegate_take_changes"  # counter
    # Per watched (netuid, hotkey); proportions also per child and stage.
    CHILDKEY_CHANGES = "bittensor_childkey_changes"  # counter, label stage
    CHILDKEY_PROPORTION = "bittensor_childkey_proportion"
    CHILDKEY_PENDING_APPLY_BLOCK = "bittensor_childkey_pending_apply_block"
    # Per read subnet and hyperparameter name.
    HYPERPARAMETER_CHANGES = "bittensor_subnet_hyperparameter_changes"  # counter
    HYPERPARAMETER_CHANGED_VALUE = "bittensor_subnet_hyperparameter_changed_value"
    HYPERPARAMETER_PREVIOUS_VALUE = "bittensor_subnet_hyperparameter_previous_value"
    # Per read subnet.
    SUBNET_REGISTRATIONS = "bittensor_subnet_registrations"  # counter
    SUBNET_DEREGISTRATIONS = "bittensor_subnet_deregistrations"  # counter
    SUBNET_LAST_DEREGISTERED_EMISSION_ALPHA = "bittensor_subnet_last_deregistered_emission_alpha"
    SUBNET_LAST_DEREGISTERED_BLOCK = "bittensor_subnet_last_deregistered_block"
    SUBNET_AXONS_SERVED = "bittensor_subnet_axons_served"
