"""The emulator's own log holds real errors only: its readiness probe writes none."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from rocket_infra import aws
from rocket_infra.emulator import Emulator


def _zipped_handler() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_a_clean_start_logs_no_traceback(tmp_path: Path) -> None:
    log = tmp_path / "emulator.log"
    with Emulator.running(log=log):
        pass
    assert "Traceback" not in log.read_text()


def test_the_probe_answers_without_a_traceback_once_functions_exist(tmp_path: Path) -> None:
    # moto's model dump (/moto-api/data.json) reads every attribute of every resource, and a
    # Lambda function's reach for docker, which is not there: a 500 and a traceback per probe.
    log = tmp_path / "emulator.log"
    with Emulator.running(log=log) as emulator:
        iam = aws.client("iam", endpoint_url=emulator.endpoint_url)
        role = iam.create_role(
            RoleName="probe-role",
            AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
        )["Role"]["Arn"]
        aws.client("lambda", endpoint_url=emulator.endpoint_url).create_function(
            FunctionName="probe-fn",
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zipped_handler()},
        )
        assert emulator.answers()
    assert "Traceback" not in log.read_text()
