"""Set up the benchmark's Django site and drive its admin like a logged-in superuser would.

``prepare_database`` builds a template database once (migrate, 120 products, a superuser); every process
that runs requests works on its own copy of it (``use_database``), so all contenders start from the same
rows. ``RequestMix`` sends the admin request mix through ``django.test.Client``: the admin index, a
changelist of 100 rows, a change form, a search, a POST that saves a change form, and a 404.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

ROWS = 120
MIX_SIZE = 6
SUPERUSER = "admin"
_HERE = Path(__file__).resolve().parent


def configure(db_path: str | os.PathLike[str]) -> None:
    """Point Django at ``db_path`` and set it up (once per process)."""
    parent = str(_HERE.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    os.environ["ADMINBENCH_DB"] = os.fspath(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "adminbench.settings"
    import django

    django.setup()


def prepare_database(db_path: str | os.PathLike[str]) -> None:
    """Create the template database: the schema, ``ROWS`` products and the superuser."""
    configure(db_path)
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from adminbench.shop.models import CATEGORIES, Product

    call_command("migrate", verbosity=0, interactive=False)
    Product.objects.bulk_create(
        Product(
            name=f"{('Widget', 'Gadget', 'Gizmo', 'Doohickey')[i % 4]} {i}",
            sku=f"SKU-{i:05d}",
            price=Decimal(f"{1 + i % 97}.{i % 100:02d}"),
            stock=(i * 7) % 50,
            active=i % 5 != 0,
            category=CATEGORIES[i % len(CATEGORIES)][0],
            description=f"Product number {i}, " * (i % 4),
        )
        for i in range(1, ROWS + 1)
    )
    get_user_model().objects.create_superuser(SUPERUSER, "admin@example.com", "not-a-secret")


def use_database(template: str | os.PathLike[str], copy: str | os.PathLike[str]) -> None:
    """Copy the template database to ``copy`` and set Django up on the copy."""
    shutil.copyfile(template, copy)
    configure(copy)


class RequestMix:
    """The admin request mix, one request per ``next()`` call, cycling over the objects."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        self.client = Client()
        self.client.force_login(get_user_model().objects.get(username=SUPERUSER))
        self._step = 0
        self._kinds: list[Callable[[int], int]] = [
            self._index,
            self._changelist,
            self._change_form,
            self._search,
            self._save,
            self._not_found,
        ]
        assert len(self._kinds) == MIX_SIZE

    def request(self) -> int:
        """Send the next request of the mix; returns its HTTP status."""
        step = self._step
        self._step += 1
        kind = self._kinds[step % MIX_SIZE]
        return kind(1 + (step // MIX_SIZE) % ROWS)

    def check(self) -> None:
        """Send one whole mix and fail loudly if a request did not do what it should."""
        expected = [200, 200, 200, 200, 302, 404]
        got = [self.request() for _ in range(MIX_SIZE)]
        if got != expected:
            raise RuntimeError(f"admin request mix returned {got}, expected {expected}")
        rows = self.client.get("/admin/shop/product/").content.count(b'class="action-select"')
        if rows != 100:
            raise RuntimeError(f"the changelist shows {rows} rows, not 100")

    def _index(self, pk: int) -> int:
        return self.client.get("/admin/").status_code

    def _changelist(self, pk: int) -> int:
        return self.client.get("/admin/shop/product/").status_code

    def _change_form(self, pk: int) -> int:
        return self.client.get(f"/admin/shop/product/{pk}/change/").status_code

    def _search(self, pk: int) -> int:
        return self.client.get("/admin/shop/product/", {"q": f"gadget {pk % 10}"}).status_code

    def _save(self, pk: int) -> int:
        data = {
            "name": f"{('Widget', 'Gadget', 'Gizmo', 'Doohickey')[pk % 4]} {pk}",
            "sku": f"SKU-{pk:05d}",
            "price": f"{1 + pk % 97}.{pk % 100:02d}",
            "stock": str((pk * 11) % 50),
            "active": "on",
            "category": ("tools", "garden", "kitchen", "toys")[pk % 4],
            "description": f"Saved {pk}",
            "_save": "Save",
        }
        return self.client.post(f"/admin/shop/product/{pk}/change/", data).status_code

    def _not_found(self, pk: int) -> int:
        return self.client.get(f"/admin/no-such-app-{pk}/").status_code
