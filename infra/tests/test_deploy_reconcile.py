"""Deploying into the emulator: what moto's CloudFormation skips is reconciled from the template,
and a resource type that is neither deployed nor reconciled fails the deploy by name."""

from __future__ import annotations

import importlib
import io
import json
import shutil
import time
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any

import pytest
from rocket_infra import aws, deploy, project, reconcile, resources, templates
from rocket_infra.emulator import Emulator

FIXTURES = Path(__file__).parent / "fixtures"


def _drain(sqs: Any, queue_url: str) -> None:
    """Empty a queue (PurgeQueue is allowed once a minute per queue)."""
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch],
        )


def _client(emulator: Emulator, name: str) -> Any:
    return aws.client(name, endpoint_url=emulator.endpoint_url)


def _receive_all(sqs: Any, queue_url: str, expected: int, timeout: float = 5.0) -> list[Any]:
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(messages) < expected:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        messages.extend(batch)
    # one more short look: nothing else may have arrived
    messages.extend(
        sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    )
    return messages


def test_subscription_filter_and_raw_delivery_work_end_to_end(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    sns, sqs = _client(emulator_server, "sns"), _client(emulator_server, "sqs")
    topic = deploy.exports(_client(emulator_server, "cloudformation"))["rocket-local-EventTopicArn"]
    queue_url = sqs.get_queue_url(QueueName="rocket-local-probe-requests")["QueueUrl"]
    _drain(sqs, queue_url)  # the session's other tests publish there too
    for event_type in ("ingest.job.requested.v1", "ingest.job.started.v1"):
        sns.publish(
            TopicArn=topic,
            Message=json.dumps({"type": event_type}),
            MessageAttributes={"type": {"DataType": "String", "StringValue": event_type}},
        )

    messages = _receive_all(sqs, queue_url, expected=1)

    assert [json.loads(m["Body"]) for m in messages] == [{"type": "ingest.job.requested.v1"}]
    assert messages[0]["MessageAttributes"]["type"]["StringValue"] == "ingest.job.requested.v1"


def test_redeploy_updates_in_place_without_a_second_subscription(
    emulator_server: Emulator, deployed_probe: deploy.Deployed, probe_repo: Path
) -> None:
    sqs = _client(emulator_server, "sqs")
    notify_url = sqs.get_queue_url(QueueName="rocket-local-probe-notify")["QueueUrl"]
    _drain(sqs, notify_url)
    deploy.deploy(
        project.service(probe_repo, "probe"),
        stage="local",
        endpoint_url=emulator_server.endpoint_url,
        repo_root=probe_repo,
    )
    sns = _client(emulator_server, "sns")
    topic = deploy.exports(_client(emulator_server, "cloudformation"))["rocket-local-EventTopicArn"]
    endpoints = [
        s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    ]
    assert endpoints.count("arn:aws:sqs:us-east-1:123456789012:rocket-local-probe-requests") == 1
    # an unchanged notification configuration is not put again (S3 would send an s3:TestEvent)
    assert "Messages" not in sqs.receive_message(QueueUrl=notify_url)


def test_bucket_notification_is_delivered_for_matching_keys_only(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    s3, sqs = _client(emulator_server, "s3"), _client(emulator_server, "sqs")
    bucket = deployed_probe.physical_ids["RawBucket"]
    s3.put_object(Bucket=bucket, Key="incoming/a b.json", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="elsewhere/b.json", Body=b"{}")
    queue_url = sqs.get_queue_url(QueueName="rocket-local-probe-notify")["QueueUrl"]

    bodies = [json.loads(m["Body"]) for m in _receive_all(sqs, queue_url, expected=2)]

    keys = [
        urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        for body in bodies
        for record in body.get("Records", [])
    ]
    assert keys == ["incoming/a b.json"]


def test_bucket_properties_moto_ignores_are_applied(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    s3 = _client(emulator_server, "s3")
    bucket = deployed_probe.physical_ids["RawBucket"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    # server access logs into the platform's bucket, which moto accepts only because that
    # bucket's policy lets the logging service write
    target = deploy.exports(_client(emulator_server, "cloudformation"))[
        "rocket-local-AccessLogBucketName"
    ]
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
        "TargetBucket": target,
        "TargetPrefix": "probe/raw/",
    }


def test_glue_catalog_and_job_exist_as_the_template_says(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    glue = _client(emulator_server, "glue")
    job = glue.get_job(JobName="rocket-local-probe-reprocess")["Job"]
    bucket = deployed_probe.physical_ids["RawBucket"]
    assert job["Command"]["ScriptLocation"] == f"s3://{bucket}/scripts/reprocess.py"
    assert job["DefaultArguments"] == {"--database": "rocket_local_probe"}
    assert job["ExecutionProperty"]["MaxConcurrentRuns"] == 3
    table = glue.get_table(DatabaseName="rocket_local_probe", Name="rows")["Table"]
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]


def test_alarm_ttl_and_function_environment_are_reconciled(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    alarms = _client(emulator_server, "cloudwatch").describe_alarms(
        AlarmNames=["rocket-local-probe-errors"]
    )["MetricAlarms"]
    assert alarms[0]["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:rocket-local-alarms"]
    assert alarms[0]["Dimensions"] == [{"Name": "FunctionName", "Value": "rocket-local-probe"}]
    assert alarms[0]["EvaluationPeriods"] == 2  # a Number parameter, an integer in the API
    ttl = _client(emulator_server, "dynamodb").describe_time_to_live(
        TableName="rocket-local-probe-series"
    )["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    environment = _client(emulator_server, "lambda").get_function_configuration(
        FunctionName="rocket-local-probe"
    )["Environment"]["Variables"]
    # moto resolves !Ref to the (skipped) Glue job to nothing; the reconciler puts it back
    assert environment == {
        "JOB_NAME": "rocket-local-probe-reprocess",
        "MODE": "emulated",
        "TABLE": "rocket-local-probe-series",
    }


def test_state_machine_definition_and_schedule_are_reconciled(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    definition = json.loads(
        _client(emulator_server, "stepfunctions").describe_state_machine(
            stateMachineArn=deployed_probe.physical_ids["Workflow"]
        )["definition"]
    )
    assert definition["States"]["Echo"]["Resource"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:rocket-local-probe"
    )
    schedule = _client(emulator_server, "scheduler").get_schedule(Name="rocket-local-probe-nightly")
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["Target"]["Input"] == '{"source": "schedule"}'


def test_outputs_moto_drops_are_kept(deployed_probe: deploy.Deployed) -> None:
    assert deployed_probe.outputs["ReprocessJobName"] == "rocket-local-probe-reprocess"
    assert deployed_probe.outputs["CatalogName"] == "rocket_local_probe"
    assert deployed_probe.outputs["RequestQueueUrl"].endswith("/rocket-local-probe-requests")


def test_lambda_code_is_uploaded_under_the_code_key(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    bucket = deploy.exports(_client(emulator_server, "cloudformation"))[
        "rocket-local-ArtifactBucketName"
    ]
    body = _client(emulator_server, "s3").get_object(Bucket=bucket, Key="probe/local.zip")["Body"]
    names = zipfile.ZipFile(io.BytesIO(body.read())).namelist()
    assert "probe/handlers/echo.py" in names


def test_glue_scripts_are_uploaded_where_script_locations_point(
    emulator_server: Emulator, deployed_probe: deploy.Deployed, probe_repo: Path
) -> None:
    bucket = deploy.exports(_client(emulator_server, "cloudformation"))[
        "rocket-local-ArtifactBucketName"
    ]
    body = _client(emulator_server, "s3").get_object(Bucket=bucket, Key="probe/glue/reprocess.py")
    script = probe_repo / "services" / "probe" / "glue" / "reprocess.py"
    assert body["Body"].read() == script.read_bytes()


def test_redeploy_removes_what_left_the_template(
    emulator_server: Emulator, fresh_probe_repo: Path
) -> None:
    repo = fresh_probe_repo
    stage = "removal"

    def deploy_probe() -> None:
        for name in (project.PLATFORM, "probe"):
            deploy.deploy(
                project.service(repo, name),
                stage=stage,
                endpoint_url=emulator_server.endpoint_url,
                repo_root=repo,
            )

    deploy_probe()
    path = repo / "services" / "probe" / "template.yaml"
    template = templates.load(path)
    resources = template["Resources"]
    for logical_id in ("RequestSubscription", "ReprocessJob", "FunctionErrorsAlarm"):
        del resources[logical_id]
    resources["NightlySchedule"]["Properties"]["Name"] = f"rocket-{stage}-probe-renamed"
    del resources["RawBucket"]["Properties"]["NotificationConfiguration"]
    resources["Function"]["Properties"]["Environment"]["Variables"]["JOB_NAME"] = "none"
    del template["Outputs"]["ReprocessJobName"]
    path.write_text(json.dumps(template))  # JSON is YAML, and CloudFormation reads both

    deploy_probe()

    cfn, sns = _client(emulator_server, "cloudformation"), _client(emulator_server, "sns")
    topic = deploy.exports(cfn)[f"rocket-{stage}-EventTopicArn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    endpoints = [s["Endpoint"] for s in subscriptions]
    assert not [e for e in endpoints if e.endswith(f"rocket-{stage}-probe-requests")]
    jobs = _client(emulator_server, "glue").get_jobs()["Jobs"]
    assert not [j["Name"] for j in jobs if j["Name"].startswith(f"rocket-{stage}-")]
    alarms = _client(emulator_server, "cloudwatch").describe_alarms(
        AlarmNamePrefix=f"rocket-{stage}-"
    )["MetricAlarms"]
    assert alarms == []
    schedules = _client(emulator_server, "scheduler").list_schedules(NamePrefix=f"rocket-{stage}-")[
        "Schedules"
    ]
    assert [s["Name"] for s in schedules] == [f"rocket-{stage}-probe-renamed"]
    bucket = deploy.physical_ids(cfn, f"rocket-{stage}-probe")["RawBucket"]
    notifications = _client(emulator_server, "s3").get_bucket_notification_configuration(
        Bucket=bucket
    )
    assert not notifications.get("QueueConfigurations")
    # what stayed in the template stays
    glue = _client(emulator_server, "glue")
    assert glue.get_table(DatabaseName=f"rocket_{stage}_probe", Name="rows")["Table"]["Name"]


def test_unsupported_type_fails_the_deploy_by_name(
    emulator_server: Emulator, tmp_path: Path
) -> None:
    folder = tmp_path / "services" / "unsupported"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "unsupported.yaml", folder / "template.yaml")

    with pytest.raises(
        reconcile.UnsupportedResourceError, match=r"Api \(AWS::AppSync::GraphQLApi\)"
    ):
        deploy.deploy(
            project.service(tmp_path, "unsupported"),
            stage="local",
            endpoint_url=emulator_server.endpoint_url,
            repo_root=tmp_path,
        )
    cfn = _client(emulator_server, "cloudformation")
    assert deploy.stack_status(cfn, "rocket-local-unsupported") is None


def test_every_reconciled_type_is_one_moto_skips() -> None:
    # A type in both tables would be created twice; one in neither fails the deploy.
    assert not reconcile.NATIVE & reconcile.RECONCILED.keys()


def test_every_resource_type_module_is_registered() -> None:
    # A module under rocket_infra.resources that TYPES does not list would never run.
    package = Path(resources.__file__).parent
    declared = {
        kind.name
        for path in sorted(package.glob("*.py"))
        if path.stem not in ("__init__", "base")
        for kind in importlib.import_module(f"rocket_infra.resources.{path.stem}").TYPES
    }
    assert declared == set(resources.TYPES)
    fixed_or_created = set(reconcile.RECONCILED) | set(reconcile.PROPERTY_FIXES)
    assert fixed_or_created == declared
    # what is created here can be removed again, but for the harmless topic policy
    assert set(reconcile.RECONCILED) - set(reconcile.REMOVERS) == {"AWS::SNS::TopicPolicy"}


def test_service_deploy_before_platform_says_so(
    emulator_server: Emulator, probe_repo: Path
) -> None:
    with pytest.raises(deploy.DeployError, match="deploy the platform stack first"):
        deploy.deploy(
            project.service(probe_repo, "probe"),
            stage="nothing",
            endpoint_url=emulator_server.endpoint_url,
            repo_root=probe_repo,
        )


def test_template_strings_are_coerced_to_the_api_types() -> None:
    # Number parameters and !Sub results reach the reconciler as strings; the API wants numbers.
    glue = aws.client("glue", endpoint_url="http://127.0.0.1:1")
    create_job = glue.meta.service_model.operation_model("CreateJob").input_shape
    job = reconcile.coerce(
        create_job,
        {
            "Name": "job",
            "ExecutionProperty": {"MaxConcurrentRuns": "50"},
            "MaxCapacity": "0.0625",
            "Timeout": "5",
            "DefaultArguments": {"--count": 3},
            "Tags": {"team": "data"},
        },
    )
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 50}
    assert (job["MaxCapacity"], job["Timeout"]) == (0.0625, 5)
    assert job["DefaultArguments"] == {"--count": "3"}  # a map of strings stays strings
    cloudwatch = aws.client("cloudwatch", endpoint_url="http://127.0.0.1:1")
    put_alarm = cloudwatch.meta.service_model.operation_model("PutMetricAlarm").input_shape
    alarm = reconcile.coerce(
        put_alarm,
        {"Threshold": "900", "EvaluationPeriods": "3", "ActionsEnabled": "false", "Period": 60},
    )
    assert alarm == {
        "Threshold": 900.0,
        "EvaluationPeriods": 3,
        "ActionsEnabled": False,
        "Period": 60,
    }
