"""The benchmark's corpus: which projects, and their source distributions fetched from PyPI.

Standard library only, because ``run.py`` reads the corpus before its pinned virtualenv exists.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_PROJECTS = HERE.parents[2] / "shared" / "accuracy" / "projects.toml"
LOCAL_PROJECTS = HERE / "projects.toml"
PYPI_JSON = "https://pypi.org/pypi/{dist}/json"
PYPI_VERSION_JSON = "https://pypi.org/pypi/{dist}/{version}/json"


class CorpusError(Exception):
    """A project cannot be fetched or does not match its pinned hash: the run must stop."""


@dataclasses.dataclass(frozen=True)
class Project:
    """One entry of a ``projects.toml``: a pinned sdist whose own annotations are the ground truth."""

    name: str
    dist: str
    version: str
    sha256: str
    packages: tuple[str, ...]
    src: str
    deps: tuple[str, ...]
    test_args: tuple[str, ...]

    @classmethod
    def from_toml(cls, entry: dict[str, object]) -> Project:
        """Read one ``[[project]]`` table, refusing a missing or mistyped key instead of guessing."""

        def text(key: str, default: str | None = None) -> str:
            value = entry.get(key, default)
            if not isinstance(value, str):
                raise CorpusError(f"project {entry.get('name')!r}: {key!r} must be a string")
            return value

        def texts(key: str) -> tuple[str, ...]:
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise CorpusError(f"project {entry.get('name')!r}: {key!r} must be a list of strings")
            return tuple(value)

        return cls(
            name=text("name"),
            dist=text("dist"),
            version=text("version"),
            sha256=text("sha256").lower(),
            packages=texts("packages"),
            src=text("src", ""),
            deps=texts("deps"),
            test_args=texts("test_args"),
        )


def load_projects(paths: tuple[Path, ...] = (SHARED_PROJECTS, LOCAL_PROJECTS)) -> list[Project]:
    """Every project of the shared corpus, then the repository's own additions (a file may be absent).

    A name defined twice is an error: silently preferring one would make two runs disagree.
    """
    import tomllib  # here, so that an interpreter older than 3.11 reaches run.py's version check

    projects: dict[str, Project] = {}
    for path in paths:
        if not path.exists():
            continue
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        for entry in data.get("project", []):
            project = Project.from_toml(entry)
            if project.name in projects:
                raise CorpusError(f"project {project.name!r} is defined twice (again in {path})")
            projects[project.name] = project
    if not projects:
        raise CorpusError(f"no projects found in {', '.join(str(path) for path in paths)}")
    return list(projects.values())


def cache_dir() -> Path:
    """``$TYPEHARVEST_ACCURACY_CACHE``, else ``~/.cache/…``: outside the work tree, to outlive checkouts."""
    configured = os.environ.get("TYPEHARVEST_ACCURACY_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "typeharvest-accuracy"


def _get_json(url: str) -> dict[str, object] | None:
    """The decoded JSON at ``url``, or None for a 404 (some PyPI mirrors lack the per-version endpoint)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return json.load(response)  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise CorpusError(f"{url}: HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise CorpusError(f"{url}: {exc.reason}") from exc


def sdist_url(project: Project) -> tuple[str, str]:
    """The (filename, URL) of the project's sdist, asked of PyPI's JSON API.

    The per-version endpoint is tried first; the project endpoint's ``releases`` table is the fallback.
    A mirror may give file URLs relative to the JSON's own address: they are resolved against it.
    """
    files: object = None
    api = PYPI_VERSION_JSON.format(dist=project.dist, version=project.version)
    data = _get_json(api)
    if data is not None:
        files = data.get("urls")
    else:
        api = PYPI_JSON.format(dist=project.dist)
        data = _get_json(api)
        releases = data.get("releases") if data else None
        files = releases.get(project.version) if isinstance(releases, dict) else None
    for item in files if isinstance(files, list) else []:
        if item.get("packagetype") == "sdist":
            return str(item["filename"]), urllib.parse.urljoin(api, str(item["url"]))
    raise CorpusError(f"{project.dist} {project.version}: PyPI lists no sdist")


def sha256_of(path: Path) -> str:
    """The file's SHA-256 in hex, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_sdist(project: Project) -> Path:
    """The verified sdist in the cache, downloaded first if absent.

    A cached file is re-verified on every run, and a mismatch (download or cache) stops the run: scores
    of a different source than the pinned one would be silently incomparable.
    """
    folder = cache_dir() / "sdists"
    folder.mkdir(parents=True, exist_ok=True)
    cached = [path for path in folder.glob(f"{project.dist}-{project.version}.*") if path.is_file()]
    if cached:
        path = cached[0]
    else:
        filename, url = sdist_url(project)
        path = folder / filename
        partial = path.with_name(path.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:
                shutil.copyfileobj(response, out)
        except urllib.error.URLError as exc:
            raise CorpusError(f"{project.name}: cannot download {url}: {exc}") from exc
        partial.replace(path)
    actual = sha256_of(path)
    if actual != project.sha256:
        raise CorpusError(
            f"{project.name}: sha256 mismatch for {path}: expected {project.sha256}, got {actual} "
            "(delete the file to download it again)"
        )
    return path


def unpack_sdist(archive: Path, dest: Path) -> Path:
    """Unpack into ``dest`` and return the sdist's root folder (the archive's single top-level folder)."""
    dest.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(dest)
    else:
        with tarfile.open(archive) as handle:
            handle.extractall(dest, filter="data")
    roots = [path for path in dest.iterdir() if path.is_dir()]
    if len(roots) != 1:
        raise CorpusError(f"{archive.name}: expected one top-level folder, found {len(roots)}")
    return roots[0]
