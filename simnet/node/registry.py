"""A scale-info portable type registry built from Rust-like type expressions.

Simnet declares the runtime's types the way subtensor's source writes them
(``Vec<(AccountId32, Compact<AlphaBalance>)>``, ``Option<SubnetIdentityV3>``) and this module
interns each expression once, giving it the id V15 metadata refers to. Named types are
declared as :class:`Struct`, :class:`Newtype` or :class:`Enum` with their Rust path (the SDK's
decoder and its generated descriptors key on a type's last path segment, e.g. ``AccountId32``
decodes to an ss58 string). Generic wrappers follow scale-info's own shapes: ``Option`` and
``Result`` are variant types with those paths, ``BoundedVec`` a composite over a ``Vec``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PRIMITIVES = frozenset(
    (
        "bool",
        "char",
        "str",
        "u8",
        "u16",
        "u32",
        "u64",
        "u128",
        "u256",
        "i8",
        "i16",
        "i32",
        "i64",
        "i128",
        "i256",
    )
)


@dataclass(frozen=True)
class Struct:
    """A composite with named fields, in declaration order (``(name, type expression)``)."""

    path: str
    fields: tuple[tuple[str, str], ...]
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Newtype:
    """A composite with one unnamed field (``pub struct NetUid(u16)``)."""

    path: str
    inner: str


@dataclass(frozen=True)
class Enum:
    """A variant type; each variant is ``(name, fields)`` where fields is ``()`` for a unit
    variant, a tuple of type expressions for a tuple variant, or a tuple of
    ``(name, type)`` pairs for a struct variant. Indexes follow declaration order unless a
    variant is given as ``(index, name, fields)``."""

    path: str
    variants: tuple[tuple, ...]
    docs: tuple[str, ...] = ()


Decl = Struct | Newtype | Enum


class TypeExprError(ValueError):
    """A type expression the registry cannot parse or resolve."""


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside of <>, () and []."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def _generic(expr: str) -> tuple[str, list[str]] | None:
    if expr.endswith(">") and "<" in expr:
        head = expr[: expr.index("<")]
        return head.strip(), split_top(expr[expr.index("<") + 1 : -1])
    return None


@dataclass
class TypeRegistry:
    """Interns type expressions; ``entries`` is the portable registry in id order."""

    decls: Mapping[str, Decl]
    aliases: Mapping[str, str] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)
    _idents: dict[int, str] = field(default_factory=dict)

    def id_of(self, expr: str) -> int:
        key = " ".join(expr.split())
        key = self.aliases.get(key, key)
        found = self._ids.get(key)
        if found is not None:
            return found
        type_id = len(self.entries)
        self._ids[key] = type_id
        self.entries.append({})  # reserve: recursive types refer to their own id
        entry, ident = self._build(key)
        self.entries[type_id] = entry
        self._idents[type_id] = ident
        return type_id

    def ident(self, expr: str) -> str:
        """The name the SDK's generated descriptors give this type (``value_type_ident``)."""
        return self._idents[self.id_of(expr)]

    def portable(self) -> list[dict[str, Any]]:
        return [{"id": i, "ty": entry} for i, entry in enumerate(self.entries)]

    # ------------------------------------------------------------------ building

    @staticmethod
    def _type(path: list[str], definition: dict, params: list | None = None, docs=()) -> dict:
        return {"path": path, "params": params or [], "def": definition, "docs": list(docs)}

    def _field(self, name: str | None, expr: str) -> dict[str, Any]:
        return {"name": name, "ty": self.id_of(expr), "type_name": expr, "docs": []}

    def _build(self, expr: str) -> tuple[dict[str, Any], str]:
        if expr in PRIMITIVES:
            return self._type([], {"Primitive": expr}), expr
        if expr == "()":
            return self._type([], {"Tuple": []}), "()"
        if expr.startswith("(") and expr.endswith(")"):
            items = split_top(expr[1:-1])
            ids = [self.id_of(item) for item in items]
            return self._type([], {"Tuple": ids}), "(" + ", ".join(
                self._idents[i] for i in ids
            ) + ")"
        if expr.startswith("[") and expr.endswith("]"):
            inner, length = split_top(expr[1:-1], ";")
            inner_id = self.id_of(inner)
            ident = f"[{self._idents[inner_id]}; {int(length)}]"
            return self._type([], {"Array": {"len": int(length), "ty": inner_id}}), ident
        generic = _generic(expr)
        if generic is not None:
            return self._build_generic(expr, *generic)
        decl = self.decls.get(expr)
        if decl is None:
            raise TypeExprError(f"type {expr!r} is neither a primitive nor declared")
        return self._build_decl(decl)

    def _build_generic(self, expr: str, head: str, args: list[str]) -> tuple[dict, str]:
        if head == "Vec":
            inner = self.id_of(args[0])
            return self._type([], {"Sequence": inner}), f"Vec<{self._idents[inner]}>"
        if head == "Compact":
            inner = self.id_of(args[0])
            return self._type([], {"Compact": inner}), f"Compact<{self._idents[inner]}>"
        if head == "Option":
            inner = self.id_of(args[0])
            variants = [
                {"name": "None", "fields": [], "index": 0, "docs": []},
                {"name": "Some", "fields": [self._field(None, args[0])], "index": 1, "docs": []},
            ]
            params = [{"name": "T", "ty": inner}]
            return self._type(["Option"], {"Variant": variants}, params), "Option"
        if head == "Result":
            ok, err = self.id_of(args[0]), self.id_of(args[1])
            variants = [
                {"name": "Ok", "fields": [self._field(None, args[0])], "index": 0, "docs": []},
                {"name": "Err", "fields": [self._field(None, args[1])], "index": 1, "docs": []},
            ]
            params = [{"name": "T", "ty": ok}, {"name": "E", "ty": err}]
            return self._type(["Result"], {"Variant": variants}, params), "Result"
        if head == "BTreeMap":
            pairs = f"Vec<({args[0]}, {args[1]})>"
            fields = [self._field(None, pairs)]
            params = [
                {"name": "K", "ty": self.id_of(args[0])},
                {"name": "V", "ty": self.id_of(args[1])},
            ]
            ident = f"BTreeMap<{self.ident(args[0])}, {self.ident(args[1])}>"
            return self._type(["BTreeMap"], {"Composite": fields}, params), ident
        if head in ("BoundedVec", "WeakBoundedVec"):
            inner = f"Vec<{args[0]}>"
            path = ["bounded_collections", head.lower().replace("vec", "_vec"), head]
            fields = [self._field(None, inner)]
            params = [{"name": "T", "ty": self.id_of(args[0])}, {"name": "S", "ty": None}]
            return self._type(path, {"Composite": fields}, params), head
        decl = self.decls.get(expr)
        if decl is None:
            raise TypeExprError(f"generic type {expr!r} is not declared")
        return self._build_decl(decl)

    def _build_decl(self, decl: Decl) -> tuple[dict[str, Any], str]:
        path = decl.path.split("::")
        ident = path[-1]
        if isinstance(decl, Newtype):
            return self._type(path, {"Composite": [self._field(None, decl.inner)]}), ident
        if isinstance(decl, Struct):
            fields = [self._field(name, expr) for name, expr in decl.fields]
            return self._type(path, {"Composite": fields}, docs=decl.docs), ident
        variants = []
        for position, variant in enumerate(decl.variants):
            if isinstance(variant[0], int):
                index, name, body = variant
            else:
                index, (name, body) = position, variant
            if body and isinstance(body[0], tuple):
                fields = [self._field(fname, fexpr) for fname, fexpr in body]
            else:
                fields = [self._field(None, fexpr) for fexpr in body]
            variants.append({"name": name, "fields": fields, "index": index, "docs": []})
        return self._type(path, {"Variant": variants}, docs=decl.docs), ident


_WIDTHS = MappingProxyType(
    {"bool": 1, "char": 4, "u8": 1, "u16": 2, "u32": 4, "u64": 8, "u128": 16, "u256": 32}
    | {"i8": 1, "i16": 2, "i32": 4, "i64": 8, "i128": 16, "i256": 32}
)


def zero_bytes(entries: list[dict[str, Any]], type_id: int) -> bytes:
    """The SCALE bytes of a type's default value (zeros, empty sequences, the first
    variant), which is what a ValueQuery item's metadata default is for simnet's items."""
    definition = entries[type_id]["def"]
    kind, body = next(iter(definition.items()))
    if kind == "Primitive":
        return b"\x00" * _WIDTHS.get(body, 1)  # str: an empty compact length
    if kind in ("Sequence", "Compact"):
        return b"\x00"
    if kind == "Array":
        return zero_bytes(entries, body["ty"]) * body["len"]
    if kind == "Tuple":
        return b"".join(zero_bytes(entries, t) for t in body)
    if kind == "Composite":
        return b"".join(zero_bytes(entries, f["ty"]) for f in body)
    if kind == "Variant":
        if not body:
            return b""
        first = min(body, key=lambda v: v["index"])
        return bytes([first["index"]]) + b"".join(
            zero_bytes(entries, f["ty"]) for f in first["fields"]
        )
    raise TypeExprError(f"no default for a {kind} type")
