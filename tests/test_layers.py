"""The layers, checked on every import statement of the repository, lazy ones inside functions too:

- ``domain`` imports nothing of ours and nothing of AWS;
- ``application`` imports, of ours, only ``domain``, and nothing of AWS;
- ``adapters`` never import ``entrypoints``;
- in the product, only ``adapters`` and ``entrypoints/container.py`` import the AWS SDK;
- the product never imports ``testing``, ``tests``, ``features`` or ``bench``;
- ``testing`` is imported only by ``tests``, ``features`` and ``bench``, and imports none of them;
- ``bench`` imports no tests.

An exception is named in ``EXCEPTIONS`` with its reason, and must still be needed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import frozen

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("domain", "application", "adapters", "entrypoints")
OURS = (*PRODUCT, "testing", "tests", "features", "bench", "deploy")
TESTS = ("tests", "features")
AWS_SDK = ("boto3", "botocore", "mypy_boto3_")
AWS = (*AWS_SDK, "aws_lambda_powertools", "moto")

# (importer, imported) -> why it is allowed
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("entrypoints.commands.capacity", "bench"): (
        "`manga-assist capacity` is a thin command in front of the benchmark that measures it (from a clone)"
    ),
}


@frozen
class Import:
    importer: str  # module name, e.g. "entrypoints.message"
    imported: str  # what the statement names, e.g. "application.frames" or "application.frames.iso"
    where: str  # path:line


def top(module: str) -> str:
    return module.split(".")[0]


def is_aws(module: str, families: tuple[str, ...] = AWS) -> bool:
    return any(module == f or module.startswith(f if f.endswith("_") else f + ".") for f in families)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    importer = module_name(path, root)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, where)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importer's package
                parts = package.split(".")
                module = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [node.module])])
            else:
                module = node.module or ""
            # ``from bench import capacity`` may import the module bench.capacity: name it so
            for alias in node.names:
                yield Import(importer, f"{module}.{alias.name}", where)


def all_imports(root: Path) -> list[Import]:
    found: list[Import] = []
    for package in OURS:
        for path in sorted((root / package).rglob("*.py")):
            if ".venv" not in path.parts:
                found.extend(imports_of(path, root))
    return found


def broken_rule(found: Import) -> str | None:
    """The rule this import breaks, or None."""
    importer, imported = top(found.importer), top(found.imported)
    if importer == "domain" and ((imported in OURS and imported != "domain") or is_aws(found.imported)):
        return "domain imports nothing of ours or of AWS"
    if importer == "application" and (
        (imported in OURS and imported not in ("domain", "application")) or is_aws(found.imported)
    ):
        return "application imports only domain"
    if importer == "adapters" and imported == "entrypoints":
        return "adapters never import entrypoints"
    if (
        importer in PRODUCT
        and is_aws(found.imported, AWS_SDK)
        and importer != "adapters"
        and found.importer != "entrypoints.container"
    ):
        return "only adapters and entrypoints/container.py import the AWS SDK"
    if importer in PRODUCT and imported in ("testing", *TESTS, "bench"):
        return "the product imports no test code and no benchmark"
    if imported == "testing" and importer not in ("testing", *TESTS, "bench"):
        return "testing is imported only by tests and bench"
    if importer == "testing" and imported in (*TESTS, "bench"):
        return "testing imports no tests and no benchmark"
    if importer == "bench" and imported in TESTS:
        return "bench imports no tests"
    return None


def excused(found: Import) -> bool:
    return (found.importer, top(found.imported)) in EXCEPTIONS


def violations(found: list[Import]) -> list[str]:
    return [
        f"{i.where}: {i.importer} imports {i.imported}: {rule}"
        for i in found
        if (rule := broken_rule(i)) and not excused(i)
    ]


def test_the_repository_keeps_its_layers() -> None:
    assert violations(all_imports(ROOT)) == []


def test_every_exception_is_still_needed() -> None:
    found = all_imports(ROOT)
    used = {(i.importer, top(i.imported)) for i in found if broken_rule(i) and excused(i)}
    assert used == set(EXCEPTIONS)


BREAKS = {
    "domain/model.py": ("import boto3\n", "domain imports nothing"),
    "domain/errors.py": ("from application.ports import Frame\n", "domain imports nothing"),
    "application/ports.py": ("from adapters.memory import InMemorySessionRepository\n", "only domain"),
    "application/sessions.py": ("from aws_lambda_powertools import Logger\n", "only domain"),
    "adapters/memory.py": (
        "def later():\n    from entrypoints.container import Container\n",
        "never import entrypoints",
    ),
    "entrypoints/message.py": ("from botocore.exceptions import ClientError\n", "import the AWS SDK"),
    "entrypoints/local/serve.py": ("import mypy_boto3_dynamodb\n", "import the AWS SDK"),
    "entrypoints/connect.py": ("from testing.harness import Chat\n", "no test code"),
    "entrypoints/commands/redrive.py": ("from bench import capacity\n", "no test code"),
    "deploy/package.py": ("import testing.aws\n", "only by tests and bench"),
    "testing/harness.py": ("from tests.conftest import chat\n", "testing imports no tests"),
    "bench/gateway.py": ("from tests.local.client import Client\n", "bench imports no tests"),
}


@pytest.mark.parametrize("path", sorted(BREAKS))
def test_a_broken_layer_is_found(tmp_path: Path, path: str) -> None:
    source, rule = BREAKS[path]
    for package in OURS:
        (tmp_path / package).mkdir()
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('"""A module of a repository whose layers are broken."""\n' + source)
    found = violations(all_imports(tmp_path))
    assert len(found) == 1 and rule in found[0], found


def test_relative_imports_are_read_as_the_modules_they_name(tmp_path: Path) -> None:
    module = tmp_path / "adapters" / "dynamodb" / "reads.py"
    module.parent.mkdir(parents=True)
    module.write_text("from ..memory import Store\nfrom . import layout\n")
    named = {i.imported for i in imports_of(module, tmp_path)}
    assert named == {"adapters.memory.Store", "adapters.dynamodb.layout"}
