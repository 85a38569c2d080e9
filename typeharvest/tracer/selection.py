"""Decide, once per code object, whether a function is the application's own and worth tracing.

The decision is cached by the backends, so it may be slow-ish (path normalisation, a ``gc`` walk on 3.10):
it runs once per function for the life of the process.
"""

from __future__ import annotations

import fnmatch
import functools
import gc
import hashlib
import inspect
import linecache
import operator
import os
import sys
import sysconfig
import types
from collections.abc import Mapping, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path

from typeharvest.records import FunctionInfo, FunctionKind, Parameter, ParameterKind

_line_of = operator.itemgetter(2)  # of a co_lines() entry: (start, end, line or None)
_TYPEHARVEST_DIR = str(Path(__file__).resolve().parent.parent)
_THIRD_PARTY_DIRS = frozenset({"site-packages", "dist-packages"})


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return tuple(sorted(os.path.realpath(d) + os.sep for d in dirs))


def is_library_path(path: str | os.PathLike[str]) -> bool:
    """Whether a source file or directory belongs to the standard library or an installed package."""
    return _is_library_real_path(os.path.realpath(path))


def _is_library_real_path(real: str) -> bool:
    if (real + os.sep).startswith(_library_dirs()):
        return True
    return bool(_THIRD_PARTY_DIRS.intersection(Path(real).parts))


class CodeSelector:
    """The include rule: module-name prefixes when given, else "code under ``root``, not a library".

    ``main_module`` is the importable name to record for functions of the ``__main__`` module. Modules
    under an ``exclude`` prefix and files matching an ``exclude_files`` pattern are never traced: a pattern
    without a path separator is matched against the file's name, any other against its absolute real path.
    """

    def __init__(
        self,
        include: Sequence[str] = (),
        root: str | os.PathLike[str] | None = None,
        main_module: str | None = None,
        exclude: Sequence[str] = (),
        exclude_files: Sequence[str] = (),
    ) -> None:
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.exclude_files = tuple(exclude_files)
        self.root = os.path.realpath(root if root is not None else os.getcwd()) + os.sep
        self.main_module = main_module
        self._real_paths: dict[str, str] = {}

    def select(self, code: types.CodeType, frame_globals: Mapping[str, object]) -> FunctionInfo | None:
        """The function's description if it is to be traced, else None."""
        if not code.co_flags & inspect.CO_OPTIMIZED:
            return None  # module and class bodies
        qualname = _qualname(code)
        if qualname is None or any(
            part.startswith("<") for part in qualname.split(".") if part != "<locals>"
        ):
            return None  # lambdas, comprehensions, generator expressions, annotation scopes
        module = self._module_name(frame_globals)
        if module is None or not self._wanted(module, code.co_filename):
            return None
        return FunctionInfo(
            module=module,
            qualname=qualname,
            filename=os.path.abspath(code.co_filename),
            firstlineno=code.co_firstlineno,
            kind=function_kind(code),
            parameters=parameters(code),
            code_hash="",  # read from the source at the next drain, a batch at a time (``code_hashes``)
        )

    def _module_name(self, frame_globals: Mapping[str, object]) -> str | None:
        name = frame_globals.get("__name__")
        if type(name) is not str:
            return None
        if name != "__main__":
            return name
        spec = frame_globals.get("__spec__")
        if type(spec) is ModuleSpec and type(spec.name) is str:
            return spec.name
        return self.main_module

    def _real_path(self, filename: str) -> str:
        # realpath() asks the file system about every component: once per file, not once per function.
        path = self._real_paths.get(filename)
        if path is None:
            path = self._real_paths[filename] = os.path.realpath(filename)
        return path

    def _excluded_file(self, path: str) -> bool:
        name = os.path.basename(path)
        return any(fnmatch.fnmatchcase(path if os.sep in glob else name, glob) for glob in self.exclude_files)

    def _wanted(self, module: str, filename: str) -> bool:
        if filename.startswith("<") or _under(module, ("typeharvest", *self.exclude)):
            return False  # no source file: code made by exec(), as dataclasses and namedtuples make
        if self.exclude_files and self._excluded_file(self._real_path(filename)):
            return False
        if self.include:
            return _under(module, self.include)
        path = self._real_path(filename)
        if not path.startswith(self.root) or path.startswith(_TYPEHARVEST_DIR + os.sep):
            return False
        return not _is_library_real_path(path)


def _under(module: str, prefixes: Sequence[str]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def code_hashes(codes: Sequence[types.CodeType]) -> list[str]:
    """The ``code_hash`` of each code object, reading each source file once and keeping none of them.

    Why not keep them: ``linecache`` would hold every traced file's lines for the life of the process
    (5.5 MB for the 142 files of Django that its admin runs). Files the program had cached stay cached.
    """
    cached_before = set(linecache.cache)
    try:
        return [code_hash(code) for code in codes]
    finally:
        for filename in {code.co_filename for code in codes} - cached_before:
            linecache.cache.pop(filename, None)


def code_hash(code: types.CodeType) -> str:
    """A short digest of the function's source lines, or of its bytecode when the source is unavailable.

    Source rather than bytecode, so that hosts on different Python versions agree on it.
    """
    last = max(filter(None, map(_line_of, code.co_lines())), default=code.co_firstlineno)
    lines = linecache.getlines(code.co_filename)
    if lines and last <= len(lines):
        text = "".join(lines[code.co_firstlineno - 1 : last]).encode("utf-8", "surrogatepass")
    else:
        text = code.co_code + "\0".join(code.co_names).encode()
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def function_kind(code: types.CodeType) -> FunctionKind:
    """What a call of this code produces, from the compiler's flags."""
    flags = code.co_flags
    if flags & inspect.CO_ASYNC_GENERATOR:
        return FunctionKind.ASYNC_GENERATOR
    if flags & inspect.CO_COROUTINE:
        return FunctionKind.COROUTINE
    if flags & inspect.CO_GENERATOR:
        return FunctionKind.GENERATOR
    return FunctionKind.FUNCTION


def parameters(code: types.CodeType) -> tuple[Parameter, ...]:
    """The parameters in signature order (``co_varnames`` keeps keyword-only ones before ``*args``)."""
    names = code.co_varnames
    positional = code.co_argcount
    keyword_only = code.co_kwonlyargcount
    result = [
        Parameter(
            names[i],
            ParameterKind.POSITIONAL_ONLY
            if i < code.co_posonlyargcount
            else ParameterKind.POSITIONAL_OR_KEYWORD,
        )
        for i in range(positional)
    ]
    next_index = positional + keyword_only
    if code.co_flags & inspect.CO_VARARGS:
        result.append(Parameter(names[next_index], ParameterKind.VAR_POSITIONAL))
        next_index += 1
    result.extend(
        Parameter(names[i], ParameterKind.KEYWORD_ONLY) for i in range(positional, positional + keyword_only)
    )
    if code.co_flags & inspect.CO_VARKEYWORDS:
        result.append(Parameter(names[next_index], ParameterKind.VAR_KEYWORD))
    return tuple(result)


def _qualname(code: types.CodeType) -> str | None:
    if sys.version_info >= (3, 11):
        return code.co_qualname
    # Python 3.10 code objects do not know their qualified name; the function that owns them does.
    for referrer in gc.get_referrers(code):
        if type(referrer) is types.FunctionType and referrer.__code__ is code:
            return referrer.__qualname__
    return None


def main_module_name() -> str | None:
    """The importable name of the running ``__main__`` module (``python -m pkg.mod`` or a script's stem)."""
    main = sys.modules.get("__main__")
    if main is None:
        return None
    spec = getattr(main, "__spec__", None)
    if spec is not None and isinstance(spec.name, str):
        return str(spec.name)
    filename = getattr(main, "__file__", None)
    if isinstance(filename, str):
        return Path(filename).stem
    return None
