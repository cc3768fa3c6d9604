"""Plain-value helpers shared by the gate's checks."""

from typing import Any

from pulumi.output import Unknown

from serverless_patterns.offline.mocks import secret_value

__all__ = ["is_unknown", "secret_value", "unknown_paths"]


def is_unknown(value: Any) -> bool:
    """True for a value only known at deploy time (the engine passes `Unknown` at preview)."""
    return isinstance(value, Unknown)


def unknown_paths(value: Any, path: str = "") -> list[str]:
    """Paths (`a.b[0].c`) of the values in `value` that are unknown until deploy."""
    if isinstance(value, Unknown):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in unknown_paths(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in unknown_paths(v, f"{path}[{i}]")]
    return []
