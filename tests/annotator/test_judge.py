"""How mypy's verdicts are read: which errors a change adds, and what a message says reached a slot."""

from pathlib import Path

from typeharvest.annotator.judge import FunctionFinder, MypyError, added_errors, builtin_types, widening
from typeharvest.annotator.render import Renderer

FILE = Path("/project/app.py")


def error(line, message, code):
    return MypyError(FILE, line, 0, message, code)


def test_errors_are_matched_by_message_not_line_so_moved_lines_add_nothing():
    before = [error(3, 'Name "x" is not defined', "name-defined")]
    after = [error(7, 'Name "x" is not defined', "name-defined"), error(9, "new", "misc")]
    assert added_errors(before, after) == [after[1]]


def test_an_untyped_function_is_one_complaint_however_mypy_words_it():
    original = "def f(a, b):\n    return a\n\n\ndef g(c):\n    return c\n"
    candidate = "def f(a: int, b):\n    return a\n\n\ndef g(c):\n    return c\n"
    before = [
        error(1, "Function is missing a type annotation", "no-untyped-def"),
        error(5, "Function is missing a type annotation", "no-untyped-def"),
    ]
    # Partly annotated, f now draws two messages; they are the same complaint as before.
    after = [
        error(1, "Function is missing a return type annotation", "no-untyped-def"),
        error(1, "Function is missing a type annotation for one or more parameters", "no-untyped-def"),
        error(5, "Function is missing a type annotation", "no-untyped-def"),
    ]
    finder_before, finder_after = FunctionFinder({FILE: original}), FunctionFinder({FILE: candidate})
    assert added_errors(before, after, finder_before, finder_after) == []
    # A function that had no complaint before (it was fully typed) does add one.
    assert added_errors(before[1:], after, finder_before, finder_after) == [after[0]]


def test_builtin_types_reads_mypys_spelling_of_builtins_and_nothing_else():
    assert Renderer("m").render(builtin_types("int | list[str] | None")) == "int | list[str] | None"
    assert Renderer("m").render(builtin_types("dict[str, tuple[int, ...]]")) == "dict[str, tuple[int, ...]]"
    assert builtin_types("Path") is None
    assert builtin_types("int | app.models.User") is None
    assert builtin_types('Literal["a"]') is None


def test_a_widening_is_what_reaches_the_slot_itself():
    passed = error(4, 'Argument 1 to "scale" has incompatible type "str"; expected "int"', "arg-type")
    assert Renderer("m").render(widening(passed, ("app", "scale", "amount"))) == "str"
    assert widening(passed, ("app", "other", "amount")) is None  # another function's parameter
    assert widening(passed, ("app", "scale", "return")) is None
    got_none = error(2, 'Incompatible return value type (got "None", expected "int")', "return-value")
    assert Renderer("m").render(widening(got_none, ("app", "f", "return"))) == "None"
    got_str = error(2, 'Incompatible return value type (got "str", expected "int")', "return-value")
    assert widening(got_str, ("app", "f", "return")) is None
    to_builtin = error(
        3, 'Argument 1 to "float" has incompatible type "str | None"; expected "str"', "arg-type"
    )
    assert widening(to_builtin, ("app", "f", "value")) is None  # a call of float(), not of f


def test_a_splat_is_not_a_type():
    assert builtin_types("**dict[str, int | str]") is None
