"""Typed-function coverage: how much of a code base is annotated (not implemented yet)."""
