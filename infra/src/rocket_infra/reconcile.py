"""What the emulator's CloudFormation skips, applied with SDK calls from the same template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Types moto 5.2.5's CloudFormation creates itself (checked: see infra/README.md).
NATIVE: frozenset[str] = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::Events::Rule",
        "AWS::Events::EventBus",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::KMS::Key",
        "AWS::Kinesis::Stream",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Version",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SSM::Parameter",
        "AWS::StepFunctions::StateMachine",
    }
)


class UnsupportedResourceError(ValueError):
    """A resource type the local platform can neither deploy nor reconcile."""


def check_supported(template: Mapping[str, Any], name: str) -> None:
    unsupported = [
        f"{logical_id} ({resource['Type']})"
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") not in NATIVE | RECONCILED.keys()
    ]
    if unsupported:
        raise UnsupportedResourceError(
            f"{name}: not supported by the local platform: {', '.join(unsupported)}"
        )


RECONCILED: dict[str, Any] = {}


def reconcile(
    template: Mapping[str, Any],
    *,
    stack: str,
    parameters: Mapping[str, str],
    endpoint_url: str | None,
    region: str,
) -> None:
    """Apply every skipped resource and ignored property of `template` to the deployed stack."""
