"""Where the shipped files live: inside the wheel, or beside the package in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE / f"_{name}"          # wheel: force-included into the package
    return inside if inside.is_dir() else _PACKAGE.parent / name


def data_dir() -> Path:
    return _shipped("data")


def models_dir() -> Path:
    return _shipped("models")
