"""``python -m typeharvest`` is the ``typeharvest`` command."""

from typeharvest.cli import main

main()
