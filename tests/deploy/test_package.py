"""``make package`` without the package index: which code ships, and a zip that is the same bytes
every time (so an unchanged build is not uploaded again)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from deploy import package


def test_ships_the_four_code_packages_and_nothing_local_or_of_the_tests() -> None:
    shipped = {path.as_posix() for path in package.code_files()}
    assert {"entrypoints/connect.py", "entrypoints/message.py", "domain/model.py"} <= shipped
    tops = {name.split("/")[0] for name in shipped}
    assert tops == set(package.CODE_PACKAGES)
    assert not any(name.startswith("entrypoints/local/") for name in shipped)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in shipped)


def test_the_zip_is_reproducible(tmp_path: Path) -> None:
    first = package.build(tmp_path / "a", package.ROOT / "requirements.lock", with_dependencies=False)
    second = package.build(tmp_path / "b", package.ROOT / "requirements.lock", with_dependencies=False)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as bundle:
        assert "entrypoints/connect.py" in bundle.namelist()
        assert bundle.testzip() is None


def test_pruning_keeps_extensions_and_drops_their_sources_and_scripts(tmp_path: Path) -> None:
    extension = tmp_path / "dependency_injector"
    extension.mkdir()
    for name in ("containers.abi3.so", "containers.c", "containers.pyi", "plain.c"):
        (extension / name).write_text("x")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "jp.py").write_text("x")
    package.prune_dependencies(tmp_path)
    assert sorted(p.name for p in extension.iterdir()) == ["containers.abi3.so", "containers.pyi", "plain.c"]
    assert not (tmp_path / "bin").exists()
