"""Execute Amazon States Language definitions in moto's Step Functions engine.

The definitions under test are the ones the components generate; where moto differs
from AWS, this harness adapts moto (never the definition):

- Wait states and Retry intervals do not sleep (the history still records them);
- AWS SDK integration errors are named `<PascalService>.<Error>` as AWS names them
  (moto says `s3.NoSuchKeyException`, AWS says `S3.NoSuchKeyException`). A HEAD answer has no
  body, so the SDK behind Step Functions reports a missing key either as `S3.NoSuchKeyException`
  or as the generic `S3.S3Exception` with "Status Code: 404" in the cause: `head_404_error`
  picks the shape, so a workflow can be tested against both;
- optimized DynamoDB integration errors carry the SDK's exception class names, as AWS names
  them: a modelled error is `DynamoDB.<Shape>` with `Exception` appended where the shape lacks it
  (`RequestLimitExceeded` -> `DynamoDB.RequestLimitExceededException`), and an error without a
  class of its own is `DynamoDB.AmazonDynamoDBException` (moto uses the bare error code);
- `role_policies`: S3 answers a HeadObject/GetObject on a missing key with 403, not 404, unless
  the caller may `s3:ListBucket` on the bucket (`emulate_missing_key_access`); moto always
  answers 404;
- AWS SDK parameter names: Step Functions takes them in PascalCase even where the service models them
  camelCase (API Gateway's `usagePlanId` is `UsagePlanId`) and answers in PascalCase too
  (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html, "API naming
  conventions"); moto hands the names to boto3 as written, so for services modelled in camelCase the harness
  maps them by the operation's shapes both ways (moto's own shape walkers), and names their errors
  `ApiGateway.<Error>Exception` as the SDK does; `cognitoidentityprovider` is botocore's `cognito-idp`;
- Lambda tasks run a Python callable in-process (`lambda_results`), instead of docker;
- AWS SDK results carry timestamps as ISO-8601 strings, as Step Functions passes them on
  (moto leaves `datetime` objects in the state data and then cannot describe the execution);
- `emulate_apigateway_invoke`: moto's `apigateway:invoke` calls a LocalStack-style URL and cannot
  even build its failure event (`FailureEvent.__init__() missing 'env'`); here a POST to
  `/@connections/{id}` goes to moto's apigatewaymanagementapi backend (as API Gateway would
  deliver it), a connection listed as gone answers HTTP 410, and failures are raised as
  `ApiGateway.<status>`, the name moto's own engine (ported from LocalStack's) gives them;
- S3 ListObjectsV2 with `OptionalObjectAttributes=RestoreStatus`: moto ignores the attribute; here each
  archived object with a restore gets `RestoreStatus` (`IsRestoreInProgress`, and `RestoreExpiryDate` once
  restored), as https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreStatus.html describes;
- Distributed Map `ItemBatcher`: moto's ASL grammar has no ItemBatcher; the harness takes it out of the
  definition it hands moto and groups the items itself, each child getting `{"BatchInput", "Items"}` with at
  most `MaxItemsPerBatch` items, as
  https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html describes;
- SDK clients: moto's engine builds a new boto3 client for every task (tens of milliseconds each); the
  harness reuses one client per service and Region (same settings), and parses each JSONPath once (moto
  rebuilds a jsonpath-ng parser for every path it reads), so thousands of tasks stay cheap; the clients the
  harness hands out (`h.s3`, and the one `wait` polls with) are likewise made once per service;
- state data copies: moto's engine deep-copies the state data at every step (and, in an inline Map, the whole
  Map input once per item); `json_deepcopy` gives what `copy.deepcopy` gives, faster for JSON-like data;
- states without `TimeoutSeconds`: moto evaluates each Task, Map and Parallel state on a new thread and waits for
  it up to 99,999,999 seconds; the harness runs that same evaluation in the waiting thread (a state with a time
  limit keeps its thread and timeout);
- the engine clients, JSONPaths, ASL parse trees, state copies and inline states above are the `SPEEDUPS`:
  they change cost, never an answer, and tests/offline/test_sfn_speedups.py runs one workflow with none and with
  each of them and compares history, output and side effects; `SfnHarness(speedups=...)` picks them;
- moto's request dispatch lists every function of a response class to find the action's on every request;
  `moto_action_lookup_without_listing` (on for the whole test session, tests/conftest.py) looks up the one name;
- ASL parsing: moto parses a definition with its ANTLR grammar when the machine is created, again for each
  static analysis and again for each execution (about a second each for a large definition in pure Python).
  The harness keeps the parse tree of each definition that parsed without errors and builds the evaluation
  components afresh from it every time (nothing of one execution is shared with another); a definition
  with syntax errors is parsed and refused as before. CreateStateMachine's check (moto builds the components
  and discards them) runs once per definition text it accepted: building them is a pure function of that text.
  What the builder reads again from a kept tree is read once: a finished rule's text (it formats the whole
  program's text into two error messages per program it builds, needed or not), string literals' values
  and intrinsic functions' parse trees (about a tenth of the bulk and workflow tests);
- waiting: `wait` waits for the end of the execution's engine thread, then reads the status once (it polled
  DescribeExecution every 20 ms, which competed with the engine thread for the interpreter);
- Map iterations: moto starts a worker thread per concurrent iteration (hundreds for a Distributed Map of
  Inline Maps), and its DynamoDB backend is not thread-safe (two concurrent `ADD` updates of one item can
  lose one; DynamoDB applies single-item writes atomically). The harness runs the iterations of each Map on
  one worker, in item order, and makes moto's single-item writes atomic; the outcome per item is the same
  (AWS promises no order), the executions just stay cheap and deterministic;
- Distributed Map grammar: moto's parser only accepts `ExecutionType: STANDARD` children and a
  `ToleratedFailurePercentage` written as a decimal; the harness hands moto `STANDARD` and `100.0` for
  `EXPRESS` and `100` (moto runs every child in-process either way; the history and outputs are the same);
- Distributed Map `ResultWriter`: moto writes an empty manifest; here the children's outputs go to
  `<Prefix>/<map run id>/SUCCEEDED_0.json` and the manifest lists that file, as
  https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html describes;
- `deliver_eventbridge_to_lambda`: moto's rules cannot deliver to Lambda targets
  (NotImplementedError); here a Lambda target gets the event from an in-process handler after
  the rule's pattern matched.

Use it from any program's tests::

    with SfnHarness() as h:
        h.s3.create_bucket(...)
        run = h.run(definition, {"key": "a.tar"}, lambda_results={fn_arn: handler})
        assert run.status == "SUCCEEDED", run.describe()
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3

#: AWS's PascalCase service prefixes for error names of `arn:aws:states:::aws-sdk:<service>:*` tasks.
AWS_SDK_ERROR_SERVICE_NAMES = {
    "s3": "S3", "sesv2": "SesV2", "ses": "Ses", "sqs": "Sqs", "sns": "Sns", "eventbridge": "EventBridge",
    "lambda": "Lambda", "apigatewaymanagementapi": "ApiGatewayManagementApi", "pricing": "Pricing",
    "ecr": "Ecr", "cognitoidentityprovider": "CognitoIdentityProvider", "dynamodb": "DynamoDb", "sfn": "Sfn",
    "ssm": "Ssm", "kms": "Kms", "sts": "Sts", "apigateway": "ApiGateway",
}

#: How a HeadObject on a missing key surfaces in an `aws-sdk:s3:headObject` task: as the modelled
#: NoSuchKey, or as the generic S3 exception whose cause says "Status Code: 404".
HEAD_404_ERRORS = ("S3.NoSuchKeyException", "S3.S3Exception")

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/offline-state-machine"

LambdaHandler = Callable[[Any], Any]

#: Adaptations that only make moto's engine cheaper (see the module docstring). Each computes what moto computes,
#: so an execution's history, output and side effects are the same with or without it;
#: tests/offline/test_sfn_speedups.py runs one workflow with none of them and with each, and compares.
#: `SfnHarness(speedups=...)` picks them.
SPEEDUPS = ("engine_clients", "json_paths", "asl_trees", "state_copies", "inline_untimed_states")


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

    def __init__(self, region: str = REGION, timeout_seconds: float = 30.0, *,
                 head_404_error: str = HEAD_404_ERRORS[0], role_policies: Sequence[str] | None = None,
                 speedups: Collection[str] = SPEEDUPS) -> None:
        """`head_404_error`: one of `HEAD_404_ERRORS`; `role_policies`: the JSON policy documents of the
        role the executions run as (None: a role that may do everything, as moto assumes); `speedups`: which of
        `SPEEDUPS` to apply (all by default; tests compare executions with and without each)."""
        if head_404_error not in HEAD_404_ERRORS:
            raise ValueError(f"head_404_error must be one of {HEAD_404_ERRORS}, not {head_404_error!r}")
        unknown = set(speedups) - set(SPEEDUPS)
        if unknown:
            raise ValueError(f"speedups must be among {SPEEDUPS}, not {sorted(unknown)}")
        self.speedups = tuple(speedups)
        self.region = region
        self.timeout_seconds = timeout_seconds
        self.head_404_error = head_404_error
        self.role_policies = role_policies
        self.lambda_handlers: dict[str, LambdaHandler] = {}
        self.lambda_calls: list[tuple[str, Any]] = []
        self._stack = ExitStack()
        self._clients: dict[str, Any] = {}
        self._count = 0
        #: Set when the engine thread of an execution returns, by execution ARN (see `wait`).
        self._ended: dict[str, Any] = {}
        #: ItemBatcher blocks taken out of the definitions, by Map state name (see `create`).
        self.item_batchers: dict[str, dict[str, Any]] = {}
        #: Child inputs of every Distributed Map run (batches, when batched), in order.
        self.map_batches: list[list[Any]] = []

    def __enter__(self) -> SfnHarness:
        from moto import mock_aws

        self._stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                                   "lambda": {"use_docker": False}}))
        self._stack.callback(self._clients.clear)
        for patch in self._patches():
            self._stack.enter_context(patch)
        if self.role_policies is not None:
            self._stack.enter_context(emulate_missing_key_access(self.role_policies))
        # moto logs every caught task failure with a full state dump; the history has what tests need.
        engine_log = logging.getLogger("moto.stepfunctions")
        self._stack.callback(engine_log.setLevel, engine_log.level)
        engine_log.setLevel(logging.CRITICAL)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def client(self, service: str) -> Any:
        """One boto3 client per service for the harness's lifetime (making one costs tens of milliseconds)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)
        return self._clients[service]

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
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_dynamodb as dynamodb,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

        harness = self

        def invoke(backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
                   response_headers: dict[str, str]) -> bytes:
            return harness._invoke(function_name, body, response_headers)

        yield from _execution_ends(self._ended)
        yield _list_objects_restore_status()
        yield _honour_http_status()
        yield _restore_expiry_at_midnight()
        for speedup in self.speedups:
            yield from _SPEEDUP_PATCHES[speedup]()
        yield from _serial_maps_and_atomic_items()
        yield from self._distributed_map_patches()
        yield mock.patch.object(WaitFunction, "_wait_interval", lambda self, env, wait_seconds: None)
        yield mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: None, time=time.time))
        yield mock.patch.dict(aws_sdk._SERVICE_ERROR_NAMES, AWS_SDK_ERROR_SERVICE_NAMES)
        # Step Functions' SDK service names that botocore spells differently (moto knows only sfn/states).
        yield mock.patch.dict(aws_sdk.StateTaskServiceAwsSdk._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES,
                              {"cognitoidentityprovider": "cognito-idp"})
        yield mock.patch.object(LambdaSimpleBackend, "invoke", invoke)

        original_eval = aws_sdk.StateTaskServiceAwsSdk._eval_service_task

        def eval_service_task(task: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any],
                              *args: Any, **kwargs: Any) -> None:
            operation = _camel_cased_operation(task._get_boto_service_name(), task.resource.api_action)
            if operation is not None:
                task._to_boto_request(normalised_parameters, operation.input_shape)
            original_eval(task, env, resource_runtime_part, normalised_parameters, *args, **kwargs)
            response = _json_safe(env.stack.pop())
            if operation is not None and operation.output_shape is not None:
                task._from_boto_response(response, operation.output_shape)
            env.stack.append(response)

        yield mock.patch.object(aws_sdk.StateTaskServiceAwsSdk, "_eval_service_task", eval_service_task)

        original_name = aws_sdk.StateTaskServiceAwsSdk._normalise_exception_name

        def normalise_exception_name(norm_service_name: str, ex: Exception) -> str:
            # A HEAD has no error body, so boto3 only sees "404" (moto's engine then says S3.S3Exception,
            # with "Status Code: 404" in the cause); the SDK may also model it as NoSuchKey.
            code = getattr(ex, "response", {}).get("Error", {}).get("Code")
            if norm_service_name == "S3" and code == "404":
                return harness.head_404_error
            return original_name(norm_service_name, ex)

        yield mock.patch.object(aws_sdk.StateTaskServiceAwsSdk, "_normalise_exception_name",
                                staticmethod(normalise_exception_name))

        original_ddb = dynamodb.StateTaskServiceDynamoDB._error_cause_from_client_error

        def dynamodb_error(client_error: Any) -> tuple[str, str]:
            _, cause = original_ddb(client_error)
            return dynamodb_error_name(client_error.response["Error"]["Code"]), cause

        yield mock.patch.object(dynamodb.StateTaskServiceDynamoDB, "_error_cause_from_client_error",
                                staticmethod(dynamodb_error))

    def _distributed_map_patches(self) -> Iterator[Any]:
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            distributed_iteration_component as distributed,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
            resource_eval_s3 as writer,
        )

        harness = self
        original_map_run = distributed.DistributedIterationComponent._map_run

        def map_run(component: Any, env: Any, eval_input: Any) -> None:
            items = env.stack.pop()
            batcher = harness.item_batchers.get(eval_input.state_name)
            if batcher is not None:
                size = int(batcher["MaxItemsPerBatch"])
                batch_input = _resolve(batcher.get("BatchInput", {}), env.states.get_input())
                items = [{"BatchInput": batch_input, "Items": items[i:i + size]} for i in range(0, len(items), size)]
            harness.map_batches.append(items)
            eval_input.map_run_record.max_concurrency = 1  # one worker (see the module docstring)
            env.stack.append(items)
            original_map_run(component, env, eval_input)

        def put_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
            parameters = env.stack.pop()
            outputs = env.stack.pop()
            s3 = writer.ResourceEvalS3._get_s3_client(resource_runtime_part=resource_runtime_part,
                                                      state_credentials=state_credentials)
            record = env.map_run_record_pool_manager.get_all().pop()
            run_id = record.map_run_arn.split(":")[-1]
            prefix = parameters.get("Prefix", "")
            prefix = prefix + "/" if prefix and not prefix.endswith("/") else prefix
            results_key = f"{prefix}{run_id}/SUCCEEDED_0.json"
            body = json.dumps([{"Output": json.dumps(o), "Status": "SUCCEEDED"} for o in outputs]).encode()
            s3.put_object(Bucket=parameters["Bucket"], Key=results_key, Body=body)
            manifest = {"DestinationBucket": parameters["Bucket"], "MapRunArn": record.map_run_arn,
                        "ResultFiles": {"FAILED": [], "PENDING": [],
                                        "SUCCEEDED": [{"Key": results_key, "Size": len(body)}]}}
            key = f"{prefix}{run_id}/manifest.json"
            s3.put_object(Bucket=parameters["Bucket"], Key=key, Body=json.dumps(manifest).encode())
            env.stack.append({"MapRunArn": record.map_run_arn,
                              "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": key}})

        yield mock.patch.object(distributed.DistributedIterationComponent, "_map_run", map_run)
        yield mock.patch.object(writer.ResourceEvalS3, "_handle_put_object", staticmethod(put_results))

    def _without_item_batchers(self, definition: dict[str, Any]) -> dict[str, Any]:
        """The definition moto can parse: ItemBatcher blocks removed (and kept for `map_run`), Distributed Map
        fields spelled as moto's grammar wants them (see the module docstring)."""
        def walk(states: dict[str, Any]) -> None:
            for name, state in states.items():
                if state.get("Type") == "Map":
                    if "ItemBatcher" in state:
                        self.item_batchers[name] = state.pop("ItemBatcher")
                    if isinstance(state.get("ToleratedFailurePercentage"), int):
                        state["ToleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])
                    processor = state.get("ItemProcessor") or state.get("Iterator") or {}
                    config = processor.get("ProcessorConfig", {})
                    if config.get("ExecutionType") == "EXPRESS":
                        config["ExecutionType"] = "STANDARD"
                    walk(processor.get("States", {}))
                for branch in state.get("Branches", []):
                    walk(branch.get("States", {}))

        walk(definition.get("States", {}))
        return definition

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
        parsed = json.loads(definition) if isinstance(definition, str) else json.loads(json.dumps(definition))
        body = json.dumps(self._without_item_batchers(parsed))
        response = self.stepfunctions.create_state_machine(
            name=name or f"machine-{self._count}", definition=body, roleArn=ROLE_ARN, type=type_)
        return response["stateMachineArn"]  # type: ignore[no-any-return]

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
        """Wait until the execution ends (executions run on a moto background thread): first for the end of
        its engine thread, then poll its status (the poll alone for an execution the harness did not see start).
        Polling alone cost as much CPU as the execution itself on long runs: every poll is a whole API call
        that contends with the engine thread for the interpreter."""
        deadline = time.monotonic() + self.timeout_seconds
        ended = self._ended.get(execution_arn)
        if ended is not None:
            ended.wait(timeout=max(0.0, deadline - time.monotonic()))
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


#: moto engine modules that build their own boto3 client per task.
_ENGINE_CLIENT_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)


def _execution_ends(ended: dict[str, Any]) -> Iterator[Any]:
    """An event per execution, set when moto's engine thread for it returns, so `wait` need not poll."""
    import threading

    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    def arn_of(worker: Any) -> str | None:
        details = getattr(getattr(worker, "_evaluation_details", None), "execution_details", None)
        return getattr(details, "arn", None)

    original_start: Callable[[Any], None] = ExecutionWorker.start
    original_logic: Callable[[Any], None] = ExecutionWorker._execution_logic

    def start(worker: Any) -> None:
        arn = arn_of(worker)
        if arn is not None:
            ended[arn] = threading.Event()
        original_start(worker)

    def execution_logic(worker: Any) -> None:
        try:
            original_logic(worker)
        finally:
            event = ended.get(arn_of(worker) or "")
            if event is not None:
                event.set()

    yield mock.patch.object(ExecutionWorker, "start", start)
    yield mock.patch.object(ExecutionWorker, "_execution_logic", execution_logic)


def _shared_engine_clients() -> Iterator[Any]:
    """One engine client per (Region, service, task credentials) for the harness's lifetime.

    moto's `boto_client_for` builds a new boto3 client for every task (tens of milliseconds each), always with the
    same settings for a Region and service; botocore clients are thread-safe, so one serves every task. The task's
    `Credentials` role is part of the key, so a moto that starts using it still gets a client per role."""
    import importlib
    import threading

    from moto.stepfunctions.parser.asl.utils import boto_client

    clients: dict[tuple[str, str, str | None], Any] = {}
    lock = threading.Lock()

    def shared(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, getattr(state_credentials, "role_arn", None))
        with lock:
            if key not in clients:
                clients[key] = boto_client.boto_client_for(region, service, state_credentials)
            return clients[key]

    for name in _ENGINE_CLIENT_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "boto_client_for"):
            yield mock.patch.object(module, "boto_client_for", shared)


def _cached_json_paths() -> Iterator[Any]:
    """moto's engine parses every JSONPath on every use; parse each once (parsed paths are immutable)."""
    import threading
    from functools import lru_cache

    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    lock = threading.Lock()
    for module in (json_path, result_path):
        original = module.parse

        @lru_cache(maxsize=4096)
        def cached(path: str, _parse: Any = original) -> Any:
            with lock:  # jsonpath-ng's parser builder is not thread-safe
                return _parse(path)

        yield mock.patch.object(module, "parse", cached)


#: Parse trees of the definitions that parsed without errors, by definition text (see `_cached_asl_trees`).
_ASL_TREES: dict[str, Any] = {}
_ASL_TREES_MAX = 256
#: Definitions moto's CreateStateMachine check accepted (see `_cached_asl_trees`).
_VALID_DEFINITIONS: set[str] = set()


def _cached_asl_trees() -> Iterator[Any]:
    """Parse each definition once: the ANTLR parse tree is kept (the preprocessor only reads it), and the
    evaluation components are built afresh from it for every caller, as moto's own parse returns them.

    CreateStateMachine's check builds those components only to see that building them does not fail, and
    throws them away; building them is a pure function of the definition text, so a definition that passed
    the check once passes it again and is not built a second time for it (a refused one is checked every time).
    """
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = AmazonStateLanguageParser.parse
    original_validate = StepFunctionsParserBackend._validate_definition

    def tree_of(definition: str) -> Any:
        tree = _ASL_TREES.get(definition)
        if tree is None:
            _, tree = original(definition)  # raises ASLParserException on syntax errors: nothing is kept
            if len(_ASL_TREES) >= _ASL_TREES_MAX:
                _ASL_TREES.clear()
            _ASL_TREES[definition] = tree
        return tree

    def parse(definition: str) -> tuple[Any, Any]:
        tree = tree_of(definition)
        return Preprocessor().visit(tree), tree

    def analyse(analyser: Any, definition: str) -> None:
        analyser.visit(tree_of(definition))

    def validate(definition: str) -> None:
        if definition not in _VALID_DEFINITIONS:
            original_validate(definition)  # raises InvalidDefinition: nothing is kept
            if len(_VALID_DEFINITIONS) >= _ASL_TREES_MAX:
                _VALID_DEFINITIONS.clear()
            _VALID_DEFINITIONS.add(definition)

    yield mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse))
    yield mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate))
    yield mock.patch.object(StaticAnalyser, "analyse", analyse)
    yield from _cached_tree_reads()


#: Parse trees of the intrinsic functions (`States.Format(...)`) that parsed, by source text.
_INTRINSIC_TREES: dict[str, Any] = {}


def _cached_tree_reads() -> Iterator[Any]:
    """What the preprocessor reads again from a kept tree at every execution, read once.

    - The text of a finished rule context (`getText`, which joins the text of every token below it): the
      preprocessor asks for the whole program's text twice per program it builds, for error messages it
      formats before it knows whether it needs them. A context is finished once the parser has set its `stop`
      token; its children never change after that, so neither does its text.
    - The value of a string literal (`from_string_literal`, an `ast.literal_eval` of the literal's text).
    - The parse tree of an intrinsic function, kept as the definitions' trees are (the functions are built
      afresh from it for every caller, as moto's own parse returns them).
    """
    from antlr4.RuleContext import RuleContext  # type: ignore[import-untyped]
    from moto.stepfunctions.parser.asl.antlt4utils import antlr4utils
    from moto.stepfunctions.parser.asl.parse import preprocessor
    from moto.stepfunctions.parser.asl.parse.intrinsic.intrinsic_parser import IntrinsicParser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import Preprocessor as IntrinsicPreprocessor

    if getattr(preprocessor, "from_string_literal", None) is not antlr4utils.from_string_literal:
        raise RuntimeError("moto's preprocessor no longer reads string literals with from_string_literal: "
                           "review the asl_trees speedup")
    original_text: Callable[[Any], str] = RuleContext.getText
    original_literal: Callable[..., Any] = antlr4utils.from_string_literal
    original_intrinsic: Callable[[str], tuple[Any, Any]] = IntrinsicParser.parse

    def get_text(context: Any) -> str:
        cached: str | None = getattr(context, "__dict__", {}).get("_harness_text")
        if cached is not None:
            return cached
        text = original_text(context)
        if getattr(context, "stop", None) is not None and hasattr(context, "__dict__"):
            context.__dict__["_harness_text"] = text
        return text

    @cache
    def literal_of(text: str) -> Any:
        return original_literal(SimpleNamespace(getText=lambda: text))

    def from_string_literal(parser_rule_context: Any) -> Any:
        return literal_of(parser_rule_context.getText())

    def intrinsic(src: str) -> tuple[Any, Any]:
        tree = _INTRINSIC_TREES.get(src)
        if tree is None:
            _, tree = original_intrinsic(src)
            if len(_INTRINSIC_TREES) >= _ASL_TREES_MAX:
                _INTRINSIC_TREES.clear()
            _INTRINSIC_TREES[src] = tree
        return IntrinsicPreprocessor().visit(tree), tree

    yield mock.patch.object(RuleContext, "getText", get_text)
    yield mock.patch.object(preprocessor, "from_string_literal", from_string_literal)
    yield mock.patch.object(IntrinsicParser, "parse", staticmethod(intrinsic))


_ATOMIC_JSON = frozenset({str, int, float, bool, type(None)})


def json_deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """`copy.deepcopy`, with its dispatch done inline for the values state data is made of.

    The same result as `copy.deepcopy(value, memo)` for every value: str/int/float/bool/None are returned as
    they are (deepcopy's atomic types); a dict, list or (plain) OrderedDict is rebuilt in order with each member
    copied, registered in `memo` first, so shared and self-referencing members come out shared as deepcopy leaves
    them; anything else goes to `copy.deepcopy` with the same memo. About 2.5 times faster on JSON-like data.
    """
    cls = type(value)
    if cls in _ATOMIC_JSON:
        return value
    if memo is None:
        memo = {}
    else:
        done = memo.get(id(value))
        if done is not None:
            return done
    if cls is dict or (cls is OrderedDict and not vars(value)):
        out: dict[Any, Any] = cls()
        memo[id(value)] = out
        for key, item in value.items():
            out[key if type(key) in _ATOMIC_JSON else json_deepcopy(key, memo)] = \
                item if type(item) in _ATOMIC_JSON else json_deepcopy(item, memo)
        return out
    if cls is list:
        copied: list[Any] = []
        memo[id(value)] = copied
        copied.extend([item if type(item) in _ATOMIC_JSON else json_deepcopy(item, memo) for item in value])
        return copied
    return copy.deepcopy(value, memo)


class _JsonFirstCopyModule:
    """Stands in for the `copy` module in moto's engine modules: `deepcopy` is `json_deepcopy`, the rest is `copy`."""

    deepcopy = staticmethod(json_deepcopy)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


#: moto engine modules that deep-copy state data (input, results, context, the evaluation stack) at every step.
_STATE_COPY_MODULES = (
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.environment",
    "moto.stepfunctions.parser.asl.eval.event.event_manager",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
)


def _json_first_state_copies() -> Iterator[Any]:
    """moto's engine deep-copies the state data at every step (`States.reset`, `get_input`, `set_result`, the
    evaluation stack of each state...); for an inline Map it copies the whole Map input once per item. These modules
    copy with `json_deepcopy`, which returns what `copy.deepcopy` returns (see there) in less time. A module that no
    longer imports `copy` as a module fails here, so a moto change cannot slip past the adaptation."""
    import importlib

    for name in _STATE_COPY_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "copy", None) is not copy:
            raise RuntimeError(f"{name} no longer uses the copy module: review the state_copies speedup")
        yield mock.patch.object(module, "copy", _JsonFirstCopyModule())


class _InlineThread:
    """Stands in for the thread moto starts to evaluate one state: `start` runs its target in the calling thread."""

    daemon = True

    def __init__(self, target: Callable[[], None]) -> None:
        self._target = target

    def start(self) -> None:
        self._target()

    def join(self, timeout: float | None = None) -> None:
        return None

    def is_alive(self) -> bool:
        return False


def _inline_untimed_states() -> Iterator[Any]:
    """States without a time limit are evaluated in the thread that reaches them.

    moto evaluates every Task, Map and Parallel state on a thread of its own and waits for it with the state's
    `TimeoutSeconds` (`ExecutionState._evaluate_with_timeout`); without one, moto waits 99,999,999 seconds, a wait
    that cannot end before the state does. For such a state the harness runs the same function (moto's own, with
    its own error capture) in the waiting thread instead, so the wait finds it done: the same history and output,
    without a thread start and two thread switches per state. A state with `TimeoutSeconds` or `TimeoutSecondsPath`
    keeps its thread and its timeout. If moto stops building that thread with `execute_state.Thread(target=...)`,
    this fails (or leaves the thread as it is) instead of guessing."""
    import threading

    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    if getattr(execute_state, "Thread", None) is not threading.Thread:
        raise RuntimeError("moto's execute_state no longer starts threading.Thread: review inline_untimed_states")
    untimed = threading.local()
    original: Callable[[Any, Any], None] = execute_state.ExecutionState._evaluate_with_timeout

    def evaluate_with_timeout(state: Any, env: Any) -> None:
        timeout = state.timeout
        outer = getattr(untimed, "next_thread", False)
        untimed.next_thread = (type(timeout) is TimeoutSeconds
                               and timeout.timeout_seconds == TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS)
        try:
            original(state, env)
        finally:
            untimed.next_thread = outer

    def thread(*args: Any, **kwargs: Any) -> Any:
        if getattr(untimed, "next_thread", False) and not args and "target" in kwargs \
                and set(kwargs) <= {"target", "daemon"}:
            untimed.next_thread = False  # only the one thread this evaluation starts
            return _InlineThread(kwargs["target"])
        return threading.Thread(*args, **kwargs)

    yield mock.patch.object(execute_state, "Thread", thread)
    yield mock.patch.object(execute_state.ExecutionState, "_evaluate_with_timeout", evaluate_with_timeout)


def _serial_maps_and_atomic_items() -> Iterator[Any]:
    """One worker per Map state; DynamoDB single-item writes under one lock (see the module docstring)."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import (
        InlineIterationComponent,
    )

    original_eval_body = InlineIterationComponent._eval_body

    def eval_body(component: Any, env: Any) -> None:
        eval_input = env.stack[-1]
        eval_input.max_concurrency = 1
        record = getattr(eval_input, "map_run_record", None)
        if record is not None:
            record.max_concurrency = 1
        original_eval_body(component, env)

    yield mock.patch.object(InlineIterationComponent, "_eval_body", eval_body)
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def atomic(backend: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(backend, *args, **kwargs)

        yield mock.patch.object(DynamoDBBackend, name, atomic)


#: The patches of each of `SPEEDUPS`.
_SPEEDUP_PATCHES: dict[str, Callable[[], Iterator[Any]]] = {
    "engine_clients": _shared_engine_clients, "json_paths": _cached_json_paths, "asl_trees": _cached_asl_trees,
    "state_copies": _json_first_state_copies, "inline_untimed_states": _inline_untimed_states,
}


@cache
def _camel_cased_operation(service: str, api_action: str) -> Any:
    """botocore's operation model when the service models members in camelCase (else None: names pass as is)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    operation = model.operation_model(api_action[:1].upper() + api_action[1:])
    shapes = [s for s in (operation.input_shape, operation.output_shape) if s is not None]
    if any(name[:1].islower() for shape in shapes for name in shape.members):
        return operation
    return None


def _resolve(template: Any, data: Any) -> Any:
    """Parameters-style `"name.$": "$.path"` fields against `data` (plain paths only)."""
    if not isinstance(template, dict):
        return template
    out: dict[str, Any] = {}
    for name, value in template.items():
        if name.endswith(".$") and isinstance(value, str) and value.startswith("$."):
            found = data
            for part in value[2:].split("."):
                found = found[part]
            out[name[:-2]] = found
        else:
            out[name] = _resolve(value, data)
    return out


def _list_objects_restore_status() -> Any:
    """ListObjectsV2 answers `RestoreStatus` per object when asked (x-amz-optional-object-attributes)."""
    from moto.s3.responses import S3Response

    original = S3Response.list_objects_v2

    def list_objects_v2(response: Any) -> Any:
        wanted = "RestoreStatus" in str(response.headers.get("x-amz-optional-object-attributes", ""))
        serialized = response.serialized

        def with_restore_status(action_result: Any) -> Any:
            result = action_result.result
            bucket = response.backend.get_bucket(result["Name"])
            for item in result.get("Contents", []) if wanted else []:
                key = bucket.keys.get(item["Key"])
                expiry = getattr(key, "_expiry", None)
                if key is None or expiry is None:
                    continue  # never restored: AWS leaves RestoreStatus out
                status: dict[str, Any] = {"IsRestoreInProgress": key.status == "IN_PROGRESS"}
                if key.status != "IN_PROGRESS":
                    status["RestoreExpiryDate"] = expiry
                item["RestoreStatus"] = status
            return serialized(action_result)

        response.serialized = with_restore_status
        try:
            return original(response)
        finally:
            del response.serialized

    return mock.patch.object(S3Response, "list_objects_v2", list_objects_v2)


def _restore_expiry_at_midnight() -> Any:
    """A restored copy expires at the midnight UTC after the restore plus its days (moto: to the second).

    S3 User Guide, "Restoring an archived object"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html): "Amazon S3 calculates the
    expiry date by adding the number of days that you specify in the restoration request to the time when
    the requested restoration is completed. Amazon S3 then rounds the resulting time to the next day at
    midnight Universal Coordinated Time (UTC)."
    """
    from moto.s3.models import FakeKey

    original = FakeKey.restore

    def restore(key: Any, days: int) -> None:
        original(key, days)
        expiry = key._expiry
        midnight = expiry.replace(hour=0, minute=0, second=0, microsecond=0)
        key._expiry = midnight if midnight == expiry else midnight + datetime.timedelta(days=1)

    return mock.patch.object(FakeKey, "restore", restore)


def s3_error(status: int, code: str, message: str) -> Exception:
    """An S3 error answer with its real HTTP status, to raise from a patched moto backend.

    moto sends an error code its S3 model does not describe (SlowDown, InternalError, OperationAborted,
    ...) with status 400; the harness sends this one with `status`, as S3 does
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
    """
    from moto.s3.exceptions import S3ClientError

    error = S3ClientError(code, message)
    error.http_status = status  # type: ignore[attr-defined]
    return error


def _honour_http_status() -> Any:
    import moto.core.serialize as serialize

    original = serialize.get_error_model  # type: ignore[attr-defined]

    def get_error_model(exception: Exception, *args: Any, **kwargs: Any) -> Any:
        shape = original(exception, *args, **kwargs)
        status = getattr(exception, "http_status", None)
        if status is not None:
            shape = copy.copy(shape)
            shape.metadata = {**shape.metadata, "error": {**shape.metadata.get("error", {}), "httpStatusCode": status}}
        return shape

    return mock.patch.object(serialize, "get_error_model", get_error_model)


def sdk_exception_class(shape: str) -> str:
    """The SDK's exception class for a modelled error shape: `Exception` appended unless already there."""
    return shape if shape.endswith("Exception") else f"{shape}Exception"


@cache
def _error_shapes(botocore_service: str) -> frozenset[str]:
    import botocore.session

    return frozenset(s.name for s in botocore.session.get_session().get_service_model(botocore_service).error_shapes)


def dynamodb_error_name(code: str) -> str:
    """The error an optimized `arn:aws:states:::dynamodb:*` task raises for a DynamoDB error code.

    Modelled errors keep their SDK class name; the others share the SDK's base class. Sources:
    the Step Functions Developer Guide's sample "Invoke Synchronous Express Workflows through API
    Gateway" retries `DynamoDB.AmazonDynamoDBException`
    (https://docs.aws.amazon.com/step-functions/latest/dg/synchronous-execution.html, also
    awsdocs/aws-step-functions-developer-guide doc_source/synchronous-execution.md), and the
    LocalStack engine moto ports names the same base class `_ERROR_NAME_AWS`.
    """
    if code in _error_shapes("dynamodb"):
        return f"DynamoDB.{sdk_exception_class(code)}"
    return "DynamoDB.AmazonDynamoDBException"


#: botocore service model of each `aws-sdk:` service prefix whose error names are checked.
_SDK_MODELS = {"s3": "s3", "sesv2": "sesv2", "ses": "ses", "sqs": "sqs", "sns": "sns", "lambda": "lambda",
               "dynamodb": "dynamodb", "sfn": "stepfunctions", "kms": "kms", "sts": "sts",
               "apigatewaymanagementapi": "apigatewaymanagementapi", "pricing": "pricing", "ecr": "ecr"}


def aws_error_names(resource: str) -> frozenset[str] | None:
    """Every error name a Task with this `Resource` can raise on AWS (None: not known here).

    - `aws-sdk:<service>:<action>`: `<Service>.<SDK exception class>` of each modelled error,
      the service's base exception (`S3.S3Exception`) and `<Service>.SdkClientException`;
    - optimized `dynamodb:*`: see `dynamodb_error_name`;
    - optimized `lambda:invoke`: the Lambda errors the Step Functions guide lists
      (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html) plus
      the modelled ones.
    """
    if resource.startswith("arn:aws:states:::aws-sdk:"):
        service = resource.split(":")[6]
        prefix = AWS_SDK_ERROR_SERVICE_NAMES.get(service)
        model = _SDK_MODELS.get(service)
        if prefix is None or model is None:
            return None
        return frozenset({f"{prefix}.{sdk_exception_class(shape)}" for shape in _error_shapes(model)}
                         | {f"{prefix}.{prefix}Exception", f"{prefix}.SdkClientException"})
    if resource.startswith("arn:aws:states:::dynamodb:"):
        return frozenset({dynamodb_error_name(shape) for shape in _error_shapes("dynamodb")}
                         | {"DynamoDB.AmazonDynamoDBException", "DynamoDB.SdkClientException"})
    if resource.startswith("arn:aws:states:::lambda:invoke"):
        return frozenset({f"Lambda.{sdk_exception_class(shape)}" for shape in _error_shapes("lambda")}
                         | {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"})
    return None


def policies_allow(policies: Sequence[str], action: str, resource: str) -> bool:
    """Whether identity policy documents (JSON) allow `action` on `resource` (moto's IAM evaluator)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    results = [IAMPolicy(document).is_action_permitted(action, resource) for document in policies]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


@contextmanager
def emulate_missing_key_access(policies: Sequence[str]) -> Iterator[None]:
    """HeadObject/GetObject on a missing key answer 403 unless `policies` allow `s3:ListBucket` on the bucket.

    S3 API reference, HeadObject, "Permissions"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html): "If the object you request
    doesn't exist, the error that Amazon S3 returns depends on whether you also have the s3:ListBucket
    permission. If you have the s3:ListBucket permission on the bucket, Amazon S3 returns an HTTP status
    code 404 Not Found error. If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP
    status code 403 Forbidden error." GetObject says the same
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). moto answers 404 either way.
    """
    from moto.s3.exceptions import S3ClientError
    from moto.s3.responses import S3Response

    class AccessDenied(S3ClientError):
        code = 403  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__("AccessDenied", "Access Denied")

    def guard(response: Any, bucket: str, key: str) -> None:
        if response.backend.get_object(bucket, key) is None and not policies_allow(
                policies, "s3:ListBucket", f"arn:aws:s3:::{bucket}"):
            raise AccessDenied()

    original_head, original_get_key = S3Response.head_object, S3Response._get_key

    def head_object(response: Any, bucket_name: str, query: dict[str, Any], key_name: str,
                    headers: dict[str, Any]) -> Any:
        if not query.get("versionId"):
            try:
                guard(response, bucket_name, key_name)
            except AccessDenied:
                return 403, {}, ""  # a HEAD answer has no body
        return original_head(response, bucket_name, query, key_name, headers)

    def get_key(response: Any, validate_storage_class: bool = True) -> Any:
        if not response.querystring.get("versionId"):
            guard(response, response.bucket_name, response.parse_key_name())
        return original_get_key(response, validate_storage_class)

    with mock.patch.object(S3Response, "head_object", head_object), \
            mock.patch.object(S3Response, "_get_key", get_key):
        yield


class FunctionNames:
    """The names of a class's functions as `inspect.getmembers(cls, inspect.isfunction)` lists them, answering `in`
    for one name without listing them all.

    `getmembers` takes every name `dir(cls)` gives and keeps those whose `getattr(cls, name)` is a plain function.
    Under a metaclass that neither lists nor invents names of its own (`type`, `ABCMeta`: `dir` is every name of the
    class and its bases, and `getattr` finds nothing else that is a function), that is
    `inspect.isfunction(getattr(cls, name, None))` for a string name. Other classes are answered by listing."""

    def __init__(self, clazz: type) -> None:
        self.clazz = clazz

    @staticmethod
    def answers_for(clazz: type) -> bool:
        meta = type(clazz)
        return meta.__dir__ is type.__dir__ and getattr(meta, "__getattr__", None) is None

    def __contains__(self, name: object) -> bool:
        import inspect

        if isinstance(name, str) and self.answers_for(self.clazz):
            return inspect.isfunction(getattr(self.clazz, name, None))
        return name in [n for n, _ in inspect.getmembers(self.clazz, inspect.isfunction)]


@contextmanager
def moto_action_lookup_without_listing() -> Iterator[None]:
    """moto's dispatch (`BaseResponse.call_action`) checks `action in method_names_from_class(type(self))` on every
    request, and that lists every function of the response class with `inspect.getmembers`: hundreds of `getattr`
    calls per request (a few percent of a Step Functions test). Its only use is that `in`, which `FunctionNames`
    answers for the one name, exactly as the list would (tests/offline/test_sfn_speedups.py compares both for
    every name of moto's response classes). It first checks that moto's list still holds what `FunctionNames` says
    for its base response class, so a moto change fails here instead of diverging."""
    from moto.core import responses

    base = responses.BaseResponse
    listed = responses.method_names_from_class(base)  # type: ignore[attr-defined]
    if set(listed) != {n for n in dir(base) if n in FunctionNames(base)}:
        raise RuntimeError("moto's method_names_from_class changed its meaning: review this adaptation")
    with mock.patch.object(responses, "method_names_from_class", FunctionNames):
        yield


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


ENDPOINT_RE = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


@dataclass
class FakeResponse:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class ConnectionsApi:
    """What the emulated @connections endpoint saw."""

    gone: set[str] = field(default_factory=set)
    failing: dict[str, int] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)

    def messages(self, connection_id: str) -> list[dict[str, Any]]:
        return [p["body"] for p in self.posts if p["connectionId"] == connection_id]


@contextmanager
def emulate_apigateway_invoke(api: ConnectionsApi) -> Iterator[ConnectionsApi]:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_api_gateway as gateway,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def eval_service_task(task: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any],
                          *args: Any, **kwargs: Any) -> None:
        parameters = normalised_parameters

        def refuse(status: int, body: str) -> Exception:
            # moto types these as its own TaskParameters and requests Response; AWS's fields are what counts.
            return gateway.SfnGatewayException(parameters, FakeResponse(status, body))  # type: ignore[arg-type]

        match = ENDPOINT_RE.fullmatch(parameters["ApiEndpoint"])
        if match is None:  # API Gateway only accepts the execute-api host name here
            raise refuse(400, '{"message":"bad ApiEndpoint"}')
        path = parameters.get("Path", "")
        connection_id = path.removeprefix("/@connections/")
        api.attempts.append(connection_id)
        if parameters.get("Method") != "POST" or not path.startswith("/@connections/"):
            raise refuse(403, '{"message":"Forbidden"}')
        if connection_id in api.gone:
            raise refuse(410, '{"message":"Gone"}')
        if connection_id in api.failing:
            raise refuse(api.failing[connection_id], "{}")
        body = parameters.get("RequestBody")
        client = boto3.client("apigatewaymanagementapi", region_name=match["region"],
                              endpoint_url=f"https://{parameters['ApiEndpoint']}/{parameters.get('Stage', '')}")
        client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(body).encode())
        api.posts.append({"connectionId": connection_id, "stage": parameters.get("Stage"),
                          "auth": parameters.get("AuthType"), "api": match["api"], "body": body})
        env.stack.append({"ResponseBody": {}, "StatusCode": 200, "StatusText": "OK", "Headers": {}})

    def from_error(task: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, gateway.SfnGatewayException):
            error, cause = f"ApiGateway.{ex.response.status_code}", ex.response.text
        else:
            error, cause = f"ApiGateway.{type(ex).__name__}", str(ex)
        return gateway.FailureEvent(  # type: ignore[attr-defined]
            env=env, error_name=gateway.CustomErrorName(error),  # type: ignore[attr-defined]
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(  # type: ignore[typeddict-item]
                error=error, cause=cause, resource=task._get_sfn_resource(),
                resourceType=task._get_sfn_resource_type())))

    # moto drops every parameter but ApiEndpoint and Method; AWS takes all of these.
    supported = {"ApiEndpoint", "Method", "Headers", "Stage", "Path", "QueryParameters", "RequestBody", "AuthType"}
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(gateway.StateTaskServiceApiGateway, "_eval_service_task",
                                              eval_service_task))
        stack.enter_context(mock.patch.object(gateway.StateTaskServiceApiGateway, "_from_error", from_error))
        stack.enter_context(mock.patch.object(gateway.StateTaskServiceApiGateway, "_get_supported_parameters",
                                              lambda task: supported))
        yield api


@contextmanager
def deliver_eventbridge_to_lambda(handlers: dict[str, Callable[[dict[str, Any]], Any]]) -> Iterator[list[Any]]:
    """Rules with a Lambda target call `handlers[target_arn](event)`; returns the delivered events."""
    from moto.events.models import Rule

    delivered: list[Any] = []
    original = Rule.send_to_targets

    def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        if not rule.event_pattern.matches_event(event):
            return
        others = []
        for target in rule.targets:
            if ":lambda:" in target["Arn"]:
                delivered.append(event)
                handlers[target["Arn"]](json.loads(json.dumps(event, default=str)))
            else:
                others.append(target)
        if others:
            saved = rule.targets
            rule.targets = others
            try:
                original(rule, event, transform_input)  # type: ignore[arg-type]
            finally:
                rule.targets = saved

    with mock.patch.object(Rule, "send_to_targets", send_to_targets):
        yield delivered


@contextmanager
def sfn_harness(region: str = REGION) -> Iterator[SfnHarness]:
    """Function form of `SfnHarness` for pytest fixtures."""
    with SfnHarness(region) as harness:
        yield harness
