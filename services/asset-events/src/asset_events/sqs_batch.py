"""The partial batch response of an SQS-fed function, shared by its handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext


def respond(
    event: dict[str, Any], context: LambdaContext, record_handler: Callable[[Any], Any]
) -> PartialItemFailureResponse:
    # A processor per invocation: the local runtime may run invocations concurrently.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
