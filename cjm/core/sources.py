"""The registry of source types: the one list that config validation, the data
contracts, the GX suites and the extractor lookup all read.

A source type is its config model (a pydantic model whose `type` literal is the type's
name, see cjm/core/config.py) and its extractor ("module:function", imported when a
run first needs it, so the core never imports a capability). Adding a type means one
`register_source_type` call; nothing else names the types.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args

_REGISTRY: dict[str, SourceType] = {}


@dataclass(frozen=True)
class SourceType:
    name: str
    model: type[Any]
    extractor: str | Callable[..., Any]
    _loaded: list[Callable[..., Any]] = field(default_factory=list, compare=False, repr=False)

    def load_extractor(self) -> Callable[..., Any]:
        if callable(self.extractor):
            return self.extractor
        if not self._loaded:
            module, _, name = self.extractor.partition(":")
            self._loaded.append(getattr(importlib.import_module(module), name))
        return self._loaded[0]


def register_source_type(model: type[Any], extractor: str | Callable[..., Any]) -> SourceType:
    """Register the type a config model declares (`type: Literal["<name>"]`)."""
    (name,) = get_args(model.model_fields["type"].annotation)
    source_type = SourceType(name, model, extractor)
    _REGISTRY[name] = source_type
    return source_type


def unregister_source_type(name: str) -> None:
    _REGISTRY.pop(name, None)


def _builtins() -> dict[str, SourceType]:
    # the shipped types register where their models are defined
    import cjm.core.config  # noqa: F401

    return _REGISTRY


def source_types() -> tuple[str, ...]:
    """Every registered type's name, in registration order."""
    return tuple(_builtins())


def source_type(name: str) -> SourceType:
    try:
        return _builtins()[name]
    except KeyError:
        raise KeyError(
            f"source type {name!r} is not registered; known: {', '.join(source_types())}"
        ) from None


def source_models() -> tuple[type[Any], ...]:
    return tuple(t.model for t in _builtins().values())
