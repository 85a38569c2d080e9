"""Production-like classes for the annotator's tests.

The package's name is deliberately not test code (no ``test``/``tests``/``testing`` part, no ``test_``
prefix): the annotator must be free to write these classes into annotations. The tests make it importable
by prepending its parent directory to ``sys.path``. Every class takes no constructor arguments, so that
generated code can make an instance of any of them.
"""


class Animal:
    pass


class Mammal(Animal):
    pass


class Dog(Mammal):
    pass


class Puppy(Dog):
    pass


class Cat(Mammal):
    pass


class Horse(Mammal):
    pass


class Whale(Mammal):
    pass


class Bat(Mammal):
    pass


class Cow(Mammal):
    pass


class Bird(Animal):
    pass


class Rock:
    pass


class Outer:
    class Inner:
        pass
