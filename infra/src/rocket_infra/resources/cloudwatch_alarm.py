"""AWS::CloudWatch::Alarm: put (PutMetricAlarm creates or replaces)."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, call

_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


def _alarm(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    name = str(props.get("AlarmName") or ctx.default_name(logical_id))
    alarm = {key: props[key] for key in _ALARM_KEYS if key in props}
    call(ctx, "cloudwatch", "PutMetricAlarm", AlarmName=name, **alarm)
    return name


def _remove_alarm(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("cloudwatch").delete_alarms(AlarmNames=[record["id"]])


TYPES = (ResourceType("AWS::CloudWatch::Alarm", create=_alarm, remove=_remove_alarm),)
