"""A web-front-end deployment (Cognito on the site's routes) keeps SigV4 for programmatic callers: the same routes
under `/iam`, AWS_IAM-authorized, answered by the same workflow and functions with the IAM identity."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_patterns.glacier_restore import GlacierRestoreArgs
from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app
from serverless_patterns.lambdas.glacier_restore.cost_estimate import service
from serverless_patterns.lambdas.glacier_restore.download import app as download_app
from serverless_patterns.offline.sfn import REGION

from .apigateway_vtl import render
from .service_env import call, proxy_event
from .workflow_env import ALICE, ARGS, DEEP, Archive, Deployed, restores_held_in_progress

POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Rs7hQ2abc"
SITE_ARGS: GlacierRestoreArgs = {**ARGS, "cognito_user_pool_arns": [POOL], "group_prefixes": {"genomics": ["x/"]},
                                 "web_site": {"cognito_domain_prefix": "research-restores"}}


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    return Deployed.build(SITE_ARGS)


@pytest.fixture
def archive(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Archive]:
    functions = {f: deployed.stack.one("aws:lambda/function:Function", f"gr-{f}").inputs["environment"]["variables"]
                 for f in ("service", "download")}
    for name, value in {**deployed.cost_environment, **functions["service"], **functions["download"],
                        "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    for module in (cost_app, service, download_app):
        importlib.reload(module)
    with restores_held_in_progress(), deployed.harness() as h:
        yield Archive(h, deployed).setup()
    for module in (service, download_app):
        module.s3_client.cache_clear()
        module.dynamodb_client.cache_clear()


def test_the_iam_routes_mirror_every_route_with_aws_iam(deployed: Deployed) -> None:
    stack = deployed.stack
    resources = {r.id: r.inputs for r in stack.of_type("aws:apigateway/resource:Resource")}
    root = stack.one("aws:apigateway/restApi:RestApi").outputs["rootResourceId"]

    def path(resource_id: str) -> str:
        return "" if resource_id == root else path(resources[resource_id]["parentId"]) + "/" + resources[
            resource_id]["pathPart"]

    methods = {(m.inputs["httpMethod"], path(m.inputs["resourceId"])): m.inputs["authorization"]
               for m in stack.of_type("aws:apigateway/method:Method") if m.inputs["httpMethod"] != "OPTIONS"}
    routes = {("POST", "/restores"), ("GET", "/download"), ("GET", "/objects"), ("POST", "/restores/estimate"),
              ("POST", "/restores/bulk")}
    assert methods == {**{r: "COGNITO_USER_POOLS" for r in routes},
                       **{(verb, "/iam" + p): "AWS_IAM" for verb, p in routes}}
    api = stack.one("aws:apigateway/restApi:RestApi").outputs["executionArn"]
    sources = {p.inputs["sourceArn"] for p in stack.of_type("aws:lambda/permission:Permission")}
    assert {f"{api}/*/{verb}/iam{p}" for verb, p in routes if p != "/restores"} <= sources
    template = stack.one("aws:apigateway/integration:Integration", "gr-iam-restores-integration").inputs[
        "requestTemplates"]["application/json"]
    assert "$context.identity.userArn" in template and "claims" not in template


def iam_post(archive: Archive, body: dict[str, Any], user_arn: str) -> tuple[int, Any]:
    stack = archive.deployed.stack
    integration = stack.one("aws:apigateway/integration:Integration", "gr-iam-restores-integration").inputs
    response = stack.one("aws:apigateway/integrationResponse:IntegrationResponse", "gr-iam-restores-result").inputs
    start = json.loads(render(integration["requestTemplates"]["application/json"], json.dumps(body),
                              user_arn=user_arn).body)
    run = archive.h.run(archive.deployed.request_definition, json.loads(start["input"]),
                        state_machine_arn=archive.request_arn)
    result = {"status": run.status, "output": json.dumps(run.output)} if run.status == "SUCCEEDED" else {
        "status": run.status, "error": run.error, "cause": run.cause}
    rendered = render(response["responseTemplates"]["application/json"], json.dumps(result))
    return rendered.status, rendered.json()


def test_a_signed_caller_requests_browses_and_downloads_on_the_iam_routes(archive: Archive) -> None:
    status, answer = iam_post(archive, {"key": DEEP, "tier": "Bulk", "days": 2, "email": "alice@research.example.org"},
                              ALICE)
    assert status == 202 and answer["outcome"] == "restore-started"
    assert archive.record(DEEP)["principals"]["SS"] == [ALICE]  # type: ignore[index]

    # Group limits bind Cognito users; the IAM caller sees what its IAM policy lets it call.
    status, page = call(service, proxy_event("GET", "/iam/objects", query={"prefix": "projects/"}, user_arn=ALICE))
    assert status == 200 and page["folders"] == ["projects/genome-2019/"]
    # The same request on the Cognito route, without a token's groups, sees nothing of the archive.
    status, page = call(service, proxy_event("GET", "/objects", query={"prefix": "projects/"}, claims={"sub": "u"}))
    assert status == 403

    status, body = call(download_app, proxy_event("GET", "/iam/download", query={"key": DEEP}, user_arn=ALICE))
    assert status == 409  # still restoring
    archive.finish_restore(DEEP)
    status, body = call(download_app, proxy_event("GET", "/iam/download", query={"key": DEEP}, user_arn=ALICE))
    assert status == 200 and body["url"]
    # A Cognito user is not the IAM requester; and the Cognito route never takes an IAM identity for one.
    status, _ = call(download_app, proxy_event("GET", "/download", query={"key": DEEP}, claims={"sub": "u"}))
    assert status == 403
    # (With group prefixes the group check answers first: no Cognito groups, no key.)
    status, body = call(download_app, proxy_event("GET", "/download", query={"key": DEEP}, user_arn=ALICE))
    assert status == 403 and "url" not in body
