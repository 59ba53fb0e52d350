"""What a deploy to the emulator does per CloudFormation type, one module per type: create
what moto's CloudFormation skips (and remove it when it leaves the template), fix what it
ignores. A type gets a module here and a line below; reconcile reads TYPES."""

from __future__ import annotations

from rocket_infra.resources import (
    cloudwatch_alarm,
    dynamodb_table,
    glue_database,
    glue_job,
    glue_table,
    lambda_function,
    s3_bucket,
    s3_bucket_policy,
    scheduler_schedule,
    scheduler_schedule_group,
    sns_subscription,
    sns_topic_policy,
    sqs_queue_policy,
    stepfunctions_state_machine,
)
from rocket_infra.resources.base import ResourceType

TYPES: dict[str, ResourceType] = {
    kind.name: kind
    for module in (
        sns_subscription,
        sns_topic_policy,
        sqs_queue_policy,
        s3_bucket_policy,
        glue_database,
        glue_table,
        glue_job,
        cloudwatch_alarm,
        scheduler_schedule_group,
        scheduler_schedule,
        s3_bucket,
        dynamodb_table,
        stepfunctions_state_machine,
        lambda_function,
    )
    for kind in module.TYPES
}
