"""Typed YAML config shared by every component: errors name the file, the field and the fix.

Components declare pydantic models (``extra="forbid"`` so a typo is an error, not a silently
ignored key) and load them with :func:`load_config`. Every failure becomes a
:class:`ConfigError` whose message an operator can act on without reading a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger("taowatch.config")


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _network(value: str) -> str:
    # Imported here: common.chain pulls in the bittensor SDK, which a config that has no
    # chain section (a simnet scenario) should not pay for.
    from common.chain import NetworkError, check_network

    try:
        return check_network(value)
    except NetworkError as exc:
        # The field path is prepended by the error renderer; do not say it twice.
        raise ValueError(str(exc).removeprefix("chain.network ")) from None


Network = Annotated[str, AfterValidator(_network)]


def _expand_user(value: Path) -> Path:
    # Without this, `state_file: ~/x` would later be taken relative to the config's folder.
    try:
        return value.expanduser()
    except RuntimeError:
        raise ValueError(
            f"cannot expand {str(value).split('/')[0]!r}: no such user or no home directory; "
            "write the path out in full"
        ) from None


# Every path field of every config: `~` and `~user` mean a home directory, as in a shell.
UserPath = Annotated[Path, AfterValidator(_expand_user)]


class LogSection(StrictModel):
    """The ``log`` section, the same two fields for every component (the neurons' files may
    still say ``logging:``; :func:`renamed_section` reads it with a warning)."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["plain", "json"] = "plain"


def renamed_section(data: Any, old: str, new: str, source: str | None) -> Any:
    """``data`` with section ``old`` read as ``new``, warning once; both at once is an
    error naming the two. For a model's ``mode="before"`` validator."""
    if not isinstance(data, dict) or old not in data:
        return data
    if new in data:
        raise ValueError(f"{old}: give the section once, as {new}: ({old}: is its old name)")
    log.warning(
        "%s: the %r section is now called %r; rename it (read as %r for now)",
        source or "config",
        old,
        new,
        new,
    )
    data = dict(data)
    data[new] = data.pop(old)
    return data


def resolve_paths(model: M, base: Path) -> M:
    """Every path the file set (at any depth) that is relative, taken relative to ``base``
    (the config file's folder), not to wherever the process runs."""
    updates: dict[str, Any] = {}
    for name in model.model_fields_set:
        value = getattr(model, name)
        if isinstance(value, Path) and not value.is_absolute():
            updates[name] = base / value
        elif isinstance(value, BaseModel):
            resolved = resolve_paths(value, base)
            if resolved is not value:
                updates[name] = resolved
    return model.model_copy(update=updates) if updates else model


class ChainSection(StrictModel):
    """The ``chain`` section, one vocabulary for every component that talks to a chain.

    Components subclass it for what only they need (the agent's failover tuning, a neuron's
    ``netuid``); the shared fields keep their names and meaning everywhere.
    """

    # Renamed fields, (old name, new name): old spellings keep loading, with a warning.
    renamed: ClassVar[tuple[tuple[str, str], ...]] = (("rpc_timeout_seconds", "timeout_seconds"),)

    network: Network = "finney"
    # Tried in order when the primary fails or lags.
    fallback_networks: list[Network] = []
    # Bounds each chain round trip.
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0

    @model_validator(mode="before")
    @classmethod
    def _accept_old_names(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not any(old in data for old, _ in cls.renamed):
            return data
        data = dict(data)
        source = (info.context or {}).get("source", "config")
        for old, new in cls.renamed:
            if old not in data:
                continue
            if new in data:
                raise ValueError(f"{old} is the old name of {new} and both are set; remove {old}")
            data[new] = data.pop(old)
            log.warning("%s: chain.%s is deprecated; rename it to chain.%s", source, old, new)
        return data


class ConfigError(Exception):
    """A config problem an operator can fix; ``str()`` is the whole message."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def field_path(loc: tuple[Any, ...]) -> str:
    """Render a pydantic error location as ``watch[0].hotkeys[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(error: dict[str, Any]) -> str:
    where = field_path(tuple(p for p in error["loc"] if not str(p).startswith("function-")))
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{where}: unknown field; remove it or check its spelling"
    if kind == "missing":
        return f"{where}: required field is missing; add it"
    got = error.get("input")
    shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
    return f"{where}: {error['msg']}{shown}"


def validate(model: type[M], data: Any, source: str) -> M:
    """Validate already-parsed data, converting pydantic errors to :class:`ConfigError`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            source, [f"expected a mapping at the top level, got {type(data).__name__}"]
        )
    try:
        return model.model_validate(data, context={"source": source})
    except ValidationError as exc:
        raise ConfigError(source, [_describe(e) for e in exc.errors()]) from None


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping repeats a key; marks point at the repeat, the message at the first one."""

    def __init__(self, key: Any, first: yaml.Node, repeat: yaml.Node):
        super().__init__(
            problem=(
                f"duplicate key {key!r} (first set on line {first.start_mark.line + 1}); "
                "keep one of them"
            ),
            problem_mark=repeat.start_mark,
        )


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping which repeats a key.

    PyYAML keeps the last of two equal keys, so a pasted-in second ``chain:`` section would
    silently replace the first; an operator should be told instead. Keys brought in by a merge
    (``<<: *anchor``) may still be overridden: that is what a merge is for.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first_seen.get(key)
            except TypeError:
                continue  # an unhashable key: the base class reports it with its position
            if earlier is not None:
                raise DuplicateKeyError(key, earlier, key_node)
            first_seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _user_path(path: str | Path) -> Path:
    try:
        return Path(path).expanduser()
    except RuntimeError:  # ~user naming nobody, or no home directory to expand ~ to
        return Path(path)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file, reporting unreadable files and syntax errors with their position.

    Every failure is a :class:`ConfigError` naming the file and what to do about it: a
    missing file, a directory, unreadable or non-UTF-8 bytes, a syntax error, a repeated key.
    """
    path = _user_path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(source, ["file not found; check the path"]) from None
    except IsADirectoryError:
        raise ConfigError(
            source, ["is a directory; give the path of the YAML file in it"]
        ) from None
    except PermissionError:
        raise ConfigError(
            source, ["permission denied; make the file readable by the user running taowatch"]
        ) from None
    except OSError as exc:
        raise ConfigError(source, [f"cannot read file: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            source,
            [
                f"line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start}); save the file as UTF-8"
            ],
        ) from None
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError(source, [f"{where}: invalid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:  # e.g. a control character the YAML reader refuses
        raise ConfigError(source, [f"invalid YAML: {exc}"]) from None
    except RecursionError:
        raise ConfigError(source, ["invalid YAML: nested too deeply"]) from None


def load_config(model: type[M], path: str | Path) -> M:
    """Read and validate a YAML config file; relative paths in it are relative to it."""
    config = validate(model, read_yaml(path), str(_user_path(path)))
    return resolve_paths(config, _user_path(path).resolve().parent)
