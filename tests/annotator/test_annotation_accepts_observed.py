"""The annotator's hard promise, as a property: an annotation accepts every type observed in its slot.

Random observation sets (seeded, so every run checks the same ~300 slots) are merged by ``infer`` and
rendered by ``Renderer``; then mypy is the oracle, in one run over one generated file. Each observed type
becomes a *value* of that type — ``[0, 's']`` for ``list[int | str]`` — which is handed to the annotated
slot: passed as the argument, returned, yielded. Values rather than variables annotated with the observed
type, because containers are invariant: a ``list`` whose elements were ints is a ``list[int | str]``, but a
variable declared ``list[int]`` is not; the observation describes a value, so a value is what is checked.
"""

import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

import mypy.api
import pytest

from typeharvest.annotator.hierarchy import ClassHierarchy, is_test_type
from typeharvest.annotator.render import TYPEVAR_NAME, Renderer
from typeharvest.annotator.signatures import RETURN, SourceFacts, infer
from typeharvest.annotator.typeexpr import TypeRef, Union, parse
from typeharvest.records import (
    NOT_OBSERVED,
    FunctionInfo,
    FunctionKind,
    Observation,
    Parameter,
    ParameterKind,
    Signature,
)

HERE = Path(__file__).parent
ZOO = "harvestzoo"
HOME = "annotation_check"  # the generated module: no class is its own, so every class is imported
SEEDS = (1, 2, 3, 5, 8)
SLOTS_PER_SEED = 60

SCALARS = {
    "builtins.int": "0",
    "builtins.bool": "True",
    "builtins.float": "0.5",
    "builtins.str": "'s'",
    "builtins.bytes": "b'b'",
    "builtins.NoneType": "None",
}
CLASSES = [
    *(f"{ZOO}.{name}" for name in ("Animal", "Mammal", "Dog", "Puppy", "Cat", "Horse", "Whale", "Bat")),
    *(f"{ZOO}.{name}" for name in ("Cow", "Bird", "Rock")),
    f"{ZOO}:Outer.Inner",
]
#: Test code: replaced by their production base (the first two) or leaving their slot out.
DOUBLES = [f"{ZOO}.testing.FakeDog", f"{ZOO}.testing.FakePuppy", f"{ZOO}.testing.StubThing"]
MOCK = "unittest.mock.MagicMock"

#: What a slot is, and so how a value reaches its annotation.
SLOT_KINDS = ["param"] * 5 + ["none_default", "args", "kwargs", "return", "coroutine", "generator", "agen"]


class Grammar:
    """Random type strings, spelled as the tracer spells them (element unions sorted and de-duplicated)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def value(self, depth: int = 2, hashable: bool = False) -> str:
        """The type of one value: a scalar, an instance, a class, or a container nested ``depth`` deep."""
        roll = self.rng.random()
        if roll < 0.35:
            return self.rng.choice(list(SCALARS))
        if roll < 0.55:
            return self.instance()
        if roll < 0.6:
            return f"builtins.type[{self.rng.choice(['builtins.int', 'builtins.str', *CLASSES])}]"
        if depth == 0:
            return self.rng.choice(list(SCALARS))
        return self.container(depth, hashable)

    def instance(self) -> str:
        roll = self.rng.random()
        if roll < 0.04:
            return MOCK
        if roll < 0.12:
            return self.rng.choice(DOUBLES)
        return self.rng.choice(CLASSES)

    def elements(self, depth: int, hashable: bool = False) -> str:
        """A union of one to three element types, as the tracer writes a sampled container's elements."""
        names = {self.value(depth, hashable) for _ in range(self.rng.randint(1, 3))}
        return " | ".join(sorted(names))

    def container(self, depth: int, hashable: bool = False) -> str:
        kinds = ["tuple", "variadic", "frozenset"] if hashable else ["list", "set", "dict", *["tuple"] * 2]
        kind = self.rng.choice([*kinds, "variadic", "frozenset"])
        empty = self.rng.random() < 0.15
        if kind == "tuple":
            if empty:
                return "builtins.tuple[()]"
            items = [self.value(depth - 1, hashable) for _ in range(self.rng.randint(1, 3))]
            return f"builtins.tuple[{', '.join(items)}]"
        if kind == "variadic":
            return f"builtins.tuple[{self.elements(depth - 1, hashable)}, ...]"
        name = f"builtins.{kind}"
        if empty:
            return name
        if kind == "dict":
            return f"{name}[{self.elements(depth - 1, hashable=True)}, {self.elements(depth - 1)}]"
        return f"{name}[{self.elements(depth - 1, hashable=hashable or kind != 'list')}]"

    def star_args(self) -> str:
        if self.rng.random() < 0.2:
            return "builtins.tuple[()]"
        if self.rng.random() < 0.3:
            return f"builtins.tuple[{self.elements(1)}, ...]"
        return f"builtins.tuple[{', '.join(self.value(1) for _ in range(self.rng.randint(1, 4)))}]"

    def star_kwargs(self) -> str:
        return (
            "builtins.dict" if self.rng.random() < 0.2 else f"builtins.dict[builtins.str, {self.elements(1)}]"
        )

    def signatures(self, kind: str) -> list[Signature]:
        """One to four observed calls of a function whose only slot is of ``kind``."""
        signatures = []
        # A few wide sets of classes, to go past MAX_UNION and be collapsed into a base.
        wide = self.rng.random() < 0.1
        for _ in range(self.rng.randint(1, 4) if not wide else 7):
            value = self.rng.choice(CLASSES) if wide else self.value()
            if kind in ("param", "none_default"):
                signatures.append(Signature((value,), NOT_OBSERVED))
            elif kind == "args":
                signatures.append(Signature((self.star_args(),), NOT_OBSERVED))
            elif kind == "kwargs":
                signatures.append(Signature((self.star_kwargs(),), NOT_OBSERVED))
            elif kind in ("return", "coroutine"):
                signatures.append(Signature((), value))
            else:
                yields = NOT_OBSERVED if self.rng.random() < 0.1 else self.elements(2)
                returns = "builtins.NoneType"
                if kind == "generator" and self.rng.random() < 0.3:
                    returns = self.rng.choice([NOT_OBSERVED, self.value(1)])  # abandoned, or a value
                signatures.append(Signature((), returns, yields))
        return signatures


@dataclass
class Case:
    """One slot: its kind, what was observed, and the annotation it got (None: left out)."""

    kind: str
    signatures: list[Signature]
    annotation: Union | None = None
    rules: list[str] = field(default_factory=list)


FUNCTION_KINDS = {
    "coroutine": FunctionKind.COROUTINE,
    "generator": FunctionKind.GENERATOR,
    "agen": FunctionKind.ASYNC_GENERATOR,
}
PARAMETER_KINDS = {"args": ParameterKind.VAR_POSITIONAL, "kwargs": ParameterKind.VAR_KEYWORD}


def inferred_case(kind: str, signatures: list[Signature], hierarchy: ClassHierarchy) -> Case:
    has_parameter = kind in ("param", "none_default", "args", "kwargs")
    parameters = (Parameter("x", PARAMETER_KINDS.get(kind, ParameterKind.POSITIONAL_OR_KEYWORD)),)
    function = FunctionInfo(
        HOME,
        "f",
        "annotation_check.py",
        1,
        FUNCTION_KINDS.get(kind, FunctionKind.FUNCTION),
        parameters if has_parameter else (),
    )
    observations = [Observation(function, signature, 1, 0.0, 0.0) for signature in signatures]
    facts = SourceFacts(none_defaults=frozenset({"x"}) if kind == "none_default" else frozenset())
    slot = infer(function, observations, facts, hierarchy).slots.get("x" if has_parameter else RETURN)
    if slot is None:  # nothing observed (a generator that never yielded)
        return Case(kind, signatures, None, ["nothing observed"])
    return Case(kind, signatures, slot.union, slot.rules)


def value_of(ref: TypeRef) -> str:
    """Source text of a value whose type the tracer would name ``ref``."""
    if ref.name in SCALARS:
        return SCALARS[ref.name]
    if ref.name == "builtins.type":
        (cls,) = ref.args[0].members
        return class_expression(cls.name)
    if ref.name == "builtins.tuple":
        items = tuple_items(ref)
        return f"({', '.join(items)},)" if items else "()"
    if ref.name == "builtins.list":
        return f"[{', '.join(values_of(ref.args[0]))}]" if ref.args else "[]"
    if ref.name == "builtins.set":
        return f"{{{', '.join(values_of(ref.args[0]))}}}" if ref.args else "set()"
    if ref.name == "builtins.frozenset":
        return f"frozenset({{{', '.join(values_of(ref.args[0]))}}})" if ref.args else "frozenset()"
    if ref.name == "builtins.dict":
        if not ref.args:
            return "{}"
        keys, values = (values_of(arg) for arg in ref.args)
        count = max(len(keys), len(values))
        pairs = (f"{keys[i % len(keys)]}: {values[i % len(values)]}" for i in range(count))
        return f"{{{', '.join(pairs)}}}"
    return f"{class_expression(ref.name)}()"


def tuple_items(ref: TypeRef) -> list[str]:
    """The items of a tuple value, longer than any the tracer names item by item when it is variadic."""
    items = [values_of(arg) for arg in ref.args]
    if ref.variadic:
        return list(itertools.islice(itertools.cycle(items[0]), 7))
    assert all(len(item) == 1 for item in items), ref  # an item is one value, of one type
    return [item[0] for item in items]


def values_of(union: Union) -> list[str]:
    """One value per alternative: a sampled container held an element of each type named."""
    return [value_of(ref) for ref in union.members]


def class_expression(name: str) -> str:
    return name.replace(":", ".").removeprefix("builtins.")


def one_value(text: str) -> str:
    (ref,) = parse(text).members
    return value_of(ref)


def feeds(kind: str, signature: Signature, target: str) -> list[str] | None:
    """The body of a function that hands the observed value(s) to ``target``; None if nothing was seen."""
    if kind in ("param", "none_default"):
        return [f"{target}({one_value(signature.arg_types[0])})"]
    if kind == "args":  # the items one by one: a starred literal would be inferred without context
        (ref,) = parse(signature.arg_types[0]).members
        return [f"{target}({', '.join(tuple_items(ref))})"]
    if kind == "kwargs":
        (ref,) = parse(signature.arg_types[0]).members
        values = values_of(ref.args[1]) if ref.args else []
        return [f"{target}({', '.join(f'k{i}={value}' for i, value in enumerate(values))})"]
    if kind in ("return", "coroutine"):
        return [f"return {one_value(signature.return_type)}"]
    yields = [] if signature.yield_type == NOT_OBSERVED else values_of(parse(signature.yield_type))
    body = [f"yield {value}" for value in yields]
    if kind == "generator" and signature.return_type != NOT_OBSERVED:
        body.append(f"return {one_value(signature.return_type)}")
        if not yields:
            body.append("yield  # never reached: it makes the function a generator")
    elif kind == "generator" and yields:
        body.append("raise GeneratorExit  # abandoned: it never returned")
    return body or None


def generated_module(cases: list[Case]) -> tuple[str, dict[int, int]]:
    """The module mypy checks, and for each of its lines the index of the case it belongs to."""
    renderer = Renderer(HOME)
    blocks: list[tuple[int, list[str]]] = []
    for index, case in enumerate(cases):
        if case.annotation is None:
            continue
        annotation = renderer.render(case.annotation)
        lines: list[str] = [f"# case {index}: {case.kind}"]
        target = f"target_{index}"
        if case.kind in ("param", "none_default", "args", "kwargs"):
            star = {"args": "*", "kwargs": "**"}.get(case.kind, "")
            default = " = None" if case.kind == "none_default" else ""
            lines.append(f"def {target}({star}x: {annotation}{default}) -> None: ...")
        for number, signature in enumerate(case.signatures):
            body = feeds(case.kind, signature, target)
            if body is None:
                continue
            if case.kind in ("param", "none_default", "args", "kwargs"):
                head = f"def feed_{index}_{number}() -> None:"
            else:
                prefix = "async def" if case.kind in ("coroutine", "agen") else "def"
                head = f"{prefix} feed_{index}_{number}() -> {annotation}:"
            lines += [head, *(f"    {line}" for line in body)]
        blocks.append((index, lines))
    header = ["import harvestzoo", "import harvestzoo.testing", "import unittest.mock"]
    for wanted in sorted(renderer.imports, key=lambda i: (i.module, i.name or "")):
        header.append(
            f"from {wanted.module} import {wanted.name}" if wanted.name else f"import {wanted.module}"
        )
    if renderer.typevar_used:
        header.append(f"{TYPEVAR_NAME} = TypeVar({TYPEVAR_NAME!r})")
    text = list(header)
    owner: dict[int, int] = {}
    for index, lines in blocks:
        text.append("")
        for line in lines:
            text.append(line)
            owner[len(text)] = index
    return "\n".join(text) + "\n", owner


def mypy_errors(cases: list[Case], directory: Path) -> tuple[dict[int, list[str]], str]:
    """Run mypy once over the generated module: its error lines by case index (-1: not in a case)."""
    source, owner = generated_module(cases)
    module = directory / f"{HOME}.py"
    module.write_text(source)
    config = directory / "mypy.ini"
    config.write_text(f"[mypy]\nmypy_path = {HERE}\ncache_dir = {directory / 'cache'}\n")
    stdout, stderr, _ = mypy.api.run(
        [
            *("--config-file", str(config), "--no-incremental", "--no-error-summary"),
            *("--hide-error-context", "--no-color-output", "--show-error-codes", str(module)),
        ]
    )
    assert not stderr, stderr
    errors: dict[int, list[str]] = {}
    for line in stdout.splitlines():
        if ": error:" not in line:
            continue
        _, _, rest = line.partition(".py:")
        number = int(rest.partition(":")[0]) if rest else 0
        errors.setdefault(owner.get(number, -1), []).append(line)
    return errors, source


def describe(case: Case, index: int, errors: list[str], source: str) -> str:
    code = [line for line in source.splitlines() if f"_{index}(" in line or f"_{index}_" in line]
    return "\n".join(
        [
            f"case {index} ({case.kind}): annotation "
            + (Renderer(HOME).render(case.annotation) if case.annotation else "left out"),
            *(
                f"  observed: args={s.arg_types} return={s.return_type!r} yield={s.yield_type!r}"
                for s in case.signatures
            ),
            *(f"  rule: {rule}" for rule in case.rules),
            *(f"  code: {line}" for line in code),
            *(f"  mypy: {error}" for error in errors),
        ]
    )


def names_in(union: Union) -> list[str]:
    return [
        name
        for ref in union.members
        for name in (ref.name, *(n for a in ref.args or () for n in names_in(a)))
    ]


@pytest.fixture
def zoo_importable(monkeypatch):
    """The hierarchy imports ``harvestzoo`` by name, as it would import the traced program's modules."""
    monkeypatch.syspath_prepend(str(HERE))


def test_mypy_as_the_oracle_rejects_an_annotation_that_misses_an_observed_type(tmp_path):
    """The property below can fail: the same harness reports each annotation that misses a type."""
    int_ = parse("builtins.int")
    cases = [
        Case("param", [Signature(("builtins.str",), NOT_OBSERVED)], int_),
        Case(
            "param",
            [Signature(("builtins.list[builtins.str]",), NOT_OBSERVED)],
            parse("builtins.list[builtins.int]"),
        ),
        Case("none_default", [Signature(("builtins.int",), NOT_OBSERVED)], int_),  # the default is None
        Case("args", [Signature(("builtins.tuple[builtins.int, builtins.bytes]",), NOT_OBSERVED)], int_),
        Case("return", [Signature((), f"{ZOO}.Rock")], parse(f"{ZOO}.Animal")),
        Case(
            "generator",
            [Signature((), "builtins.str", "builtins.int")],
            parse("collections.abc.Iterator[builtins.int]"),
        ),
        # Accepted: bool by int (and int by float), a subclass by its base, ints in a list of int | str.
        Case("param", [Signature(("builtins.bool",), NOT_OBSERVED)], parse("builtins.float")),
        Case("return", [Signature((), f"{ZOO}.Puppy")], parse(f"{ZOO}.Animal")),
        Case(
            "param",
            [Signature(("builtins.list[builtins.int]",), NOT_OBSERVED)],
            parse("builtins.list[builtins.int | builtins.str]"),
        ),
    ]
    errors, source = mypy_errors(cases, tmp_path)
    assert sorted(errors) == [0, 1, 2, 3, 4, 5], source


@pytest.mark.usefixtures("zoo_importable")
def test_every_annotation_accepts_every_type_observed_in_its_slot(tmp_path):
    hierarchy = ClassHierarchy()
    cases = []
    for seed in SEEDS:
        grammar = Grammar(seed)
        for _ in range(SLOTS_PER_SEED):
            kind = grammar.rng.choice(SLOT_KINDS)
            cases.append(inferred_case(kind, grammar.signatures(kind), hierarchy))

    annotated = [case for case in cases if case.annotation is not None]
    # The grammar reaches the rules it is meant to exercise (else the property would say little).
    assert len(annotated) >= 0.8 * len(cases)
    for expected in ("collapsed into their nearest common base", "numeric tower", "absorbed", "replaced by"):
        assert any(expected in rule for case in cases for rule in case.rules), expected
    assert any(case.annotation is None and "left out" in " ".join(case.rules) for case in cases)

    for index, case in enumerate(cases):
        # Nothing observed is dropped silently: a slot left out says why, and so does each replaced type...
        if case.annotation is None:
            assert any(rule.startswith(("left out", "nothing observed")) for rule in case.rules), describe(
                case, index, [], ""
            )
            continue
        observed = " ".join(" ".join((*s.arg_types, s.return_type, s.yield_type)) for s in case.signatures)
        unexplained = [
            double
            for double in (*DOUBLES, MOCK)
            if double in observed and not any(double in rule for rule in case.rules)
        ]
        assert not unexplained, describe(case, index, unexplained, "")
        # ...and test code never reaches an annotation.
        leaked = [name for name in names_in(case.annotation) if is_test_type(name)]
        assert not leaked, describe(case, index, leaked, "")

    errors, source = mypy_errors(cases, tmp_path)
    assert not errors, "\n\n".join(
        describe(cases[index], index, lines, source) if index >= 0 else "\n".join(lines)
        for index, lines in sorted(errors.items())
    )
