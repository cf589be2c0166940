"""Dependency layers: third-party packages installed for Lambda without Docker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

# Docker is only the fallback when local bundling is unavailable.
BUILD_IMAGE = "public.ecr.aws/sam/build-python3.12"

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
    "3.12",
    "--only-binary=:all:",
    "--upgrade",
]


def pip_install_command(requirements: Path, target: Path) -> list[str]:
    """The pip command that installs a requirements file into a layer folder."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-r",
        str(requirements),
        "--target",
        str(target),
        *LAMBDA_WHEELS,
    ]


@jsii.implements(ILocalBundling)
class PipInstall:
    """Installs `requirements.txt` of a folder into `<output>/python`, the layout of a layer."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        command = pip_install_command(self.source / "requirements.txt", Path(output_dir) / "python")
        subprocess.run(command, check=True, cwd=self.source)
        return True


def dependency_layer_code(source: Path) -> lambda_.Code:
    """The asset of a dependency layer; with bundling skipped it is the folder as it is."""
    docker_command = " ".join(
        ["pip install -r requirements.txt --target /asset-output/python", *LAMBDA_WHEELS]
    )
    return lambda_.Code.from_asset(
        str(source),
        bundling=BundlingOptions(
            image=DockerImage.from_registry(BUILD_IMAGE),
            command=["bash", "-c", docker_command],
            local=PipInstall(source),
        ),
    )
