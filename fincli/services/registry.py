"""The registered services: the built-in ones by module name, imported when first asked for.

Like llm's default plugins, the built-in services are loaded by the same mechanism as any
other: each module named here has a `service`, an instance of a Service subclass. Another
service (a test's, say) is added with `register(service)`.
"""

from __future__ import annotations

import importlib

from .base import Service

BUILTIN = ("fincli.services.categorize", "fincli.services.fraud", "fincli.services.bills",
           "fincli.services.spending")
_loaded: dict[str, Service] = {}
_extra: dict[str, Service] = {}


def _builtin() -> dict[str, Service]:
    if not _loaded:
        for module in BUILTIN:
            service = importlib.import_module(module).service
            _loaded[service.name] = service
    return _loaded


def names() -> list[str]:
    return sorted({**_builtin(), **_extra})


def get(name: str) -> Service:
    return {**_builtin(), **_extra}[name]


def register(service: Service) -> None:
    _extra[service.name] = service


def unregister(name: str) -> None:
    _extra.pop(name, None)
