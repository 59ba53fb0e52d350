"""Starting the compaction workflow (Step Functions) for one domain-day."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from compactor.ports import CompactorError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class StartError(CompactorError):
    """The workflow could not be started (retryable: the request is redelivered)."""


class StepFunctionsExecutions:
    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self.sfn: SFNClient = client or boto3.client("stepfunctions")

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        try:
            self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as exc:
            # A name is unique per state machine for 90 days: the request was started already.
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise StartError(f"start {name}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StartError(f"start {name}") from exc
        return True
