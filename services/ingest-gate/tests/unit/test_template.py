"""The gate's IAM role grants only what the gate does, on only its own resources, and its
Glue permissions cover exactly the jobs its ALLOWED_JOBS setting lets it start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ingest_gate.settings import Settings
from rocket_infra import templates
from rocket_infra.templates import Resolver

TEMPLATE = Path(__file__).parents[2] / "template.yaml"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:rocket-prod-events"
TOPIC_KEY = "arn:aws:kms:eu-west-1:111122223333:key/topic"


def resolved(additional_jobs: str) -> dict[str, Any]:
    template = templates.load(TEMPLATE)
    resolver = Resolver(
        template,
        templates.parameter_values(
            template, {"Stage": "prod", "AdditionalJobNames": additional_jobs}
        ),
        physical_ids={
            "RequestQueue": "https://sqs/requests",
            "DeadLetterQueue": "https://sqs/requests-dlq",
            "IdempotencyBucket": "records",
        },
        exports={
            "rocket-prod-EventTopicArn": TOPIC,
            "rocket-prod-EventTopicKeyArn": TOPIC_KEY,
            "rocket-prod-ArtifactBucketName": "artifacts",
            "rocket-prod-AlarmTopicArn": "arn:aws:sns:eu-west-1:111122223333:alarms",
        },
        get_att=lambda logical_id, attribute: f"<{logical_id}.{attribute}>",
        stack_name="rocket-prod-ingest-gate",
        region="eu-west-1",
        account_id="111122223333",
    )
    return {
        "statements": {
            s["Sid"]: s
            for s in resolver.resolve(
                template["Resources"]["GateRole"]["Properties"]["Policies"][0]["PolicyDocument"][
                    "Statement"
                ]
            )
        },
        "environment": resolver.resolve(
            template["Resources"]["GateFunction"]["Properties"]["Environment"]["Variables"]
        ),
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def glue_job_names(statements: dict[str, Any]) -> set[str]:
    return {
        arn.rsplit(":job/", 1)[1]
        for s in statements.values()
        if any(a.startswith("glue:") for a in as_list(s["Action"]))
        for arn in as_list(s["Resource"])
    }


@pytest.mark.parametrize("additional", ["", "sales-backfill,stores-backfill"])
def test_glue_permissions_match_the_allow_list(additional: str) -> None:
    role = resolved(additional)
    allowed = Settings(
        event_topic_arn=TOPIC,
        idempotency_bucket="records",
        allowed_jobs=role["environment"]["ALLOWED_JOBS"],
    ).allowed_jobs

    assert glue_job_names(role["statements"]) == allowed
    expected = {"rocket-prod-ingest-gate-canary", "rocket-prod-etl-layers-reprocess"}
    assert allowed == expected | {name for name in additional.split(",") if name}
    for statement in role["statements"].values():
        if any(a.startswith("glue:") for a in as_list(statement["Action"])):
            assert sorted(as_list(statement["Action"])) == [
                "glue:GetJob",
                "glue:GetJobRuns",
                "glue:StartJobRun",
            ]


def test_additional_jobs_are_pinned_to_the_stack_region() -> None:
    statement = resolved("sales-backfill")["statements"]["StartAdditionalJobs"]
    assert statement["Resource"] == ["arn:aws:glue:*:*:job/sales-backfill"]
    assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert "StartAdditionalJobs" not in resolved("")["statements"]


def test_every_other_permission_is_scoped_to_the_gates_own_resources() -> None:
    role = resolved("")
    statements = role["statements"]
    prefix = role["environment"]["IDEMPOTENCY_PREFIX"]

    actions = {
        sid: sorted(as_list(s["Action"]))
        for sid, s in statements.items()
        if not sid.startswith("Start")
    }
    assert actions == {
        "WriteOwnLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "ConsumeRequests": [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ],
        "QuarantineInvalidRequests": ["sqs:SendMessage"],
        "ReadWriteIdempotencyRecords": ["s3:GetObject", "s3:PutObject"],
        "ListIdempotencyRecords": ["s3:ListBucket"],
        "PublishEvents": ["sns:Publish"],
        "EncryptForEventTopic": ["kms:Decrypt", "kms:GenerateDataKey"],
        "WriteTraces": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
    }
    assert statements["ConsumeRequests"]["Resource"] == "<RequestQueue.Arn>"
    assert statements["QuarantineInvalidRequests"]["Resource"] == "<DeadLetterQueue.Arn>"
    assert statements["ReadWriteIdempotencyRecords"]["Resource"] == (
        f"<IdempotencyBucket.Arn>/{prefix}*"
    )
    assert statements["ListIdempotencyRecords"]["Condition"] == {
        "StringLike": {"s3:prefix": f"{prefix}*"}
    }
    assert statements["PublishEvents"]["Resource"] == TOPIC
    assert statements["EncryptForEventTopic"]["Resource"] == TOPIC_KEY
    assert statements["EncryptForEventTopic"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}
    }
    # X-Ray has no resource-level permissions: the only wildcard resource.
    wildcards = [sid for sid, s in statements.items() if "*" in as_list(s["Resource"])]
    assert wildcards == ["WriteTraces"]
    assert all(s["Effect"] == "Allow" for s in statements.values())
