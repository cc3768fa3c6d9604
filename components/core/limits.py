"""Numeric limits of the AWS APIs our arguments reach, in one place.

Each limit names the botocore service model, operation and input member it comes from;
tests/core/test_limits.py checks every one against botocore's model, so a limit here can
never drift from AWS's contract. A value that reaches several APIs must fit all of them
(`Validator.integer_for`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiLimit:
    """The range one AWS API accepts for one input member (botocore: shape `min`/`max`)."""

    service: str
    """The botocore service name, e.g. `lambda`."""
    operation: str
    """The API operation, e.g. `PutFunctionEventInvokeConfig`."""
    member: str
    """The member's path in the operation's input, dotted through structures and list members."""
    minimum: int
    maximum: int

    def __str__(self) -> str:
        return f"{self.service} {self.operation} {self.member} ({self.minimum}-{self.maximum})"


#: Lambda asynchronous invocation: how long Lambda keeps an event (seconds).
LAMBDA_ASYNC_MAX_EVENT_AGE = ApiLimit("lambda", "PutFunctionEventInvokeConfig", "MaximumEventAgeInSeconds",
                                      60, 21600)
#: Lambda asynchronous invocation: how often Lambda retries a failed event.
LAMBDA_ASYNC_RETRY_ATTEMPTS = ApiLimit("lambda", "PutFunctionEventInvokeConfig", "MaximumRetryAttempts", 0, 2)
#: EventBridge target retry policy: how long EventBridge retries an event (seconds).
EVENTS_TARGET_MAX_EVENT_AGE = ApiLimit("events", "PutTargets", "Targets.RetryPolicy.MaximumEventAgeInSeconds",
                                       60, 86400)
#: EventBridge target retry policy: how often EventBridge retries an event.
EVENTS_TARGET_RETRY_ATTEMPTS = ApiLimit("events", "PutTargets", "Targets.RetryPolicy.MaximumRetryAttempts",
                                        0, 185)

LIMITS: tuple[ApiLimit, ...] = (LAMBDA_ASYNC_MAX_EVENT_AGE, LAMBDA_ASYNC_RETRY_ATTEMPTS,
                                EVENTS_TARGET_MAX_EVENT_AGE, EVENTS_TARGET_RETRY_ATTEMPTS)
