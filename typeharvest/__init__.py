"""typeharvest: type hints bootstrapped from the types that real executions pass around."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typeharvest.session import trace

__all__ = ["__version__", "trace"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``typeharvest.trace`` is imported when first used: pytest loads the plugin, and with it this
    package, in every test run, which then need not pay for the tracer and the store."""
    if name == "trace":
        from typeharvest.session import trace

        return trace
    raise AttributeError(f"module 'typeharvest' has no attribute {name!r}")
