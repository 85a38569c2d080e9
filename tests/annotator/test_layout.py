"""Where the imports an annotation needs are written, so that the file still reads as isort left it."""

import libcst as cst

from typeharvest.annotator.layout import add_imports
from typeharvest.annotator.render import Import


def with_imports(source, *needed):
    return add_imports(cst.parse_module(source), set(needed)).code


def test_a_new_standard_import_takes_its_sorted_place_in_a_sorted_block():
    source = (
        '"""Doc."""\n\nfrom __future__ import annotations\n\nimport os\n'
        "from dataclasses import dataclass\nfrom decimal import Decimal\n\nfrom django.db import models\n"
    )
    assert with_imports(source, Import("collections.abc", "Iterator"), Import("abc")) == (
        '"""Doc."""\n\nfrom __future__ import annotations\n\nimport abc\nimport os\n'
        "from collections.abc import Iterator\nfrom dataclasses import dataclass\n"
        "from decimal import Decimal\n\nfrom django.db import models\n"
    )


def test_a_new_standard_import_goes_last_in_a_block_that_is_not_sorted():
    source = "from decimal import Decimal\nfrom dataclasses import dataclass\n\nx = 1\n"
    assert with_imports(source, Import("collections.abc", "Iterator")) == (
        "from decimal import Decimal\nfrom dataclasses import dataclass\n"
        "from collections.abc import Iterator\n\nx = 1\n"
    )
