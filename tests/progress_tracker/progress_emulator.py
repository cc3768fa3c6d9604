"""Test-only adaptations of moto, so the generated definitions run unchanged.

- `apigateway:invoke`: moto's implementation calls a LocalStack-style URL and cannot even build
  its failure event (`FailureEvent.__init__() missing 'env'`). Here a POST to
  `/@connections/{id}` goes to moto's apigatewaymanagementapi backend (as API Gateway would
  deliver it), a connection listed in `gone` answers HTTP 410, and failures are raised as
  `ApiGateway.<status>`, the name moto's own code (ported from LocalStack's engine) gives them.
- EventBridge: moto's rules cannot deliver to Lambda targets (NotImplementedError); here a
  Lambda target gets the event from an in-process handler, after the rule's pattern matched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3

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
        match = ENDPOINT_RE.match(parameters["ApiEndpoint"])
        if match is None:  # API Gateway only accepts the execute-api host name here
            raise gateway.SfnGatewayException(parameters, FakeResponse(400, '{"message":"bad ApiEndpoint"}'))
        path = parameters.get("Path", "")
        connection_id = path.removeprefix("/@connections/")
        api.attempts.append(connection_id)
        if parameters.get("Method") != "POST" or not path.startswith("/@connections/"):
            raise gateway.SfnGatewayException(parameters, FakeResponse(403, '{"message":"Forbidden"}'))
        if connection_id in api.gone:
            raise gateway.SfnGatewayException(parameters, FakeResponse(410, '{"message":"Gone"}'))
        if connection_id in api.failing:
            raise gateway.SfnGatewayException(parameters, FakeResponse(api.failing[connection_id], "{}"))
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
        return gateway.FailureEvent(
            env=env, error_name=gateway.CustomErrorName(error), event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
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
                original(rule, event, transform_input)
            finally:
                rule.targets = saved

    with mock.patch.object(Rule, "send_to_targets", send_to_targets):
        yield delivered
