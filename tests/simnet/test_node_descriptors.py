"""simnet's node declares what the real runtime declares, by the installed SDK's own account.

The SDK's generated descriptors (``bittensor/_generated/``) were produced by its codegen from a
real runtime's metadata. Here the SDK's codec reads the metadata simnet's node serves and must
find every declared storage item under the same pallet and name with the same value type name,
every runtime API method, and every constant. A rename in simnet, or in a new SDK, fails here.
"""

from __future__ import annotations

import inspect

import pytest
from bittensor._generated import constants as gen_constants
from bittensor._generated import runtime_apis as gen_apis
from bittensor._generated import storage as gen_storage
from bittensor._transport.codec import RuntimeCodec

from simnet.node import NODE_SPEC_VERSION as SPEC_VERSION
from simnet.node.apis import APIS
from simnet.node.metadata import NodeMetadata
from simnet.node.pallets import PALLETS


@pytest.fixture(scope="module")
def ir():
    metadata = NodeMetadata(spec_version=SPEC_VERSION, block_time=12.0)
    codec = RuntimeCodec(metadata.bytes, spec_version=SPEC_VERSION, transaction_version=1)
    assert codec.is_v15
    return codec.metadata_ir()


def _generated(module, container: str) -> dict[str, object]:
    cls = getattr(module, container, None)
    assert inspect.isclass(cls), f"the SDK declares no {container} in {module.__name__}"
    return {name: value for name, value in vars(cls).items() if not name.startswith("_")}


def test_every_storage_item_the_node_serves_is_the_sdks_with_its_value_type(ir):
    served = {p.name: {s.name: s.value_type_ident for s in p.storage} for p in ir.pallets}
    checked = 0
    for pallet, items in served.items():
        generated = _generated(gen_storage, pallet) if items else {}
        for name, ident in items.items():
            assert name in generated, f"{pallet}.{name}: the SDK has no such storage item"
            assert generated[name].value_type_ident == ident, (
                f"{pallet}.{name}: simnet serves {ident}, "
                f"the SDK expects {generated[name].value_type_ident}"
            )
            checked += 1
    declared = sum(len(p.storage) for p in PALLETS)
    assert checked == declared > 80


def test_every_runtime_api_method_the_node_serves_is_the_sdks(ir):
    served = {api.name: set(api.methods) for api in ir.runtime_apis}
    assert served == {api.name: {m.name for m in api.methods} for api in APIS}
    for api, methods in served.items():
        generated = _generated(gen_apis, api)
        assert methods <= set(generated), f"{api}: the SDK lacks {methods - set(generated)}"


def test_every_constant_the_node_serves_is_the_sdks(ir):
    for pallet in ir.pallets:
        for name in pallet.constants:
            assert name in _generated(gen_constants, pallet.name), f"{pallet.name}.{name}"
    assert {name for p in ir.pallets for name in p.constants} == {
        "SlotDuration", "ExistentialDeposit", "MinimumPeriod",
    }  # fmt: skip


def test_the_pallets_sit_at_the_runtime_indexes_of_the_sdks_error_catalog(ir):
    # Module errors travel as (pallet index, error index): a wrong index names another error.
    from bittensor._generated.errors import ERRORS

    catalog = {info.pallet: index for (index, _error), info in ERRORS.items()}
    served = {p.name: p.index for p in ir.pallets}
    with_errors = {name: index for name, index in served.items() if name in catalog}
    assert with_errors == {name: catalog[name] for name in with_errors}
    assert set(with_errors) == {"System", "Balances", "SubtensorModule", "Commitments", "MevShield"}


def test_every_call_the_node_dispatches_is_the_sdks_with_its_parameters(ir):
    from bittensor._generated import calls as gen_calls

    served = {(p.name, c.name): [a.name for a in c.args] for p in ir.pallets for c in p.calls}
    assert ("SubtensorModule", "set_mechanism_weights") in served
    for (pallet, name), params in served.items():
        builder = _generated(gen_calls, pallet).get(name)
        assert builder is not None, f"{pallet}.{name}: the SDK has no such call"
        expected = list(inspect.signature(builder).parameters)
        assert params == expected, f"{pallet}.{name}: simnet takes {params}, the SDK {expected}"
