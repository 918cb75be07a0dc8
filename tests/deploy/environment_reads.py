"""Which environment variables the shipped code reads, found two ways: in its source (``os.environ``,
``getenv``, a mapping named ``env``, helpers handed such a mapping, dependency-injector's
``from_env``), and by running ``load_settings`` on a mapping that records every name asked of it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from entrypoints.settings import load_settings

NAME = re.compile(r"^_?[A-Z][A-Z0-9_]{2,}$")
MAPPINGS = {"env", "environ"}


def _is_environment(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in MAPPINGS
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _names(nodes: Iterable[ast.expr]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.match(node.value):
            yield node.value


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def names_in_source(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = _called(node)
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            lookup = called in {"get", "pop", "setdefault"}
            looks_up = lookup and receiver is not None and _is_environment(receiver)
            if looks_up or called in {"getenv", "from_env"}:
                found.update(_names(node.args[:1]))
            elif any(_is_environment(arg) for arg in node.args):  # _int(env, "NAME", ...)
                found.update(_names(node.args))
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            found.update(_names([node.slice]))
        elif isinstance(node, ast.Compare) and any(_is_environment(c) for c in node.comparators):
            found.update(_names([node.left]))
    return found


class RecordingEnvironment(Mapping[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def names_read(files: Iterable[Path]) -> dict[str, list[Path]]:
    """Each name the code reads, with the files that read it."""
    found: dict[str, list[Path]] = {}
    for path in files:
        for name in names_in_source(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(path)
    recording = RecordingEnvironment()
    load_settings(recording)
    for name in recording.asked:
        found.setdefault(name, []).append(Path("entrypoints/settings.py (load_settings)"))
    return found
