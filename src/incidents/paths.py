"""Where the data shipped with the package lives: the checkout root, or _bundled in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT_ROOT = _PACKAGE.parent.parent


def _resource(name: str) -> Path:
    bundled = _PACKAGE / "_bundled" / name
    if bundled.is_dir():
        return bundled
    return _CHECKOUT_ROOT / name


def taxonomy_dir() -> Path:
    return _resource("taxonomy")


def migrations_dir() -> Path:
    return _resource("migrations")
