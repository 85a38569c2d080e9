"""Small untyped functions for the call-overhead benchmark (a support module: importing it does nothing)."""


def add(a, b):
    return a + b


def label(n):
    return f"item-{n}"


def pair(a, b):
    return (a, b)


def run(calls):
    total = 0
    for i in range(calls // 3):
        total = add(total, i)
        label(i)
        pair(i, total)
    return total


def trivial(x):
    return x


def batch(calls):
    """``calls`` calls of ``trivial``: one unit of work of the call-heavy benchmark."""
    for i in range(calls):
        trivial(i)
