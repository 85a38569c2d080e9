"""Type strings parse into trees, and observations of one slot merge as a careful human would write them."""

import pytest

from typeharvest.annotator.combine import dict_values, merge, tuple_elements, with_none
from typeharvest.annotator.render import Import, Renderer
from typeharvest.annotator.typeexpr import TypeStringError, parse, split_name


def merged(*texts):
    return Renderer("home").render(merge(parse(t) for t in texts))


@pytest.mark.parametrize(
    ("text", "name"),
    [("a.b.C", ("a.b", "C")), ("a.b:C.D", ("a.b", "C.D")), ("builtins.int", ("builtins", "int"))],
)
def test_a_name_splits_into_module_and_qualified_name(text, name):
    assert split_name(text) == name


def test_parse_reads_nested_parameters_unions_and_tuples():
    union = parse(
        "builtins.dict[builtins.str, builtins.list[builtins.int | builtins.str]] | builtins.NoneType"
    )
    assert [ref.name for ref in union.members] == ["builtins.NoneType", "builtins.dict"]
    assert Renderer("home").render(union) == "dict[str, list[int | str]] | None"
    assert Renderer("home").render(parse("builtins.tuple[builtins.int, ...]")) == "tuple[int, ...]"
    assert Renderer("home").render(parse("builtins.tuple[()]")) == "tuple[()]"


@pytest.mark.parametrize("text", ["", "builtins.list[", "a.B]", "a.B[,]", "a | | b"])
def test_malformed_type_strings_are_rejected(text):
    with pytest.raises(TypeStringError):
        parse(text)


@pytest.mark.parametrize(
    ("observed", "annotation"),
    [
        (["builtins.int", "builtins.int"], "int"),
        (["builtins.str", "builtins.int"], "int | str"),
        (["builtins.bool", "builtins.int"], "int"),
        (["builtins.int", "builtins.float"], "float"),
        (["builtins.bool", "builtins.float"], "float"),
        (["builtins.NoneType", "builtins.str"], "str | None"),
        (["builtins.list[builtins.int]", "builtins.list[builtins.str]"], "list[int | str]"),
        (["builtins.list", "builtins.list[builtins.int]"], "list[int]"),
        (["builtins.list"], "list[Any]"),
        (["builtins.dict[builtins.str, builtins.int]", "builtins.dict"], "dict[str, int]"),
        (["builtins.tuple[builtins.int]", "builtins.tuple[builtins.str]"], "tuple[int | str]"),
        (["builtins.tuple[builtins.int]", "builtins.tuple[builtins.int, builtins.int]"], "tuple[int, ...]"),
        (["builtins.tuple[()]", "builtins.tuple[builtins.str]"], "tuple[str, ...]"),
        (["builtins.function"], "Callable[..., Any]"),
        (["builtins.type[home.User]"], "type[User]"),
    ],
)
def test_observations_of_a_slot_merge_into_one_annotation(observed, annotation):
    assert merged(*observed) == annotation


def test_star_args_and_kwargs_are_typed_by_their_elements():
    assert (
        Renderer("m").render(tuple_elements(parse("builtins.tuple[builtins.int, builtins.str]")))
        == "int | str"
    )
    assert tuple_elements(parse("builtins.tuple[()]")).members == ()
    assert Renderer("m").render(dict_values(parse("builtins.dict[builtins.str, builtins.bytes]"))) == "bytes"


def test_a_none_default_adds_none():
    assert Renderer("m").render(with_none(parse("builtins.int"))) == "int | None"


def test_classes_are_imported_once_and_a_clashing_name_is_qualified():
    renderer = Renderer("app.views", bound={"User": None})
    assert renderer.render(parse("app.models.Order")) == "Order"
    assert renderer.render(parse("app.models:Order.Line")) == "Order.Line"
    assert renderer.render(parse("app.models.User")) == "app.models.User"
    assert renderer.render(parse("app.views.Local")) == "Local"
    assert renderer.imports == {Import("app.models", "Order"), Import("app.models")}


def test_a_name_the_module_imports_from_a_package_that_reexports_the_class_is_used_as_is():
    import json  # noqa: F401  (json re-exports json.decoder.JSONDecodeError)

    renderer = Renderer("app.views", bound={"JSONDecodeError": "json"})
    assert renderer.render(parse("json.decoder.JSONDecodeError")) == "JSONDecodeError"
    assert renderer.imports == set()
    # A name bound from a module that binds another object under it is not the class: qualified.
    renderer = Renderer("app.views", bound={"JSONDecodeError": "app.errors"})
    assert renderer.render(parse("json.decoder.JSONDecodeError")) == "json.decoder.JSONDecodeError"
