"""The chain exporter's series, each declared once as a :class:`common.series.Series` (name,
kind, HELP, labels); the neurons' and the probe's are in ``common.runtime_series`` (also
importable from here), the chain events' in their kinds (``exporters/events/``).

The exporter's areas build their families from these (``exporters/``), the neuron and probe
registries take their HELP from them, and the dashboards, the alert tests and the e2e tests
import them; nothing parses this file.

Label conventions shared by all components, so chain outcomes and runtime causes join in
one query: ``netuid`` (subnet id as a decimal string), ``hotkey`` (ss58), ``uid`` where the
neuron holds one, ``coldkey`` (ss58 of the owner) on identity-style series.
"""

from common.runtime_series import Probe, Runtime
from common.series import Series, cached
from common.status_series import StatusSeries

__all__ = ["Exporter", "Probe", "Runtime"]

WATCH = ("netuid", "hotkey")
NEURON = ("netuid", "hotkey", "uid")
SUBNET = ("netuid",)


def _neuron(name: str, help_: str) -> Series:
    return Series(name, "gauge", cached(help_), NEURON)


def _subnet(name: str, help_: str, labels: tuple[str, ...] = SUBNET) -> Series:
    return Series(name, "gauge", cached(help_), labels)


class Exporter(StatusSeries):
    """Series the agent's chain exporter yields (``agent`` on :9946 ``/metrics``); the chain's
    and the exporter's own are declared in :class:`common.status_series.StatusSeries` and
    inherited here."""

    # -- neurons (exporters/neurons.py): per watched hotkey and subnet --------------------
    NEURON_REGISTERED = Series(
        "bittensor_neuron_registered",
        "gauge",
        cached("1 if the watched hotkey holds a uid on the subnet, else 0."),
        WATCH,
    )
    NEURON_DEREGISTRATIONS = Series(
        "bittensor_neuron_deregistrations",
        "counter",
        cached(
            "Times the watched hotkey was seen losing its uid on the subnet (persisted "
            "across agent restarts). Counted only from successful reads."
        ),
        WATCH,
    )
    NEURON_UID = Series(
        "bittensor_neuron_uid",
        "gauge",
        cached("The uid the hotkey holds on the subnet (value = uid; coldkey is the owner)."),
        (*NEURON, "coldkey"),
    )
    NEURON_RANK = _neuron(
        "bittensor_neuron_rank",
        "Rank as the chain reports it, 0..1. The current runtime no longer computes rank "
        "(always 0); kept for older runtimes.",
    )
    NEURON_TRUST = _neuron(
        "bittensor_neuron_trust",
        "Trust as the chain reports it, 0..1. The current runtime no longer computes trust "
        "(always 0); kept for older runtimes.",
    )
    NEURON_VALIDATOR_TRUST = _neuron("bittensor_neuron_validator_trust", "Validator trust, 0..1.")
    NEURON_CONSENSUS = _neuron("bittensor_neuron_consensus", "Consensus, 0..1.")
    NEURON_INCENTIVE = _neuron("bittensor_neuron_incentive", "Incentive, 0..1.")
    NEURON_DIVIDENDS = _neuron("bittensor_neuron_dividends", "Dividends, 0..1.")
    NEURON_EMISSION_ALPHA = _neuron(
        "bittensor_neuron_emission_alpha",
        "Alpha emitted to the neuron by the subnet's last epoch, in alpha tokens.",
    )
    NEURON_STAKE_ALPHA = _neuron(
        "bittensor_neuron_stake_alpha",
        "Alpha stake of the hotkey on this subnet after childkey inheritance (the metagraph's "
        "alpha_stake): its own stake, less what it delegates to its childkeys, plus what its "
        "parents delegate to it. A childkey change moves it with no stake leaving; compare "
        "bittensor_neuron_stake_alpha_own.",
    )
    NEURON_STAKE_ALPHA_OWN = _neuron(
        "bittensor_neuron_stake_alpha_own",
        "Alpha staked on the hotkey itself by its stakers (before childkey inheritance); it "
        "falls only when stake leaves.",
    )
    NEURON_STAKE_TAO = _neuron(
        "bittensor_neuron_stake_tao",
        "Root (netuid 0) TAO stake of the hotkey after childkey inheritance on this subnet "
        "(the metagraph's tao_stake).",
    )
    NEURON_STAKE_WEIGHT = _neuron(
        "bittensor_neuron_stake_weight",
        "Stake the chain's epoch weighs the hotkey by on this subnet: alpha stake + "
        "tao_weight x root TAO stake (the metagraph's total_stake).",
    )
    NEURON_ACTIVE = _neuron(
        "bittensor_neuron_active", "1 if the chain counts the neuron as active, else 0."
    )
    NEURON_VALIDATOR_PERMIT = _neuron(
        "bittensor_neuron_validator_permit", "1 if the neuron holds a validator permit, else 0."
    )
    NEURON_LAST_UPDATE_BLOCK = _neuron(
        "bittensor_neuron_last_update_block",
        "Block of the neuron's last weight update (for a miner: its registration block).",
    )
    NEURON_BLOCKS_SINCE_LAST_UPDATE = _neuron(
        "bittensor_neuron_blocks_since_last_update",
        "Blocks between the source block and the neuron's last weight update; compare with "
        "bittensor_subnet_tempo_blocks and bittensor_subnet_activity_cutoff_blocks.",
    )
    NEURON_REGISTRATION_BLOCK = _neuron(
        "bittensor_neuron_registration_block", "Block at which the hotkey registered into its uid."
    )
    NEURON_IMMUNITY_REMAINING_BLOCKS = _neuron(
        "bittensor_neuron_immunity_remaining_blocks",
        "Blocks of deregistration immunity left, from the next block (0 = can be evicted).",
    )
    NEURON_PRUNING_POSITION = _neuron(
        "bittensor_neuron_pruning_position",
        "Place in the subnet's eviction order, by the chain's pruning rule (0 = replaced "
        "by the next registration into a full subnet): lowest emission first, then "
        "older registration, then lower uid, among the non-immune neurons while more "
        "than min_non_immune_uids remain, else among the immune ones. Absent for the "
        "owner's hotkey, on root, and for a neuron outside that pool.",
    )
    NEURON_VALIDATOR_TRUST_RANK = _neuron(
        "bittensor_neuron_validator_trust_rank",
        "Place among the subnet's validators by validator trust (0 = highest). A "
        "validator holds a permit and has set weights since registering (last update "
        "after the registration block); absent for any other neuron, e.g. a miner "
        "with a spare permit.",
    )
    NEURON_AXON_INFO = Series(
        "bittensor_neuron_axon_info",
        "gauge",
        cached("The axon the neuron serves (ip and port as labels; value always 1)."),
        (*NEURON, "ip", "port"),
    )
    # -- the reveal watch (exporters/reveal_watch.py): per watched validator ----------------
    NEURON_WEIGHT_COMMITS_PENDING = Series(
        "bittensor_neuron_weight_commits_pending",
        "gauge",
        cached(
            "A watched validator's weight commits the chain still holds unrevealed "
            "(commit-reveal subnets)."
        ),
        WATCH,
    )
    NEURON_WEIGHT_REVEALS = Series(
        "bittensor_neuron_weight_reveals",
        "counter",
        cached("A watched validator's commits the chain was seen to reveal."),
        WATCH,
    )
    NEURON_WEIGHT_REVEALS_MISSED = Series(
        "bittensor_neuron_weight_reveals_missed",
        "counter",
        cached(
            "A watched validator's commits that left the chain's queue without a reveal "
            "(unopenable, or refused by the weight checks); kept across restarts."
        ),
        WATCH,
    )
    # -- eviction ETA (exporters/eviction.py) ---------------------------------------------
    NEURON_REGISTRATIONS_UNTIL_PRUNED = _neuron(
        "bittensor_neuron_registrations_until_pruned",
        "Registrations on the subnet until this neuron is evicted: free uids first, "
        "then one per place in the eviction order; for an immune neuron, counted from "
        "the end of its immunity. Divided by the subnet's registration rate, the "
        "expected time to eviction. Absent where no registration can evict it.",
    )
    NEURON_PRUNING_POSITION_AFTER_IMMUNITY = _neuron(
        "bittensor_neuron_pruning_position_after_immunity",
        "For an immune neuron: its place in the eviction order were its immunity over "
        "now, at today's emissions (0 = next). Absent for a neuron not immune.",
    )
    # -- mechanisms (exporters/mechanisms.py): only on subnets with more than one ---------
    NEURON_MECHANISM_INCENTIVE = Series(
        "bittensor_neuron_mechanism_incentive",
        "gauge",
        cached(
            "Incentive in one mechanism (sub-subnet) of the subnet, 0..1; only on subnets "
            "that run more than one. bittensor_neuron_incentive is mechanism 0's."
        ),
        (*NEURON, "mechid"),
    )

    # -- subnets (exporters/subnets.py): per read subnet ----------------------------------
    SUBNET_TEMPO_BLOCKS = _subnet("bittensor_subnet_tempo_blocks", "Blocks between epochs.")
    SUBNET_BLOCKS_SINCE_LAST_STEP = _subnet(
        "bittensor_subnet_blocks_since_last_step", "Blocks since the subnet's last epoch."
    )
    SUBNET_IMMUNITY_PERIOD_BLOCKS = _subnet(
        "bittensor_subnet_immunity_period_blocks",
        "Blocks a new registration is immune from eviction.",
    )
    SUBNET_ACTIVITY_CUTOFF_BLOCKS = _subnet(
        "bittensor_subnet_activity_cutoff_blocks",
        "Blocks without a weight update after which a neuron turns inactive.",
    )
    SUBNET_REGISTRATION_COST_TAO = _subnet(
        "bittensor_subnet_registration_cost_tao", "TAO burned by a registration right now."
    )
    SUBNET_NEURONS = _subnet("bittensor_subnet_neurons", "Registered neurons (uids in use).")
    SUBNET_MAX_NEURONS = _subnet("bittensor_subnet_max_neurons", "Maximum uids on the subnet.")
    SUBNET_ALPHA_PRICE_TAO = _subnet(
        "bittensor_subnet_alpha_price_tao",
        "Spot price of one alpha in TAO (pool TAO / pool alpha).",
    )
    SUBNET_REGISTRATIONS_RECENT = _subnet(
        "bittensor_subnet_registrations_recent",
        "Neurons whose registration block lies within the last window (one tempo by "
        "default): registrations are happening when this is above 0.",
    )
    SUBNET_VALIDATOR_TRUST_MEDIAN = _subnet(
        "bittensor_subnet_validator_trust_median",
        "Median validator trust among the subnet's validators (permit holders that have set "
        "weights since registering; miners with spare permits are left out), 0..1. Absent "
        "while the subnet has none.",
    )
    SUBNET_VALIDATORS = _subnet(
        "bittensor_subnet_validators",
        "Validators on the subnet: permit holders that have set weights since registering.",
    )
    SUBNET_VALIDATOR_WEIGHTS_AGE_MEDIAN_BLOCKS = _subnet(
        "bittensor_subnet_validator_weights_age_median_blocks",
        "Median blocks since the subnet's validators last set weights: high when most of "
        "them are stale at once (a stall of the chain or the subnet, not of one validator). "
        "Absent while the subnet has none.",
    )

    # -- economy (exporters/economy.py): today's chain rules and emission tiers -----------
    SUBNET_COMMIT_REVEAL_ENABLED = _subnet(
        "bittensor_subnet_commit_reveal_enabled",
        "1 if weights are committed (timelocked) and revealed later, else 0.",
    )
    SUBNET_REVEAL_PERIOD_EPOCHS = _subnet(
        "bittensor_subnet_reveal_period_epochs",
        "Epochs between a weight commit and its reveal (meaningful with commit-reveal on).",
    )
    SUBNET_YUMA3_ENABLED = _subnet(
        "bittensor_subnet_yuma3_enabled", "1 if the epoch runs the Yuma3 branch, else 0."
    )
    SUBNET_LIQUID_ALPHA_ENABLED = _subnet(
        "bittensor_subnet_liquid_alpha_enabled",
        "1 if liquid alpha is on (it acts only in the Yuma3 branch), else 0.",
    )
    SUBNET_NULL_CONSENSUS = _subnet(
        "bittensor_subnet_null_consensus",
        "1 if the subnet runs null consensus (the largest stake's weights alone pay miners, "
        "no consensus or validator trust: those signals mean nothing there), else 0.",
    )
    SUBNET_MIN_BURN_TAO = _subnet(
        "bittensor_subnet_min_burn_tao", "Lowest registration burn the chain allows, TAO."
    )
    SUBNET_MAX_BURN_TAO = _subnet(
        "bittensor_subnet_max_burn_tao", "Highest registration burn the chain allows, TAO."
    )
    SUBNET_MIN_NON_IMMUNE_UIDS = _subnet(
        "bittensor_subnet_min_non_immune_uids",
        "Non-immune neurons the chain keeps before it evicts an immune one.",
    )
    SUBNET_IMMUNE_OWNER_UIDS_LIMIT = _subnet(
        "bittensor_subnet_immune_owner_uids_limit",
        "ImmuneOwnerUidsLimit: how many of the owner coldkey's hotkeys (earliest registered "
        "first, the subnet owner hotkey in front) no registration evicts.",
    )
    SUBNET_SETTING = _subnet(
        "bittensor_subnet_setting",
        "A subnet switch that lives only in storage, by its storage name (Yuma3On, "
        "SubnetEpochConsensus 1 = Null, SubnetEmissionEnabled, BondsResetOn, "
        "ImmuneOwnerUidsLimit, MinNonImmuneUids, AlphaSigmoidSteepness, BurnHalfLife, "
        "BurnIncreaseMult); a change raises BittensorSubnetHyperparameterChanged.",
        ("netuid", "name"),
    )
    SUBNET_IS_ROOT = _subnet(
        "bittensor_subnet_is_root",
        "1 for the root subnet (netuid 0: TAO stake and root validators, no miners), else 0.",
    )
    # The operator's threshold from the agent config; absent where none is set.
    SUBNET_REGISTRATION_COST_ALERT_TAO = Series(
        "bittensor_subnet_registration_cost_alert_tao",
        "gauge",
        "Registration cost (TAO) above which the operator wants a warning, from the "
        "agent config (registration_cost_alert_tao); absent where none is set. Cached: "
        "read from the agent config, exported with each poll's snapshot.",
        SUBNET,
    )
    # The emission split and its gate (exporters/emission_gate.py), root excluded.
    SUBNET_EMA_PRICE_TAO = _subnet(
        "bittensor_subnet_ema_price_tao",
        "EMA (moving) price of one alpha in TAO: what the emission split weighs.",
    )
    SUBNET_TAO_IN_EMISSION_TAO = _subnet(
        "bittensor_subnet_tao_in_emission_tao",
        "TAO the chain injected into the subnet's pool in this block (SubnetTaoInEmission).",
    )
    SUBNET_EMISSION_SHARE = _subnet(
        "bittensor_subnet_emission_share",
        "The subnet's share of the block's TAO as the chain paid it, 0..1 "
        "(its tao_in_emission over every subnet's).",
    )
    SUBNET_EMISSION_DEMAND_SHARE = _subnet(
        "bittensor_subnet_emission_demand_share",
        "EMA-price share weighted by 1 - MinerBurned, 0..1: what the emission gate "
        "compares with the bar.",
    )
    SUBNET_EMISSION_GATE_WEIGHT = _subnet(
        "bittensor_subnet_emission_gate_weight",
        "Emission gate weight s^h / (s^h + bar^h), 0..1: 1/2 at the bar, near 0 well "
        "below it; absent without a stored bar.",
    )
    SUBNET_EMISSION_BAR_RATIO = _subnet(
        "bittensor_subnet_emission_bar_ratio",
        "Demand share over the emission bar (EmissionGateBar): 1 at the bar, under 1 "
        "below it; absent without a stored bar.",
    )
    SUBNET_EMISSION_ENABLED = _subnet(
        "bittensor_subnet_emission_enabled",
        "SubnetEmissionEnabled: 1 if the subnet's pool gets TAO, 0 if the switch is off "
        "(its alpha still pays miners and validators); absent where the runtime lacks it.",
    )
    CHAIN_EMISSION_GATE_BAR = _subnet(
        "bittensor_chain_emission_gate_bar",
        "EmissionGateBar: the demand share at which a subnet gets half weight "
        "(recomputed every 360 blocks).",
        (),
    )
    CHAIN_EMISSION_GATE_EXPONENT = _subnet(
        "bittensor_chain_emission_gate_exponent", "EmissionGateExponent (h).", ()
    )
    CHAIN_EMISSION_BAR_RANK = _subnet(
        "bittensor_chain_emission_bar_rank",
        "EmissionBarRank: the bar is the demand share at this rank.",
        (),
    )


# Default ports, one per component, so a host can run them all side by side.
AGENT_PORT = 9946
MINER_METRICS_PORT = 9947
VALIDATOR_METRICS_PORT = 9948
MINER_AXON_PORT = 8091
SIMNET_PORT = 9955
