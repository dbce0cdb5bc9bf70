"""The runtime APIs simnet answers, with their parameters and results as the runtime
declares them (``runtime/src/lib.rs`` ``impl_runtime_apis!`` and the subtensor
``runtime-api`` crate). Results are the types of :mod:`simnet.node.types`; the SDK's
generated ``runtime_apis.py`` names every (api, method) here
(``tests/simnet/test_node_descriptors.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str
    inputs: tuple[tuple[str, str], ...]
    output: str


@dataclass(frozen=True)
class Api:
    name: str
    methods: tuple[Method, ...]


NETUID = (("netuid", "NetUid"),)

APIS = (
    Api("Core", (Method("version", (), "RuntimeVersion"),)),
    Api(
        "Metadata",
        (
            Method("metadata_at_version", (("version", "u32"),), "Option<OpaqueMetadata>"),
            Method("metadata_versions", (), "Vec<u32>"),
        ),
    ),
    Api(
        "TransactionPaymentApi",
        (
            Method(
                "query_info",
                (("uxt", "UncheckedExtrinsic"), ("len", "u32")),
                "RuntimeDispatchInfo",
            ),
        ),
    ),
    Api("AccountNonceApi", (Method("account_nonce", (("account", "AccountId32"),), "u32"),)),
    Api(
        "NeuronInfoRuntimeApi",
        (
            Method("get_neurons_lite", NETUID, "Vec<NeuronInfoLite>"),
            Method("get_neurons", NETUID, "Vec<NeuronInfo>"),
            Method("get_neuron_lite", (*NETUID, ("uid", "u16")), "Option<NeuronInfoLite>"),
            Method("get_neuron", (*NETUID, ("uid", "u16")), "Option<NeuronInfo>"),
        ),
    ),
    Api(
        "SubnetInfoRuntimeApi",
        (
            Method("get_metagraph", NETUID, "Option<Metagraph>"),
            Method(
                "get_selective_metagraph",
                (*NETUID, ("metagraph_indexes", "Vec<u16>")),
                "Option<SelectiveMetagraph>",
            ),
            Method("get_dynamic_info", NETUID, "Option<DynamicInfo>"),
            Method("get_all_dynamic_info", (), "Vec<Option<DynamicInfo>>"),
            Method("get_subnet_info", NETUID, "Option<SubnetInfo>"),
            Method("get_subnets_info", (), "Vec<Option<SubnetInfo>>"),
            Method("get_subnet_hyperparams", NETUID, "Option<SubnetHyperparams>"),
            Method("get_subnet_hyperparams_v3", NETUID, "Option<Vec<HyperparamEntry>>"),
            Method("get_next_epoch_start_block", NETUID, "Option<u64>"),
        ),
    ),
    Api(
        "StakeInfoRuntimeApi",
        (
            Method(
                "get_stake_info_for_hotkey_coldkey_netuid",
                (("hotkey", "AccountId32"), ("coldkey", "AccountId32"), *NETUID),
                "Option<StakeInfo>",
            ),
            Method("get_stake_info_for_coldkey", (("coldkey", "AccountId32"),), "Vec<StakeInfo>"),
            Method(
                "get_stake_info_for_coldkeys",
                (("coldkey_accounts", "Vec<AccountId32>"),),
                "Vec<(AccountId32, Vec<StakeInfo>)>",
            ),
            Method(
                "get_stake_availability_for_coldkeys",
                (("coldkeys", "Vec<AccountId32>"), ("netuids", "Vec<NetUid>")),
                "BTreeMap<AccountId32, BTreeMap<NetUid, StakeAvailability>>",
            ),
        ),
    ),
    Api(
        "SwapRuntimeApi",
        (
            Method("current_alpha_price", NETUID, "u64"),
            Method("current_alpha_price_all", (), "Vec<SubnetPrice>"),
            Method("sim_swap_tao_for_alpha", (*NETUID, ("tao", "TaoBalance")), "SimSwapResult"),
            Method("sim_swap_alpha_for_tao", (*NETUID, ("alpha", "AlphaBalance")), "SimSwapResult"),
        ),
    ),
    # Baskets are never filled in simnet. get_root_basket_positions' middle column is the
    # SDK's "beta" (reads/root.py unpacks (hotkey, beta, payout)); its width is simnet's
    # reading, unverified against the runtime, and no value of it is ever sent.
    Api(
        "BetaBasketRuntimeApi",
        (
            Method("get_root_basket_owed", (("coldkey", "AccountId32"),), "TaoBalance"),
            Method(
                "get_root_basket_positions",
                (("coldkey", "AccountId32"),),
                "Vec<(AccountId32, u64, TaoBalance)>",
            ),
        ),
    ),
    Api(
        "SubnetRegistrationRuntimeApi",
        (Method("get_network_registration_cost", (), "TaoBalance"),),
    ),
)
