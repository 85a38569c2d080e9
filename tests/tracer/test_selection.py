"""Which functions the tracer selects: include and exclude prefixes, excluded files, libraries."""

import os
import sysconfig

import pytest

from typeharvest.tracer.selection import CodeSelector, is_library_path


def compiled(module, filename):
    namespace = {"__name__": module}
    exec(compile("def handler(x):\n    return x\n", filename, "exec"), namespace)
    return namespace["handler"].__code__, namespace


@pytest.fixture
def project(tmp_path):
    return tmp_path / "project"


def test_an_excluded_prefix_wins_over_an_included_one(project):
    selector = CodeSelector(include=["shop"], exclude=["shop.admin"])
    kept = selector.select(*compiled("shop.views", str(project / "shop" / "views.py")))
    dropped = selector.select(*compiled("shop.admin.forms", str(project / "shop" / "admin" / "forms.py")))
    assert kept is not None and kept.qualname == "handler"
    assert dropped is None


def test_exclude_matches_whole_module_names_not_string_prefixes(project):
    selector = CodeSelector(include=["shop"], exclude=["shop.admin"])
    assert selector.select(*compiled("shop.administration", str(project / "shop" / "administration.py")))


def test_excluded_files_are_not_traced_even_under_the_root(project):
    selector = CodeSelector(
        root=project, exclude_files=["test_*.py", "conftest.py", f"{project / 'helpers'}{os.sep}*"]
    )
    assert selector.select(*compiled("tests.test_views", str(project / "tests" / "test_views.py"))) is None
    assert selector.select(*compiled("conftest", str(project / "conftest.py"))) is None
    assert selector.select(*compiled("helpers.make", str(project / "helpers" / "make.py"))) is None


def test_a_file_name_pattern_does_not_match_directory_names(project):
    # pytest's tmp_path of this very test is ".../test_a_file_name_pattern_does_0/project/...".
    selector = CodeSelector(root=project, exclude_files=["test_*.py"])
    assert selector.select(*compiled("shop.views", str(project / "shop" / "views.py")))


def test_library_paths_are_the_standard_library_and_installed_packages(project):
    assert is_library_path(os.__file__)
    assert is_library_path(sysconfig.get_paths()["purelib"])
    assert is_library_path(project / "venv" / "lib" / "site-packages" / "pkg" / "mod.py")
    assert not is_library_path(project / "shop" / "views.py")


def test_module_bodies_are_never_selected(project):
    code = compile("x = 1\n", str(project / "shop" / "module.py"), "exec")
    assert CodeSelector(include=["shop"]).select(code, {"__name__": "shop.module"}) is None


def test_code_made_by_exec_is_not_selected_even_when_its_module_is_included():
    # What @dataclass and namedtuple generate: no source file, nothing to annotate.
    selector = CodeSelector(include=["shop"])
    assert selector.select(*compiled("shop.models", "<string>")) is None
