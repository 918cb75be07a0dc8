"""``make package``: the Lambda artifact that ``template.yaml`` deploys.

``build/lambda/`` holds our code packages and the runtime dependencies pinned in requirements.lock,
installed as wheels for the functions' runtime (Python 3.12 on arm64), and
``build/manga-assist-lambda.zip`` is the same tree zipped reproducibly. boto3 and botocore are pinned
and shipped rather than taken from the Lambda runtime, whose copy changes without notice: the code
runs against the version it was tested with. Installing needs the package index (or ``--find-links``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("domain", "application", "adapters", "entrypoints")
# The local gateway and its chat page need aiohttp, which is not shipped: Lambda never runs them.
LOCAL_ONLY = ("entrypoints/local",)
# Must match template.yaml's Runtime and Architectures (tests/deploy checks it).
PYTHON_VERSION = "3.12"
PLATFORM = "manylinux2014_aarch64"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def code_files(root: Path = ROOT) -> Iterator[Path]:
    """Every file of our code that ships, relative to ``root``."""
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            relative = path.relative_to(root)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            if any(relative.as_posix().startswith(prefix + "/") for prefix in LOCAL_ONLY):
                continue
            yield relative


def copy_code(target: Path, root: Path = ROOT) -> None:
    for relative in code_files(root):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)


def install_dependencies(target: Path, lock: Path, find_links: str | None = None) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--only-binary=:all:", "--no-compile", "--target", str(target), "-r", str(lock),
    ]  # fmt: skip
    if find_links:
        command += ["--no-index", "--find-links", find_links]
    subprocess.run(command, check=True)


def prune_dependencies(target: Path) -> None:
    """Drop what the runtime never loads: console scripts, and the Cython sources that wheels ship
    beside their compiled extensions (most of dependency-injector's size)."""
    shutil.rmtree(target / "bin", ignore_errors=True)
    for source in list(target.rglob("*.c")):
        if any(source.parent.glob(source.stem + ".*.so")):
            source.unlink()


def write_zip(source: Path, archive: Path) -> None:
    """Same files, same bytes: fixed times and modes, sorted entries (unchanged code is not re-uploaded)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())


def tree_size(source: Path) -> int:
    return sum(p.stat().st_size for p in source.rglob("*") if p.is_file())


def build(build_dir: Path, lock: Path, find_links: str | None = None, with_dependencies: bool = True) -> Path:
    target = build_dir / "lambda"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if with_dependencies:
        install_dependencies(target, lock, find_links)
        prune_dependencies(target)
    copy_code(target)
    archive = build_dir / "manga-assist-lambda.zip"
    archive.unlink(missing_ok=True)
    write_zip(target, archive)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--find-links", help="install the wheels from this folder or URL, not the index")
    args = parser.parse_args(argv)
    archive = build(args.build_dir, args.lock, args.find_links)
    unzipped, zipped = tree_size(args.build_dir / "lambda"), archive.stat().st_size
    print(f"{args.build_dir / 'lambda'}/: {unzipped / 2**20:.1f} MiB unzipped (Lambda's limit: 250 MiB)")
    print(f"{archive}: {zipped / 2**20:.1f} MiB zipped")
    if zipped > DIRECT_UPLOAD_LIMIT:
        print("over 50 MiB zipped: deploy through S3 (sam deploy does), not a direct upload")
    if unzipped > LAMBDA_UNZIPPED_LIMIT:
        print("too large for Lambda", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
