"""Small untyped functions for the call-overhead benchmark."""


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
