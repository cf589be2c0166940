"""Lambda code assets built without Docker: dependency layers installed by pip for Lambda's
platform, and our own code (the kidstory layer, each function) copied as it is; each with its
bytecode compiled for Lambda's Python.

Lambda cannot write `__pycache__` (its code folders are read-only), so a module shipped without
bytecode is compiled again at every cold start: for the API that doubles the import time
(`make bench` prints both). The bytecode is unchecked-hash: valid whatever the files' times
after zipping. It is made by an interpreter of Lambda's version, this one or `python3.12` on the
PATH; without one the assets ship as source, the synthesis says so, and their hash differs
from the same code's with bytecode.

A function's layers unpack into one folder (/opt/python), so a package in two of them is
shipped twice for nothing: every dependency layer but core leaves out what core ships. What
each layer ships is written down by `make lock-layers` in `layers/deps/<group>/shipped.txt`
(every distribution, pinned, with its top-level names), and the layer is installed from that
list with `--no-deps`. The largest executable, ffmpeg in the clip functions' layer, ships
gzip-packed and is unpacked at its first use (kidstory.ffmpeg).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, DockerVolume, ILocalBundling
from aws_cdk import aws_lambda as lambda_

# The functions' runtime (lambda_factory.RUNTIME): wheels are chosen and bytecode made for it.
LAMBDA_PYTHON = "3.12"
# Docker is only the fallback when local bundling is unavailable.
BUILD_IMAGE = f"public.ecr.aws/sam/build-python{LAMBDA_PYTHON}"

# Wheels built for Lambda (CPython 3.12 on arm64, Amazon Linux 2023), whatever the host runs.
# manylinux_2_28 too: some packages (pillow 13) publish no manylinux2014 arm64 wheel.
LAMBDA_WHEELS = [
    "--platform",
    "manylinux2014_aarch64",
    "--platform",
    "manylinux_2_28_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    LAMBDA_PYTHON,
    "--only-binary=:all:",
    "--upgrade",
    # pip would compile with the interpreter it runs on; compile_bytecode makes Lambda's
    "--no-compile",
]
# The Docker fallback's command that compiles /asset-output (its image runs Lambda's Python).
DOCKER_COMPILE = "python -m compileall -q -j 0 --invalidation-mode unchecked-hash /asset-output"


# Every package of every layer at one version: the layers of a function are unpacked into one
# folder, so two layers must never carry different versions of a shared package (pydantic).
CONSTRAINTS = Path(__file__).resolve().parent.parent / "layers" / "deps" / "constraints.txt"
DOCKER_CONSTRAINTS = "/constraints"  # where the Docker fallback mounts CONSTRAINTS' folder


# Executables a layer ships gzip-packed, unpacked at their first use (kidstory.ffmpeg): ffmpeg is
# 125 MiB of the clip functions' 250 MiB, 58 MiB packed.
PACKED_BINARIES = "imageio_ffmpeg/binaries/ffmpeg-*"
DOCKER_PACK = (
    f"for binary in /asset-output/python/{PACKED_BINARIES}; do "
    '[ -e "$binary" ] || continue; gzip -6 "$binary" || exit 1; done'
)


# The layer every function has: the others leave out what it ships.
BASE_GROUP = "core"
SHIPPED = "shipped.txt"  # in each layers/deps/<group>/: what that layer ships (make lock-layers)


def pip_install_command(requirements: Path, target: Path, *, no_deps: bool = False) -> list[str]:
    """The pip command that installs a requirements file into a layer folder."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-r",
        str(requirements),
        "-c",
        str(CONSTRAINTS),
        *(["--no-deps"] if no_deps else []),
        "--target",
        str(target),
        *LAMBDA_WHEELS,
    ]


def layer_install_command(group: Path, target: Path) -> list[str]:
    """The pip command that installs exactly what a dependency layer ships (its shipped.txt)."""
    return pip_install_command(group / SHIPPED, target, no_deps=True)


def top_level_names(target: Path) -> dict[str, tuple[str, set[str]]]:
    """The distributions installed in `target`: name -> (version, the top-level names it puts
    there: packages, modules, folders of shared libraries), from their RECORD files. Scripts
    (bin/) are left out: /opt/python/bin is on no path."""
    from importlib.metadata import distributions

    installed = {}
    for dist in distributions(path=[str(target)]):
        names = {
            Path(file).parts[0]
            for file in dist.files or []
            if not str(file).startswith("..") and not Path(file).parts[0].endswith(".dist-info")
        }
        names = {name.split(".")[0] if name.endswith((".py", ".so")) else name for name in names}
        installed[dist.metadata["Name"].lower().replace("_", "-")] = (
            dist.version,
            names - {"__pycache__"},
        )
    return installed


def shipped_names(group: Path) -> dict[str, set[str]]:
    """A layer's shipped.txt: distribution -> its top-level names."""
    shipped = {}
    for line in (group / SHIPPED).read_text().splitlines():
        if line and not line.startswith("#"):
            pin, _, comment = line.partition("#")
            names = comment.split(":", 1)[1] if ":" in comment else ""
            shipped[pin.strip().split("==")[0]] = {n.strip() for n in names.split(",") if n.strip()}
    return shipped


def lock_layers() -> None:
    """Resolve all layers together for Lambda's platform and write constraints.txt; then what
    each layer ships (write_shipped)."""
    import tempfile

    groups = _groups()
    with tempfile.TemporaryDirectory() as workdir:
        requirements = [arg for group in groups for arg in ("-r", str(group / "requirements.txt"))]
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", *requirements),
                *("--target", workdir, *LAMBDA_WHEELS),
            ],
            check=True,
        )
        pins = sorted(
            f"{name}=={version}" for name, (version, _) in top_level_names(Path(workdir)).items()
        )
    CONSTRAINTS.write_text(
        "# Generated by `make lock-layers`: every package of every dependency layer, resolved\n"
        "# together for Lambda (CPython 3.12, arm64).\n" + "\n".join(pins) + "\n"
    )
    write_shipped()


def write_shipped() -> None:
    """Install each layer alone (at the versions of constraints.txt) and write what it ships,
    less what core ships, to its shipped.txt."""
    import tempfile

    groups = _groups()
    closures = {}
    with tempfile.TemporaryDirectory() as workdir:
        for group in groups:
            target = Path(workdir) / group.name
            subprocess.run(
                [*pip_install_command(group / "requirements.txt", target), "--quiet"], check=True
            )
            closures[group.name] = top_level_names(target)
    base = closures[BASE_GROUP]
    for group in groups:
        ships = {
            name: found
            for name, found in closures[group.name].items()
            if group.name == BASE_GROUP or name not in base
        }
        lines = [
            f"{name}=={version}  # top-level: {', '.join(sorted(names))}"
            for name, (version, names) in sorted(ships.items())
        ]
        left_out = "" if group.name == BASE_GROUP else ", less what\n# the core layer ships"
        (group / SHIPPED).write_text(
            f"# Generated by `make lock-layers` from requirements.txt{left_out}: what this "
            "layer ships,\n# installed with --no-deps. Do not edit.\n" + "\n".join(lines) + "\n"
        )


def _groups() -> list[Path]:
    return sorted(path.parent for path in CONSTRAINTS.parent.glob("*/requirements.txt"))


def lambda_python() -> str | None:
    """An interpreter of Lambda's Python version on this machine, if there is one."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == LAMBDA_PYTHON:
        return sys.executable
    return _runs_as(shutil.which(f"python{LAMBDA_PYTHON}"), LAMBDA_PYTHON)


@cache
def _runs_as(found: str | None, version: str) -> str | None:
    """`found`, if it runs and is Python `version` (a `python3.12` on the PATH may be a version
    manager's shim for a version that is not installed)."""
    if found is None:
        return None
    probe = subprocess.run(
        [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found if probe.returncode == 0 and probe.stdout.strip() == version else None


def _what_is_shipped() -> dict[str, str]:
    """Part of every asset's hash (the bundling options are): whether its bytecode is made. An
    asset built as source has another hash than the same code with bytecode, so a deploy that
    can compile never reuses a source-only asset left in cdk.out or in the bootstrap bucket."""
    compiled = f"python{LAMBDA_PYTHON}" if lambda_python() else "none"
    return {"KIDSTORY_BYTECODE": compiled}


def pack_binaries(target: Path) -> None:
    """gzip the large executables of a layer folder (PACKED_BINARIES) in place."""
    import gzip

    for binary in target.glob(PACKED_BINARIES):
        if binary.name.endswith(".gz"):
            continue
        with binary.open("rb") as source, gzip.open(f"{binary}.gz", "wb", compresslevel=6) as sink:
            shutil.copyfileobj(source, sink, length=1024 * 1024)
        binary.unlink()


def compile_bytecode(folder: Path) -> None:
    """Compile every module under `folder` for Lambda's Python (see the module's docstring)."""
    python = lambda_python()
    if python is None:
        print(
            f"No Python {LAMBDA_PYTHON} here: {folder.name} ships without bytecode, so Lambda "
            "compiles its modules at every cold start. Deploy with python"
            f"{LAMBDA_PYTHON} on the PATH (CI does).",
            file=sys.stderr,
        )
        return
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    subprocess.run([*command, str(folder)], check=True)


@jsii.implements(ILocalBundling)
class PipInstall:
    """Installs what a dependency layer ships (`shipped.txt` of its folder) into
    `<output>/python`, the layout of a layer."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        target = Path(output_dir) / "python"
        subprocess.run(layer_install_command(self.source, target), check=True, cwd=self.source)
        pack_binaries(target)
        compile_bytecode(target)
        return True


@jsii.implements(ILocalBundling)
class CopyWithBytecode:
    """Copies one folder of our code into the asset, as `<output>/<into>`, with its bytecode,
    less the folders `omit` names (relative to it)."""

    def __init__(self, source: Path, into: str, omit: list[str] | None = None) -> None:
        self.source = source
        self.into = into
        self.omit = {self.source / folder for folder in omit or []}

    def _ignored(self, folder: str, names: list[str]) -> set[str]:
        skipped = set(shutil.ignore_patterns("__pycache__", "*.egg-info")(folder, names))
        return skipped | {name for name in names if Path(folder) / name in self.omit}

    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        target = Path(output_dir) / self.into
        shutil.copytree(self.source, target, ignore=self._ignored)
        compile_bytecode(target)
        return True


def code_with_bytecode(
    root: Path, package: str, exclude: list[str] | None = None, omit: list[str] | None = None
) -> lambda_.Code:
    """The asset of `root/package`, placed at `package/` in the zip, with its bytecode, less the
    folders of `package` that `omit` names. With bundling skipped it is `root` as it is, less
    `exclude` and those folders."""
    omit = omit or []
    removed = "".join(f" && rm -rf /asset-output/{package}/{folder}" for folder in omit)
    return lambda_.Code.from_asset(
        str(root),
        exclude=[
            *(exclude or []),
            *(f"{package}/{folder}" for folder in omit),
            "**/__pycache__",
            "**/*.egg-info",
        ],
        bundling=BundlingOptions(
            image=DockerImage.from_registry(BUILD_IMAGE),
            command=[
                "bash",
                "-c",
                f"mkdir -p /asset-output/{package} && "
                f"cp -r /asset-input/{package}/. /asset-output/{package}/{removed} && "
                f"{DOCKER_COMPILE}",
            ],
            local=CopyWithBytecode(root / package, package, omit),
            environment=_what_is_shipped(),
        ),
    )


def dependency_layer_code(source: Path) -> lambda_.Code:
    """The asset of a dependency layer; with bundling skipped it is the folder as it is."""
    docker_command = " ".join(
        [
            f"pip install -r {SHIPPED} -c {DOCKER_CONSTRAINTS}/{CONSTRAINTS.name} --no-deps",
            "--target /asset-output/python",
            *LAMBDA_WHEELS,
            "&& {",
            DOCKER_PACK,
            "; } &&",
            DOCKER_COMPILE,
        ]
    )
    return lambda_.Code.from_asset(
        str(source),
        bundling=BundlingOptions(
            image=DockerImage.from_registry(BUILD_IMAGE),
            command=["bash", "-c", docker_command],
            volumes=[
                DockerVolume(host_path=str(CONSTRAINTS.parent), container_path=DOCKER_CONSTRAINTS)
            ],
            local=PipInstall(source),
            environment=_what_is_shipped(),
        ),
    )


if __name__ == "__main__":
    lock_layers()
