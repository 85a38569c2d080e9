"""Source files are replaced atomically, and only by text that parses."""

import os
import stat

import pytest

from typeharvest.annotator import AnnotatorError
from typeharvest.annotator.pipeline import write_atomically


def test_a_result_that_does_not_parse_is_refused_and_the_file_is_left_as_it_was(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f(x):\n    return x\n")
    with pytest.raises(AnnotatorError, match=r"refusing to write .*m\.py: the result does not parse"):
        write_atomically(source, "def f(x: int -> int:\n    return x\n")
    assert source.read_text() == "def f(x):\n    return x\n"
    assert os.listdir(tmp_path) == ["m.py"]


def test_the_new_text_replaces_the_file_keeping_its_permissions_and_leaves_no_temporary(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f(x):\n    return x\n")
    source.chmod(0o640)
    write_atomically(source, "def f(x: int) -> int:\n    return x\n")
    assert source.read_text() == "def f(x: int) -> int:\n    return x\n"
    assert stat.S_IMODE(source.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["m.py"]


def test_crlf_line_endings_are_written_back_as_they_were(tmp_path):
    source = tmp_path / "m.py"
    write_atomically(source, "x = 1\r\ny = 2\r\n")
    assert source.read_bytes() == b"x = 1\r\ny = 2\r\n"


def test_a_directory_that_cannot_be_written_is_a_one_line_error(tmp_path):
    target = tmp_path / "not-a-directory"
    target.write_text("")
    with pytest.raises(AnnotatorError, match=r"cannot write .*m\.py: "):
        write_atomically(target / "m.py", "x = 1\n")
