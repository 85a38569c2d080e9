"""The Python a project targets decides the syntax written into it."""

from typeharvest.annotator.project import target_python


def test_mypys_python_version_wins_over_requires_python(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nrequires-python = ">=3.9"\n\n[tool.mypy]\npython_version = "3.11"\n'
    )
    (tmp_path / "pkg").mkdir()
    assert target_python(tmp_path / "pkg") == (3, 11)


def test_requires_python_gives_the_oldest_supported_version(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10,<4"\n')
    assert target_python(tmp_path) == (3, 10)


def test_a_mypy_ini_section_is_read(tmp_path):
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n\n[mypy]\npython_version = 3.12\n")
    assert target_python(tmp_path) == (3, 12)


def test_the_search_stops_at_the_repository_root(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.9"\n')
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    assert target_python(repository) is None


def test_an_unreadable_configuration_says_nothing(tmp_path):
    (tmp_path / "pyproject.toml").write_text("this is [not toml")
    (tmp_path / ".git").mkdir()
    assert target_python(tmp_path) is None
