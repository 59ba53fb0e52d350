"""Upload what the Glue job `reprocess` runs to the platform's artifact bucket.

    uv run python services/etl-layers/glue/publish.py --bucket <artifacts> [--endpoint-url URL]

Builds the etl-layers and rocket-contracts wheels (pure Python, so Glue 5.0's Python 3.11 takes
them; the Lambda zip's native wheels are for python3.12) and uploads them with the script to
`etl-layers/glue/`. Prints the template parameters naming the wheels; pass them to the deploy
when the versions change (the template's defaults are the current versions).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3

SERVICE = Path(__file__).resolve().parents[1]
PREFIX = "etl-layers/glue/"
PARAMETERS = {"etl-layers": "ReprocessWheelKey", "rocket-contracts": "ContractsWheelKey"}


def build_wheels(out_dir: Path) -> dict[str, Path]:
    uv = shutil.which("uv") or "uv"
    wheels: dict[str, Path] = {}
    for package in PARAMETERS:
        target = out_dir / package
        subprocess.run(
            [uv, "build", "--package", package, "--wheel", "--out-dir", str(target)],
            cwd=SERVICE,
            check=True,
            capture_output=True,
        )
        (wheels[package],) = target.glob("*.whl")
    return wheels


def publish(s3: Any, bucket: str, wheels: dict[str, Path]) -> dict[str, str]:
    """Upload the wheels and the script; the template parameters naming the wheels."""
    s3.upload_file(str(SERVICE / "glue" / "reprocess.py"), bucket, f"{PREFIX}reprocess.py")
    parameters = {}
    for package, wheel in wheels.items():
        key = f"{PREFIX}{wheel.name}"
        s3.upload_file(str(wheel), bucket, key)
        parameters[PARAMETERS[package]] = key
    return parameters


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--endpoint-url")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        wheels = build_wheels(Path(folder))
        s3 = boto3.client("s3", endpoint_url=args.endpoint_url)
        for name, key in publish(s3, args.bucket, wheels).items():
            print(f"{name}={key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
