"""Execute Amazon States Language definitions in moto's Step Functions engine.

The definitions under test are the ones the components generate; where moto differs
from AWS, this harness adapts moto (never the definition):

- Wait states and Retry intervals do not sleep (the history still records them);
- AWS SDK integration errors are named `<PascalService>.<Error>` as AWS names them
  (moto says `s3.NoSuchKeyException`, AWS says `S3.NoSuchKeyException`; a HEAD on a missing
  key is `S3.NoSuchKeyException` on AWS, where boto3 can only see a bare 404);
- Lambda tasks run a Python callable in-process (`lambda_results`), instead of docker;
- AWS SDK results carry timestamps as ISO-8601 strings, as Step Functions passes them on
  (moto leaves `datetime` objects in the state data and then cannot describe the execution).

Use it from any program's tests::

    with SfnHarness() as h:
        h.s3.create_bucket(...)
        run = h.run(definition, {"key": "a.tar"}, lambda_results={fn_arn: handler})
        assert run.status == "SUCCEEDED", run.describe()
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3

#: AWS's PascalCase service prefixes for error names of `arn:aws:states:::aws-sdk:<service>:*` tasks.
AWS_SDK_ERROR_SERVICE_NAMES = {
    "s3": "S3", "sesv2": "SesV2", "ses": "Ses", "sqs": "Sqs", "sns": "Sns", "eventbridge": "EventBridge",
    "lambda": "Lambda", "apigatewaymanagementapi": "ApiGatewayManagementApi", "pricing": "Pricing",
    "ecr": "Ecr", "cognitoidentityprovider": "CognitoIdentityProvider", "dynamodb": "DynamoDb", "sfn": "Sfn",
    "ssm": "Ssm", "kms": "Kms", "sts": "Sts",
}

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/offline-state-machine"

LambdaHandler = Callable[[Any], Any]


@dataclass
class Execution:
    """The outcome of one execution, read from moto's execution history."""

    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def states(self) -> list[str]:
        """Names of the states entered, in order."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if "stateEnteredEventDetails" in e]

    @property
    def transitions(self) -> int:
        """State transitions (what Standard workflows are billed by): one per state entered."""
        return len(self.states)

    @property
    def lambda_invocations(self) -> int:
        return sum(1 for e in self.history
                   if e["type"] == "LambdaFunctionScheduled"
                   or (e["type"] == "TaskScheduled"
                       and e.get("taskScheduledEventDetails", {}).get("resourceType") == "lambda"))

    def task_failures(self) -> list[dict[str, Any]]:
        return [e for e in self.history if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]

    def describe(self) -> str:
        """A readable summary for assertion messages."""
        return (f"{self.status} error={self.error!r} cause={self.cause!r} states={self.states} "
                f"failures={[e.get('taskFailedEventDetails') for e in self.task_failures()]}")


class SfnHarness:
    """A moto account with Step Functions execution switched on and the adaptations above."""

    def __init__(self, region: str = REGION, timeout_seconds: float = 30.0) -> None:
        self.region = region
        self.timeout_seconds = timeout_seconds
        self.lambda_handlers: dict[str, LambdaHandler] = {}
        self.lambda_calls: list[tuple[str, Any]] = []
        self._stack = ExitStack()
        self._count = 0

    def __enter__(self) -> SfnHarness:
        from moto import mock_aws

        self._stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                                   "lambda": {"use_docker": False}}))
        for patch in self._patches():
            self._stack.enter_context(patch)
        # moto logs every caught task failure with a full state dump; the history has what tests need.
        engine_log = logging.getLogger("moto.stepfunctions")
        self._stack.callback(engine_log.setLevel, engine_log.level)
        engine_log.setLevel(logging.CRITICAL)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def __getattr__(self, service: str) -> Any:
        """`h.s3`, `h.dynamodb`, `h.sesv2`…: boto3 clients against the moto account."""
        if service.startswith("_"):
            raise AttributeError(service)
        return self.client(service)

    def _patches(self) -> Iterator[Any]:
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_aws_sdk as aws_sdk,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

        harness = self

        def invoke(backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
                   response_headers: dict[str, str]) -> bytes:
            return harness._invoke(function_name, body, response_headers)

        yield mock.patch.object(WaitFunction, "_wait_interval", lambda self, env, wait_seconds: None)
        yield mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: None, time=time.time))
        yield mock.patch.dict(aws_sdk._SERVICE_ERROR_NAMES, AWS_SDK_ERROR_SERVICE_NAMES)
        yield mock.patch.object(LambdaSimpleBackend, "invoke", invoke)

        original_eval = aws_sdk.StateTaskServiceAwsSdk._eval_service_task

        def eval_service_task(task: Any, env: Any, *args: Any, **kwargs: Any) -> None:
            original_eval(task, env, *args, **kwargs)
            env.stack.append(_json_safe(env.stack.pop()))

        yield mock.patch.object(aws_sdk.StateTaskServiceAwsSdk, "_eval_service_task", eval_service_task)

        original_name = aws_sdk.StateTaskServiceAwsSdk._normalise_exception_name

        def normalise_exception_name(norm_service_name: str, ex: Exception) -> str:
            # A HEAD has no error body, so boto3 only sees "404"; the SDK Step Functions uses
            # (Java v2) models it as NoSuchKey, which is the name AWS reports.
            code = getattr(ex, "response", {}).get("Error", {}).get("Code")
            if norm_service_name == "S3" and code in ("404", "NoSuchKey"):
                return "S3.NoSuchKeyException"
            return original_name(norm_service_name, ex)

        yield mock.patch.object(aws_sdk.StateTaskServiceAwsSdk, "_normalise_exception_name",
                                staticmethod(normalise_exception_name))

    def _invoke(self, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        handler = self._find_handler(function_name)
        payload = json.loads(body) if body else {}
        self.lambda_calls.append((function_name, payload))
        try:
            result = handler(payload)
        except Exception as error:  # the function failed: Lambda reports an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
        return json.dumps(result).encode()

    def _find_handler(self, function_name: str) -> LambdaHandler:
        for key, handler in self.lambda_handlers.items():
            name = key.split(":function:")[-1].split(":")[0]
            if function_name in (key, name) or function_name.split(":function:")[-1].split(":")[0] == name:
                return handler
        raise KeyError(f"no in-process handler for Lambda function {function_name!r}; "
                       f"known: {sorted(self.lambda_handlers)}")

    def create(self, definition: dict[str, Any] | str, *, name: str | None = None,
               type_: str = "STANDARD") -> str:
        """Create a state machine from a definition; returns its ARN."""
        self._count += 1
        body = definition if isinstance(definition, str) else json.dumps(definition)
        response = self.stepfunctions.create_state_machine(
            name=name or f"machine-{self._count}", definition=body, roleArn=ROLE_ARN, type=type_)
        return response["stateMachineArn"]

    def run(self, definition: dict[str, Any] | str, input: Any = None, *, name: str | None = None,
            lambda_results: dict[str, LambdaHandler] | None = None, state_machine_arn: str | None = None,
            type_: str = "STANDARD") -> Execution:
        """Create (or reuse) a state machine and run one execution to its end."""
        self.lambda_handlers.update(lambda_results or {})
        arn = state_machine_arn or self.create(definition, type_=type_)
        self._count += 1
        # moto names an execution without a name "None" and refuses the second one: always name it.
        started = self.stepfunctions.start_execution(stateMachineArn=arn, name=name or f"run-{self._count}",
                                                     input=json.dumps(input if input is not None else {}))
        return self.wait(started["executionArn"])

    def wait(self, execution_arn: str) -> Execution:
        """Poll until the execution ends (executions run on a moto background thread)."""
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            described = self.stepfunctions.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still RUNNING after {self.timeout_seconds}s")
            time.sleep(0.02)
        history = self._history(execution_arn)
        output = described.get("output")
        failed = next((e for e in reversed(history) if e["type"] == "ExecutionFailed"), None)
        details = (failed or {}).get("executionFailedEventDetails", {})
        return Execution(arn=execution_arn, status=described["status"],
                         output=json.loads(output) if output else None,
                         error=described.get("error") or details.get("error"),
                         cause=described.get("cause") or details.get("cause"), history=history)

    def _history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.stepfunctions.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]


def _json_safe(value: Any) -> Any:
    """SDK results as Step Functions hands them on: timestamps as ISO-8601 strings, bytes as text."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "read"):  # streaming bodies
        return value.read().decode("utf-8", errors="replace")
    return value


@contextmanager
def sfn_harness(region: str = REGION) -> Iterator[SfnHarness]:
    """Function form of `SfnHarness` for pytest fixtures."""
    with SfnHarness(region) as harness:
        yield harness
