"""Typed YAML config shared by every component: errors name the file, the field and the fix.

Components declare pydantic models (``extra="forbid"`` so a typo is an error, not a silently
ignored key) and load them with :func:`load_config`. Every failure becomes a
:class:`ConfigError` whose message an operator can act on without reading a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

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


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file, reporting unreadable files and syntax errors with their position."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found; check the path"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read file: {exc.strerror}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError(str(path), [f"{where}: invalid YAML: {exc.problem}"]) from None


def load_config(model: type[M], path: str | Path) -> M:
    """Read and validate a YAML config file."""
    return validate(model, read_yaml(path), str(path))
