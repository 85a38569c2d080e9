"""Classes are named as programs import them, and test code is recognised as such."""

import pytest

from typeharvest.annotator.hierarchy import ClassHierarchy, is_test_type
from typeharvest.annotator.render import Renderer
from typeharvest.annotator.typeexpr import parse


@pytest.mark.parametrize(
    ("recorded", "public"),
    [
        ("pathlib._local.PosixPath", "pathlib.Path"),  # Python 3.13's spelling
        ("pathlib.PosixPath", "pathlib.Path"),
        ("pathlib.PurePosixPath", "pathlib.PurePath"),
        ("_io.StringIO", "io.StringIO"),
        ("_io.TextIOWrapper", "io.TextIOWrapper"),
        ("_decimal.Decimal", "decimal.Decimal"),
        ("collections.OrderedDict", "collections.OrderedDict"),
        ("app.models.User", "app.models.User"),  # no private part: not even imported
        ("_nowhere.Thing", "_nowhere.Thing"),  # cannot be imported: left as it is
    ],
)
def test_classes_from_private_modules_are_named_where_they_are_public(recorded, public):
    assert ClassHierarchy().public_name(recorded) == public


@pytest.mark.parametrize(
    "name",
    [
        "tests.factories.UserFactory",
        "app.tests.fakes.FakeRepo",
        "test_views.Helper",
        "app.conftest.Client",
        "unittest.mock.MagicMock",
        "_pytest.monkeypatch.MonkeyPatch",
        "freezegun.api.FakeDatetime",
    ],
)
def test_test_code_and_test_tooling_are_recognised(name):
    assert is_test_type(name)


@pytest.mark.parametrize("name", ["app.models.User", "builtins.int", "contest.Entry", "attestation.Proof"])
def test_production_code_is_not_mistaken_for_tests(name):
    assert not is_test_type(name)


def test_stdlib_generics_without_observed_parameters_are_written_with_any():
    renderer = Renderer("m")
    assert (
        renderer.render(parse("re.Match")) == "re.Match[Any]"
        or renderer.render(parse("re.Match")) == "Match[Any]"
    )
    assert renderer.render(parse("collections.defaultdict")) == "defaultdict[Any, Any]"
