"""typeharvest: type hints bootstrapped from the types that real executions pass around."""

from __future__ import annotations

from typeharvest.session import trace

__all__ = ["__version__", "trace"]

__version__ = "0.1.0"
