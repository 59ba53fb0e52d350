"""Everything a stack's Glue jobs load from the artifact bucket, uploaded before the stack.

A job names its script (`Command.ScriptLocation`) and its Python modules and files
(`--additional-python-modules`, `--extra-py-files`, `--extra-files`) as `s3://` locations. Each
one in the platform's artifact bucket must come from the repository:
- a script `<service>/glue/<path>`: the file `services/<service>/glue/<path>`;
- a wheel `<name>-<version>-<tags>.whl`: the workspace member of that name, built with
  `uv build --wheel`, and it must build exactly that file name (a version bump without the
  template parameter that names the wheel would otherwise deploy a job that cannot start).

A location the repository cannot produce fails the deploy before CloudFormation is called.
Locations outside the artifact bucket (a bucket of the stack itself, another account's) are not
ours to upload and are left alone.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rocket_infra import templates
from rocket_infra.build import normalize, uv_command, workspace_members
from rocket_infra.project import Service

logger = logging.getLogger(__name__)

GLUE_JOB = "AWS::Glue::Job"
# Job arguments whose value is a comma-separated list of S3 locations Glue loads.
LOCATION_ARGUMENTS = ("--additional-python-modules", "--extra-py-files", "--extra-files")
# PEP 427: {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-[^-]+)?-[^-]+-[^-]+-[^-]+\.whl$")


class GlueAssetError(RuntimeError):
    """A Glue job references an artifact the repository cannot produce."""


@dataclass(frozen=True)
class Asset:
    """One object a Glue job loads from the artifact bucket, and the job that names it."""

    key: str
    job: str


def _locations(properties: Mapping[str, Any]) -> Iterator[Any]:
    yield (properties.get("Command") or {}).get("ScriptLocation")
    arguments = properties.get("DefaultArguments") or {}
    yield from (arguments.get(name) for name in LOCATION_ARGUMENTS)


def referenced(
    template: Mapping[str, Any],
    bucket: str,
    parameters: Mapping[str, str],
    exports: Mapping[str, str],
) -> list[Asset]:
    """Every artifact-bucket object the template's Glue jobs load, in template order."""
    values = {
        name: parameters.get(name, spec.get("Default"))
        for name, spec in template.get("Parameters", {}).items()
        if name in parameters or "Default" in spec
    }
    resolver = templates.Resolver(template, values, exports=exports)
    found: list[Asset] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != GLUE_JOB:
            continue
        for node in _locations(resource.get("Properties") or {}):
            if node is None:
                continue
            try:
                value = str(resolver.resolve(node))
            except templates.TemplateError:
                # Names a resource of the stack itself (not created yet): not the artifact bucket.
                continue
            for location in filter(None, (part.strip() for part in value.split(","))):
                prefix = f"s3://{bucket}/"
                if location.startswith(prefix):
                    asset = Asset(location.removeprefix(prefix), logical_id)
                    if asset.key not in {a.key for a in found}:
                        found.append(asset)
    return found


WheelBuilder = Callable[[str, Path, Path], Path]
# One build per member and source tree per process: `rocket up` deploys stacks again and again.
_built: dict[tuple[str, str, WheelBuilder], tuple[str, bytes]] = {}


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_wheel(distribution: str, folder: Path, root: Path) -> Path:
    """`uv build --wheel` of one workspace member, into a temporary folder of its own."""
    out = Path(tempfile.mkdtemp(prefix=f"rocket-wheel-{distribution}-"))
    command = [*uv_command(), "build", "--package", distribution, "--wheel", "--out-dir", str(out)]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GlueAssetError(f"building the {distribution} wheel failed:\n{done.stderr.strip()}")
    (wheel,) = out.glob("*.whl")
    return wheel


def _wheel_body(
    asset: Asset, members: Mapping[str, Path], root: Path, builder: WheelBuilder
) -> bytes:
    name = asset.key.rsplit("/", 1)[-1]
    match = _WHEEL.match(name)
    distribution = normalize(match["name"]) if match else ""
    folder = members.get(distribution)
    if folder is None:
        raise GlueAssetError(
            f"{asset.job} loads s3://…/{asset.key}: no workspace package is named {distribution!r}"
        )
    cache_key = (distribution, _tree_digest(folder), builder)
    if cache_key not in _built:
        wheel = builder(distribution, folder, root)
        _built[cache_key] = (wheel.name, wheel.read_bytes())
        shutil.rmtree(wheel.parent, ignore_errors=True)
    built, body = _built[cache_key]
    if built != name:
        raise GlueAssetError(
            f"{asset.job} loads {name} but {distribution} builds {built}: update the "
            "template parameter (or default) that names the wheel"
        )
    return body


def _script_body(asset: Asset, service: Service) -> bytes:
    prefix = f"{service.name}/glue/"
    path = service.root / "glue" / asset.key.removeprefix(prefix)
    if not asset.key.startswith(prefix) or not path.is_file():
        raise GlueAssetError(
            f"{asset.job} loads s3://…/{asset.key}, which is neither a wheel of a workspace "
            f"package nor a file under services/{service.name}/glue/"
        )
    return path.read_bytes()


def upload(
    s3: Any,
    bucket: str,
    service: Service,
    template: Mapping[str, Any],
    *,
    root: Path,
    parameters: Mapping[str, str],
    exports: Mapping[str, str],
    builder: WheelBuilder = build_wheel,
) -> list[str]:
    """Upload every artifact the template's Glue jobs load; the keys written. Everything is
    built and checked first, so a job never ends up with half of its files."""
    members = {name: m.root for name, m in workspace_members(root).items()}
    bodies: dict[str, bytes] = {}
    for asset in referenced(template, bucket, parameters, exports):
        is_wheel = asset.key.endswith(".whl")
        bodies[asset.key] = (
            _wheel_body(asset, members, root, builder) if is_wheel else _script_body(asset, service)
        )
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        logger.info("glue asset uploaded", extra={"bucket": bucket, "key": key})
    return list(bodies)


def publish(
    service: Service,
    template: Mapping[str, Any],
    *,
    root: Path,
    stage: str,
    parameters: Mapping[str, str],
    cfn: Any,
    s3: Any,
) -> list[str]:
    """`upload` for a stack about to be deployed: the artifact bucket and exports from the
    platform stack. Nothing to do (and no platform needed) for a stack without Glue jobs."""
    from rocket_infra import deploy

    if service.is_platform or not any(
        r.get("Type") == GLUE_JOB for r in template.get("Resources", {}).values()
    ):
        return []
    given = {"Stage": stage, **parameters}
    declared = {k: v for k, v in given.items() if k in template.get("Parameters", {})}
    return upload(
        s3,
        deploy.artifact_bucket(cfn, stage),
        service,
        template,
        root=root,
        parameters=declared,
        exports=deploy.exports(cfn),
    )
