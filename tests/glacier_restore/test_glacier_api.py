"""POST /restores end to end: the component's mapping templates around the workflow executed in moto.

The request template (rendered as API Gateway renders it) builds the StartSyncExecution call, the request
workflow runs in moto, and the response template turns the execution result into the HTTP answer. The
answer must be truthful: a failed execution is never reported as a success.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.s3.exceptions import S3ClientError

from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app

from .apigateway_vtl import Rendered, render
from .conftest import ACCOUNT, ARGS, REGION, build
from .workflow_env import ALICE, DEEP, STANDARD, Archive, Deployed

_request_ids = itertools.count(1)


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    return Deployed.build()


@pytest.fixture
def archive(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Archive]:
    for name, value in deployed.cost_environment.items():
        monkeypatch.setenv(name, value)
    importlib.reload(cost_app)
    with deployed.harness() as h:
        yield Archive(h, deployed).setup()


def _templates(deployed: Deployed) -> tuple[str, str]:
    integration = deployed.stack.one("aws:apigateway/integration:Integration", "restores").inputs
    response = next(r for r in deployed.stack.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
                    if r.inputs["statusCode"] == "200").inputs
    return integration["requestTemplates"]["application/json"], response["responseTemplates"]["application/json"]


def post(archive: Archive, body: dict[str, Any], user_arn: str = ALICE,
         claims: dict[str, str] | None = None) -> Rendered:
    """What a caller of POST /restores gets back."""
    request_template, response_template = _templates(archive.deployed)
    request_id = f"0000000{next(_request_ids)}-7b61-11e6-9a41-93e8deadbeef"
    start = json.loads(render(request_template, json.dumps(body), user_arn=user_arn, claims=claims,
                              request_id=request_id).body)
    machine = archive.deployed.stack.one("aws:sfn/stateMachine:StateMachine", "gr-request")
    assert start["stateMachineArn"] == machine.outputs["arn"] and start["name"] == request_id
    run = archive.h.run(archive.deployed.request_definition, json.loads(start["input"]),
                        state_machine_arn=archive.request_arn, name=request_id)
    result: dict[str, Any] = {"executionArn": run.arn, "status": run.status}
    if run.status == "SUCCEEDED":
        result["output"] = json.dumps(run.output)
    else:
        result.update({"error": run.error, "cause": run.cause})
    return render(response_template, json.dumps(result), request_id=request_id)


def test_an_accepted_restore_is_a_202_with_the_workflow_answer(archive: Archive) -> None:
    answer = post(archive, {"key": DEEP, "tier": "Bulk", "days": 3, "email": "alice@research.example.org"})
    assert answer.status == 202
    assert answer.json()["outcome"] == "restore-started" and answer.json()["tier"] == "Bulk"
    record = archive.record(DEEP)
    assert record is not None and record["principals"]["SS"] == [ALICE]  # the caller API Gateway authenticated


@pytest.mark.parametrize(("days", "outcome"), [(1, "already-restored"), (10, "restore-extended")])
def test_an_object_already_restored_is_a_200(archive: Archive, days: int, outcome: str) -> None:
    archive.h.s3.restore_object(Bucket=archive.deployed.bucket, Key=DEEP, RestoreRequest={"Days": 2})
    answer = post(archive, {"key": DEEP, "days": days, "email": "alice@research.example.org"})
    assert answer.status == 200 and answer.json()["outcome"] == outcome


@pytest.mark.parametrize(("body", "status", "error", "message_start"), [
    ({"key": DEEP, "days": 0, "email": "alice@research.example.org"}, 400, "InvalidRequest", "days: "),
    ({"key": DEEP, "tier": "Expedited", "email": "alice@research.example.org"}, 400, "InvalidRequest", "tier: "),
    ({"key": DEEP, "email": "alice@"}, 400, "InvalidRequest", "email: "),
    ({"email": "alice@research.example.org"}, 400, "InvalidRequest", "key: "),
    ({"key": STANDARD, "email": "alice@research.example.org"}, 400, "NotArchived", "key: "),
    ({"key": "projects/it's \"odd\".tar", "email": "alice@research.example.org"}, 404, "NoSuchKey",
     "key: there is no object projects/it's \"odd\".tar"),
])
def test_client_errors_are_4xx_with_the_reason(archive: Archive, body: dict[str, Any], status: int, error: str,
                                               message_start: str) -> None:
    answer = post(archive, body)
    assert answer.status == status
    assert answer.json()["error"] == error and answer.json()["message"].startswith(message_start)
    assert answer.json()["requestId"]


def test_a_failure_of_the_workflow_is_a_500_without_its_details(archive: Archive,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.s3.models import S3Backend

    class AccessDenied(S3ClientError):
        code = 403

        def __init__(self) -> None:
            super().__init__("AccessDenied", "Access Denied")

    def refuse(self: Any, *args: Any, **kwargs: Any) -> bool:
        raise AccessDenied()

    monkeypatch.setattr(S3Backend, "restore_object", refuse)
    answer = post(archive, {"key": DEEP, "email": "alice@research.example.org"})
    assert answer.status == 500
    assert answer.json()["error"] == "RestoreRequestFailed" and "Access Denied" not in answer.body


@pytest.mark.parametrize(("result", "status"), [
    ({"status": "TIMED_OUT"}, 504),
    ({"status": "FAILED", "error": "States.Runtime", "cause": "An error occurred while executing the state"}, 500),
    ({"status": "FAILED", "error": "RecordFailed", "cause": "DynamoDB.ThrottlingException"}, 500),
])
def test_no_other_execution_result_is_reported_as_success(deployed: Deployed, result: dict[str, Any],
                                                          status: int) -> None:
    _, response_template = _templates(deployed)
    answer = render(response_template, json.dumps({"executionArn": "arn:aws:states:::execution:x:y", **result}))
    assert answer.status == status and "outcome" not in answer.json()


def test_start_failures_of_step_functions_map_to_5xx(deployed: Deployed) -> None:
    responses = {r.inputs["statusCode"]: r.inputs for r in
                 deployed.stack.of_type("aws:apigateway/integrationResponse:IntegrationResponse")}
    for code in ("502", "503"):
        answer = render(responses[code]["responseTemplates"]["application/json"], "{}", status=int(code))
        assert answer.status == int(code) and answer.json()["error"] == "WorkflowUnavailable"


def test_a_malformed_body_gets_a_400_naming_the_problem() -> None:
    stack = build(ARGS)
    response = stack.one("aws:apigateway/response:Response").inputs
    assert response["responseType"] == "BAD_REQUEST_BODY" and response["statusCode"] == "400"
    rendered = render(response["responseTemplates"]["application/json"], "{}", status=400,
                      validation_error='[object has missing required properties (["key"])]')
    assert rendered.json()["error"] == "InvalidRequest"
    assert rendered.json()["message"] == "body: must be a JSON object whose only fields are key, days, tier, email"
    assert "$util" not in response["responseTemplates"]["application/json"]  # not VTL: substitution only


def test_cognito_mode_records_the_user_pool_subject() -> None:
    pool = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbC123xyZ"
    stack = build({**ARGS, "auth": "cognito", "cognito_user_pool_arns": [pool]})
    template = stack.one("aws:apigateway/integration:Integration", "restores").inputs["requestTemplates"][
        "application/json"]
    start = json.loads(render(template, json.dumps({"key": DEEP, "email": "a@b.org"}),
                              claims={"sub": "5f0c1a2b-1111-4c3d-9e8f-000000000001"}).body)
    assert json.loads(start["input"])["caller"]["principal"] == "5f0c1a2b-1111-4c3d-9e8f-000000000001"


def test_group_prefixes_bound_post_restores_with_a_403(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbC123xyZ"
    deployed = Deployed.build({**ARGS, "auth": "cognito", "cognito_user_pool_arns": [pool],
                               "group_prefixes": {"genomics": ["projects/genome-"], "im*aging": ["projects/*/"]}})
    for name, value in deployed.cost_environment.items():
        monkeypatch.setenv(name, value)
    importlib.reload(cost_app)
    body = {"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"}
    with deployed.harness() as h:
        archive = Archive(h, deployed).setup()
        for claims in ({"sub": "u1", "cognito:groups": "imaging"},  # another group (and '*' is no wildcard)
                       {"sub": "u2", "cognito:groups": "genomics-admins"},  # a name that merely starts alike
                       {"sub": "u3"}):  # in no group
            answer = post(archive, body, claims=claims)
            assert answer.status == 403, (claims, answer.body)
            assert answer.json() == {"error": "Forbidden", "requestId": answer.json()["requestId"],
                                     "message": "key: outside the prefixes your Cognito groups may restore"}
        assert archive.record(DEEP) is None and archive.sent() == []  # refused before anything was looked at
        answer = post(archive, body, claims={"sub": "u4", "cognito:groups": "[im*aging genomics]"})
        assert answer.status == 202 and answer.json()["outcome"] == "restore-started"
