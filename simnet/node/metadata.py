"""V15 metadata built from simnet's declarations, and the node's codec over it.

The metadata structure itself is SCALE-encoded by ``scalecodec`` (the schema below names the
V15 layout: ``frame-metadata``'s ``RuntimeMetadataV15``); every value the node serves is then
encoded by the SDK's own codec (``bittensor_core.Runtime``) built from those same bytes, so the
node and its clients cannot disagree about a layout. ``NodeMetadata`` also indexes storage
keys by their 32-byte pallet+item prefix, the way a node resolves a raw key.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import bittensor_core
from scalecodec.base import RuntimeConfigurationObject
from scalecodec.type_registry import load_type_registry_preset

from simnet.node.apis import APIS
from simnet.node.extrinsic import EXTRINSIC_TYPES, SIGNED_EXTENSIONS, event_types, pallet_enums
from simnet.node.pallets import PALLETS, StorageItem
from simnet.node.registry import TypeRegistry, zero_bytes
from simnet.node.types import TYPES

METADATA_VERSION = 15
SS58_FORMAT = 42
SPEC_NAME = "node-subtensor"


def _struct(*fields: tuple[str, str]) -> dict[str, Any]:
    return {"type": "struct", "type_mapping": [list(f) for f in fields]}


_ID = "Compact<u32>"
_DOCS = ("docs", "Vec<Text>")
SCHEMA = MappingProxyType(
    {
        "V15Field": _struct(
            ("name", "Option<Text>"), ("ty", _ID), ("type_name", "Option<Text>"), _DOCS
        ),
        "V15Variant": _struct(
            ("name", "Text"), ("fields", "Vec<V15Field>"), ("index", "u8"), _DOCS
        ),
        "V15TypeDef": {
            "type": "enum",
            "type_mapping": [
                ["Composite", "Vec<V15Field>"],
                ["Variant", "Vec<V15Variant>"],
                ["Sequence", _ID],
                ["Array", "V15Array"],
                ["Tuple", f"Vec<{_ID}>"],
                ["Primitive", "TypeDefPrimitive"],
                ["Compact", _ID],
                ["BitSequence", "V15BitSequence"],
            ],
        },
        "V15Array": _struct(("len", "u32"), ("ty", _ID)),
        "V15BitSequence": _struct(("store", _ID), ("order", _ID)),
        "V15TypeParam": _struct(("name", "Text"), ("ty", f"Option<{_ID}>")),
        "V15Type": _struct(
            ("path", "Vec<Text>"), ("params", "Vec<V15TypeParam>"), ("def", "V15TypeDef"), _DOCS
        ),
        "V15PortableType": _struct(("id", _ID), ("ty", "V15Type")),
        "V15Hasher": {
            "type": "enum",
            "value_list": [
                "Blake2_128",
                "Blake2_256",
                "Blake2_128Concat",
                "Twox128",
                "Twox256",
                "Twox64Concat",
                "Identity",
            ],
        },
        "V15Modifier": {"type": "enum", "value_list": ["Optional", "Default"]},
        "V15Map": _struct(("hashers", "Vec<V15Hasher>"), ("key", _ID), ("value", _ID)),
        "V15EntryType": {"type": "enum", "type_mapping": [["Plain", _ID], ["Map", "V15Map"]]},
        "V15Entry": _struct(
            ("name", "Text"),
            ("modifier", "V15Modifier"),
            ("ty", "V15EntryType"),
            ("default", "Bytes"),
            _DOCS,
        ),
        "V15Storage": _struct(("prefix", "Text"), ("entries", "Vec<V15Entry>")),
        "V15Constant": _struct(("name", "Text"), ("ty", _ID), ("value", "Bytes"), _DOCS),
        "V15Pallet": _struct(
            ("name", "Text"),
            ("storage", "Option<V15Storage>"),
            ("calls", f"Option<{_ID}>"),
            ("event", f"Option<{_ID}>"),
            ("constants", "Vec<V15Constant>"),
            ("error", f"Option<{_ID}>"),
            ("index", "u8"),
            _DOCS,
        ),
        "V15SignedExtension": _struct(
            ("identifier", "Text"), ("ty", _ID), ("additional_signed", _ID)
        ),
        "V15Extrinsic": _struct(
            ("version", "u8"),
            ("address_ty", _ID),
            ("call_ty", _ID),
            ("signature_ty", _ID),
            ("extra_ty", _ID),
            ("signed_extensions", "Vec<V15SignedExtension>"),
        ),
        "V15ApiParam": _struct(("name", "Text"), ("ty", _ID)),
        "V15ApiMethod": _struct(
            ("name", "Text"), ("inputs", "Vec<V15ApiParam>"), ("output", _ID), _DOCS
        ),
        "V15Api": _struct(("name", "Text"), ("methods", "Vec<V15ApiMethod>"), _DOCS),
        "V15OuterEnums": _struct(("call_ty", _ID), ("event_ty", _ID), ("error_ty", _ID)),
        "V15CustomValue": _struct(("ty", _ID), ("value", "Bytes")),
        "RuntimeMetadataV15": _struct(
            ("types", "Vec<V15PortableType>"),
            ("pallets", "Vec<V15Pallet>"),
            ("extrinsic", "V15Extrinsic"),
            ("ty", _ID),
            ("apis", "Vec<V15Api>"),
            ("outer_enums", "V15OuterEnums"),
            ("custom", "Vec<(Text, V15CustomValue)>"),
        ),
    }
)


@functools.cache
def _scale_config() -> RuntimeConfigurationObject:
    config = RuntimeConfigurationObject()
    config.update_type_registry(load_type_registry_preset("core"))
    config.update_type_registry({"types": dict(SCHEMA)})
    return config


def encode_metadata(v15: dict[str, Any]) -> bytes:
    """``MetadataVersioned`` bytes: the ``meta`` magic, the version byte, the V15 body."""
    body = _scale_config().create_scale_object("RuntimeMetadataV15").encode(v15)
    return b"meta" + bytes([METADATA_VERSION]) + bytes(body.data)


@dataclass(frozen=True)
class StorageRoute:
    pallet: str
    item: StorageItem


class NodeMetadata:
    """One runtime version's metadata bytes, its codec, and its storage-key index."""

    def __init__(self, *, spec_version: int, block_time: float, transaction_version: int = 1):
        self.spec_version = spec_version
        self.transaction_version = transaction_version
        enums = pallet_enums({p.name: p.index for p in PALLETS})
        self.enums = enums
        registry = TypeRegistry({**TYPES, **EXTRINSIC_TYPES, **enums})
        self.registry = registry
        first = self._v15(registry, block_time, defaults=None)
        # Defaults need the registry complete; the second pass only fills them in.
        self.bytes = encode_metadata(self._v15(registry, block_time, defaults=first))
        self.runtime = bittensor_core.Runtime(
            self.bytes, spec_version, transaction_version, SS58_FORMAT
        )
        self.methods = MappingProxyType(
            {(api.name, m.name): m for api in APIS for m in api.methods}
        )
        routes: dict[bytes, StorageRoute] = {}
        for pallet in PALLETS:
            for item in self._items(pallet):
                prefix = bytes(self.runtime.storage_prefix(pallet.name, item.name))
                routes[prefix] = StorageRoute(pallet.name, item)
        self.routes = MappingProxyType(routes)

    def route(self, key: bytes) -> StorageRoute | None:
        return self.routes.get(key[:32])

    def _v15(self, registry: TypeRegistry, block_time: float, defaults: Any) -> dict[str, Any]:
        pallets = []
        for pallet in PALLETS:
            entries = []
            for item in self._items(pallet):
                value_id = registry.id_of(item.value)
                if item.keys:
                    key_types = [k for k, _ in item.keys]
                    key = key_types[0] if len(key_types) == 1 else f"({', '.join(key_types)})"
                    kind = {
                        "Map": {
                            "hashers": [h for _, h in item.keys],
                            "key": registry.id_of(key),
                            "value": value_id,
                        }
                    }
                else:
                    kind = {"Plain": value_id}
                default = b"\x00" if item.optional else zero_bytes(registry.entries, value_id)
                entries.append(
                    {
                        "name": item.name,
                        "modifier": "Optional" if item.optional else "Default",
                        "ty": kind,
                        "default": "0x" + default.hex(),
                        "docs": [],
                    }
                )
            constants = [
                {
                    "name": c.name,
                    "ty": registry.id_of(c.ty),
                    "value": "0x" + self._constant_bytes(defaults, c, block_time).hex(),
                    "docs": [],
                }
                for c in pallet.constants
            ]
            pallets.append(
                {
                    "name": pallet.name,
                    "storage": {"prefix": pallet.name, "entries": entries} if entries else None,
                    "calls": self._enum_id(registry, f"{pallet.name}Call"),
                    "event": self._enum_id(registry, f"{pallet.name}Event"),
                    "constants": constants,
                    "error": self._enum_id(registry, f"{pallet.name}Error"),
                    "index": pallet.index,
                    "docs": [],
                }
            )
        for api in APIS:
            for m in api.methods:
                if m.inputs:  # the node decodes a call's arguments as one tuple
                    registry.id_of("(" + ", ".join(t for _, t in m.inputs) + ")")
        apis = [
            {
                "name": api.name,
                "methods": [
                    {
                        "name": m.name,
                        "inputs": [{"name": n, "ty": registry.id_of(t)} for n, t in m.inputs],
                        "output": registry.id_of(m.output),
                        "docs": [],
                    }
                    for m in api.methods
                ],
                "docs": [],
            }
            for api in APIS
        ]
        extensions = [
            {
                "identifier": ext.identifier,
                "ty": registry.id_of(ext.extra),
                "additional_signed": registry.id_of(ext.additional),
            }
            for ext in SIGNED_EXTENSIONS
        ]
        extra = "(" + ", ".join(ext.extra for ext in SIGNED_EXTENSIONS) + ")"
        event_types(registry)
        return {
            "types": registry.portable(),
            "pallets": pallets,
            "extrinsic": {
                "version": 4,
                "address_ty": registry.id_of("MultiAddress"),
                "call_ty": registry.id_of("RuntimeCall"),
                "signature_ty": registry.id_of("MultiSignature"),
                "extra_ty": registry.id_of(extra),
                "signed_extensions": extensions,
            },
            "ty": registry.id_of("()"),
            "apis": apis,
            "outer_enums": {
                "call_ty": registry.id_of("RuntimeCall"),
                "event_ty": registry.id_of("RuntimeEvent"),
                "error_ty": registry.id_of("RuntimeError"),
            },
            "custom": [],
        }

    def _items(self, pallet) -> tuple[StorageItem, ...]:
        return tuple(item for item in pallet.storage if item.since <= self.spec_version)

    def _enum_id(self, registry: TypeRegistry, name: str) -> int | None:
        known = name in self.enums or name in EXTRINSIC_TYPES
        return registry.id_of(name) if known else None

    @staticmethod
    def _constant_bytes(first: Any, constant: Any, block_time: float) -> bytes:
        # Constants are primitives or newtypes over one; scalecodec encodes the primitive.
        decl = TYPES.get(constant.ty)
        primitive = decl.inner if decl is not None else constant.ty
        encoded = _scale_config().create_scale_object(primitive).encode(constant.value(block_time))
        return bytes(encoded.data)

    # ------------------------------------------------------------------ codec helpers

    def encode(self, type_string: str, value: Any) -> bytes:
        return bytes(self.runtime.encode(type_string, value))

    def decode(self, type_string: str, data: bytes) -> Any:
        return self.runtime.decode(type_string, bytes(data), True)

    def type_string(self, expr: str) -> str:
        return f"scale_info::{self.registry.id_of(expr)}"

    def zero(self, expr: str) -> bytes:
        return zero_bytes(self.registry.entries, self.registry.id_of(expr))

    def runtime_version(self) -> dict[str, Any]:
        """``Core_version`` / ``state_getRuntimeVersion`` for this runtime."""
        return {
            "spec_name": SPEC_NAME,
            "impl_name": SPEC_NAME,
            "authoring_version": 1,
            "spec_version": self.spec_version,
            "impl_version": 1,
            "apis": [],
            "transaction_version": self.transaction_version,
            "system_version": 1,
        }
