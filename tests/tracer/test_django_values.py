"""Django's lazy values are named without being evaluated: no query runs, no lazy object is forced."""

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("django")

PROBE = textwrap.dedent(
    """
    import json
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_I18N=True,
    )
    django.setup()

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.functional import SimpleLazyObject
    from django.utils.translation import gettext_lazy

    from typeharvest.tracer import Tracer

    call_command("migrate", verbosity=0)
    User.objects.create(username="ada")

    def work(value):
        return None

    seen = []
    tracer = Tracer(lambda observations, errors: seen.extend(observations), include=["probe"], budget=0)
    forced = []
    queryset = User.objects.filter(username="ada")
    unevaluated = SimpleLazyObject(lambda: forced.append(1) or User(username="lazy"))
    evaluated = SimpleLazyObject(lambda: User(username="done"))
    evaluated._setup()
    with CaptureQueriesContext(connection) as queries:
        tracer.start()
        work(queryset)
        work(unevaluated)
        work([unevaluated, unevaluated])
        work(tuple([unevaluated] * 8))
        work(evaluated)
        work(gettext_lazy("hello"))
        tracer.stop()
    print(json.dumps({
        "queries": len(queries),
        "queryset_cache_filled": queryset._result_cache is not None,
        "forced": len(forced),
        "types": sorted(o.signature.arg_types[0] for o in seen),
    }))
    """
)


def test_querysets_and_lazy_objects_are_named_without_running_anything(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    result = subprocess.run(
        [sys.executable, "probe.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["queries"] == 0
    assert report["queryset_cache_filled"] is False
    assert report["forced"] == 0
    assert report["types"] == [
        "",  # the unevaluated lazy object: left out rather than forced
        "builtins.list",  # holding only unevaluated lazy objects: no element type to tell
        "builtins.tuple",
        "django.contrib.auth.models.User",
        "django.db.models.query.QuerySet[django.contrib.auth.models.User]",
        "django.utils.functional.Promise",
    ]
