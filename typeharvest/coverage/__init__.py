"""Typed-function coverage: how much of a code base is annotated, its trend, and what traces can type next."""
