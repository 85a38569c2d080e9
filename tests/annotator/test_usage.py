"""--generalize-args reads how a function uses each parameter, and only understood uses count."""

from typeharvest.annotator.usage import Need, parameter_needs

SOURCE = """
def only_iterated(items, names):
    for item in items:
        print(item)
    return ", ".join(names)

def counted(items):
    return len(items) + sum(items) if 3 in items else 0

def indexed(items):
    return items[0]

def sliced(items):
    return items[1:]

def escapes(items, other):
    keep(items)
    other.append(1)
    return other

def rebound(items):
    items = list(items)
    return items

class Shelf:
    def total(self, prices):
        return sum(p for p in prices)
"""


def test_each_parameter_gets_the_most_general_type_its_uses_allow():
    needs = parameter_needs(SOURCE)
    assert needs["only_iterated"] == {"items": Need.ITERABLE, "names": Need.ITERABLE}
    assert needs["counted"] == {"items": Need.COLLECTION}
    assert needs["indexed"] == {"items": Need.SEQUENCE}
    assert needs["Shelf.total"] == {"prices": Need.ITERABLE}


def test_any_use_that_is_not_understood_keeps_the_concrete_type():
    needs = parameter_needs(SOURCE)
    assert needs["sliced"] == {}  # a slice of a list is a list: the caller may rely on it
    assert needs["escapes"] == {}  # passed on, or used through an attribute
    assert needs["rebound"] == {}


def test_source_that_does_not_parse_has_no_needs():
    assert parameter_needs("def broken(:\n") == {}
