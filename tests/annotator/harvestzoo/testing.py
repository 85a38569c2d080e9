"""Test doubles: a module the annotator must treat as test code (its name has a ``testing`` part)."""

from harvestzoo import Dog


class FakeDog(Dog):
    """A double with a production base: annotations name ``Dog`` instead."""


class FakePuppy(FakeDog):
    """A double of a double: the nearest production base is still ``Dog``."""


class StubThing:
    """A double with no production base at all: no annotation can name it."""
