"""AWS::StepFunctions::StateMachine: created through the API when moto serves Step Functions
from the backend its CloudFormation does not write to; its definition kept as the template's."""

from __future__ import annotations

import json
from typing import Any

from rocket_infra.resources.base import Context, ResourceType


def _fix_state_machine(ctx: Context, logical_id: str, props: dict[str, Any]) -> None:
    definition = props.get("DefinitionString")
    if "Definition" in props:
        definition = json.dumps(props["Definition"])
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = (definition or "").replace("${" + key + "}", str(value))
    stepfunctions = ctx.client("stepfunctions")
    arn = ctx.physical_ids[logical_id]
    try:
        deployed = stepfunctions.describe_state_machine(stateMachineArn=arn)
    except stepfunctions.exceptions.StateMachineDoesNotExist:
        # With execute_state_machine on, moto serves the API from a second backend that its
        # CloudFormation does not write to: the machine must be created through the API.
        stepfunctions.create_state_machine(
            name=arn.rsplit(":", 1)[-1],
            definition=definition or "{}",
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )
        return
    if definition is not None and deployed.get("definition") != definition:
        stepfunctions.update_state_machine(stateMachineArn=arn, definition=definition)


TYPES = (
    ResourceType(
        "AWS::StepFunctions::StateMachine",
        fix=_fix_state_machine,
        fix_keys=(
            "Definition",
            "DefinitionString",
            "DefinitionSubstitutions",
            "RoleArn",
            "StateMachineType",
        ),
    ),
)
