"""Run-time tenants end to end in moto: the admin API starts the lifecycle workflow, which works on API Gateway,
Cognito and the key table; the authorizer then treats the tenant by what the workflow left."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest

from serverless_patterns.lambdas.multi_tenant_api.authorizer.app import key_hash

from .lifecycle_env import (
    COMPONENT,
    CONFIG_KEY,
    CONFIG_TENANT,
    ITEMS_TABLE,
    OVERLAP_SECONDS,
    STEPS_ARN,
    Lifecycle,
    lifecycle,
)
from .tokens import METHOD_ARN, REGION, token_event

EMAIL = "ada@umbrella.example"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    with lifecycle(monkeypatch) as e:
        yield e


def effect(response: dict[str, Any]) -> str:
    return str(response["policyDocument"]["Statement"][0]["Effect"])


def onboard(env: Lifecycle, tenant_id: str = "rt-umbrella", tier: str = "trial", email: str | None = EMAIL) -> Any:
    body: dict[str, Any] = {"tenantId": tenant_id, "tier": tier}
    if email:
        body["firstUserEmail"] = email
    return env.run("POST", "/admin/tenants", body)


def test_onboarded_tenants_first_user_calls_the_api_on_its_tier_plan(env: Lifecycle) -> None:
    run = onboard(env)
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row("rt-umbrella")
    assert row is not None
    assert (row["status"], row["tier"], row["managedBy"], row["firstUser"]) == ("active", "trial", "runtime", EMAIL)
    assert set(row["steps"]) == {"apiKey", "usagePlan", "invite", "active"}
    [key] = env.keys_named("rt-umbrella")
    assert key["id"] == row["apiKeyId"] and key["value"] == row["apiKey"]
    assert row["keyHash"] == hashlib.sha256(key["value"].encode()).hexdigest()
    assert key["tags"] == {"managed_by": "runtime", "tenant": "rt-umbrella", "component": COMPONENT}
    assert key["id"] in env.plan_keys("trial") and key["id"] not in env.plan_keys("business")
    # The tenant attribute was set by the admin path; the user signs in and the authorizer meters them on the key.
    user = env.idp.admin_get_user(UserPoolId=env.pool_id, Username=EMAIL)
    assert {"Name": "custom:tenant_id", "Value": "rt-umbrella"} in user["UserAttributes"]
    response = env.authorizer().token(token_event(env.sign_in(EMAIL), METHOD_ARN))
    assert effect(response) == "Allow"
    assert response["context"] == {"tenantId": "rt-umbrella", "tier": "trial", "usagePlanId": env.plans["trial"]}
    assert response["usageIdentifierKey"] == key["value"]
    # The key value went nowhere but the key table: not in the execution's history or the admin's answers.
    leaks = [e for e in run.history if key["value"] in json.dumps(e, default=str)]
    assert not leaks, json.dumps(leaks, default=str)
    status, shown = env.call("GET", "/admin/tenants/rt-umbrella")
    assert status == 200 and key["value"] not in json.dumps(shown) and "apiKey" not in shown


def test_suspend_answers_403_keeps_data_and_resume_restores(env: Lifecycle) -> None:
    assert onboard(env).status == "SUCCEEDED"
    env.ddb.put_item(TableName=ITEMS_TABLE, Item={"tenantId": {"S": "rt-umbrella"}, "itemId": {"S": "i-1"},
                                                  "name": {"S": "kept"}})
    token = env.sign_in(EMAIL)
    run = env.run("POST", "/admin/tenants/rt-umbrella/suspend")
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row("rt-umbrella")
    assert row is not None and row["status"] == "suspended"
    assert env.apigw.get_api_key(apiKey=row["apiKeyId"])["enabled"] is False
    denied = env.authorizer().token(token_event(token, METHOD_ARN))
    assert effect(denied) == "Deny" and "usageIdentifierKey" not in denied  # API Gateway answers 403
    assert env.ddb.get_item(TableName=ITEMS_TABLE, Key={"tenantId": {"S": "rt-umbrella"},
                                                        "itemId": {"S": "i-1"}}).get("Item")
    status, answer = env.call("POST", "/admin/tenants/rt-umbrella/suspend")
    assert status == 409 and "suspended" in answer["message"]

    run = env.run("POST", "/admin/tenants/rt-umbrella/resume")
    assert run.status == "SUCCEEDED", run.describe()
    assert env.apigw.get_api_key(apiKey=row["apiKeyId"])["enabled"] is True
    assert effect(env.authorizer().token(token_event(token, METHOD_ARN))) == "Allow"


def test_tier_change_moves_the_key_to_the_new_plan(env: Lifecycle) -> None:
    assert onboard(env).status == "SUCCEEDED"
    run = env.run("PUT", "/admin/tenants/rt-umbrella/tier", {"tier": "business"})
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row("rt-umbrella")
    assert row is not None and (row["tier"], row["usagePlanId"]) == ("business", env.plans["business"])
    assert row["apiKeyId"] in env.plan_keys("business") and row["apiKeyId"] not in env.plan_keys("trial")
    response = env.authorizer().token(token_event(env.sign_in(EMAIL), METHOD_ARN))
    assert response["context"]["tier"] == "business"


def test_rotation_keeps_the_old_key_valid_for_the_overlap_then_removes_it(env: Lifecycle) -> None:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    assert onboard(env).status == "SUCCEEDED"
    before = env.row("rt-umbrella")
    assert before is not None
    during: list[dict[str, Any]] = []

    account = env

    def at_the_wait(self: Any, env: Any, wait_seconds: int) -> None:
        # What holds while the workflow waits out the overlap (the harness does not sleep).
        old = account.apigw.get_api_key(apiKey=before["apiKeyId"])
        during.append({"seconds": wait_seconds, "row": account.row("rt-umbrella"), "old_enabled": old["enabled"],
                       "trial_keys": account.plan_keys("trial")})

    with mock.patch.object(WaitFunction, "_wait_interval", at_the_wait):
        run = env.run("POST", "/admin/tenants/rt-umbrella/rotate-key")
    assert run.status == "SUCCEEDED", run.describe()
    [waiting] = during
    assert waiting["seconds"] == OVERLAP_SECONDS
    new_id = waiting["row"]["apiKeyId"]
    assert new_id != before["apiKeyId"] and waiting["row"]["previousApiKeyId"] == before["apiKeyId"]
    assert waiting["old_enabled"] and {before["apiKeyId"], new_id} <= waiting["trial_keys"]
    # after the overlap: only the new key is left, recorded, on the plan
    after = env.row("rt-umbrella")
    assert after is not None and "previousApiKeyId" not in after and after["apiKeyId"] == new_id
    assert [k["id"] for k in env.keys_named("rt-umbrella")] == [new_id]
    assert after["keyHash"] == key_hash(after["apiKey"]) != before["keyHash"]
    assert after["apiKey"] not in json.dumps(run.history, default=str)
    response = env.authorizer().token(token_event(env.sign_in(EMAIL), METHOD_ARN))
    assert response["usageIdentifierKey"] == after["apiKey"]


def test_delete_keeping_data_leaves_a_tombstone_and_the_items(env: Lifecycle) -> None:
    assert onboard(env).status == "SUCCEEDED"
    env.ddb.put_item(TableName=ITEMS_TABLE, Item={"tenantId": {"S": "rt-umbrella"}, "itemId": {"S": "i-1"}})
    status, answer = env.call("DELETE", "/admin/tenants/rt-umbrella")
    assert status == 400 and "data=keep" in answer["message"]
    run = env.run("DELETE", "/admin/tenants/rt-umbrella", query={"data": "keep"})
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row("rt-umbrella")
    assert row is not None and row["status"] == "deleted" and "apiKey" not in row and "apiKeyId" not in row
    assert env.keys_named("rt-umbrella") == []
    assert env.idp.admin_get_user(UserPoolId=env.pool_id, Username=EMAIL)["Enabled"] is False
    assert env.ddb.query(TableName=ITEMS_TABLE, KeyConditionExpression="tenantId = :t",
                         ExpressionAttributeValues={":t": {"S": "rt-umbrella"}})["Count"] == 1
    status, answer = env.call("POST", "/admin/tenants", {"tenantId": "rt-umbrella", "tier": "trial"})
    assert status == 409  # the id stays taken


def test_delete_with_purge_removes_items_user_keys_and_row(env: Lifecycle) -> None:
    assert onboard(env).status == "SUCCEEDED"
    for i in range(30):  # more than one BatchWriteItem
        env.ddb.put_item(TableName=ITEMS_TABLE, Item={"tenantId": {"S": "rt-umbrella"}, "itemId": {"S": f"i-{i}"}})
    env.ddb.put_item(TableName=ITEMS_TABLE, Item={"tenantId": {"S": CONFIG_TENANT}, "itemId": {"S": "theirs"}})
    run = env.run("DELETE", "/admin/tenants/rt-umbrella", query={"data": "purge"})
    assert run.status == "SUCCEEDED", run.describe()
    assert env.row("rt-umbrella") is None and env.keys_named("rt-umbrella") == []
    with pytest.raises(env.idp.exceptions.UserNotFoundException):
        env.idp.admin_get_user(UserPoolId=env.pool_id, Username=EMAIL)
    assert env.ddb.scan(TableName=ITEMS_TABLE)["Items"] == [{"tenantId": {"S": CONFIG_TENANT},
                                                             "itemId": {"S": "theirs"}}]


def test_the_admin_path_cannot_touch_a_pulumi_tenant(env: Lifecycle) -> None:
    for method, path, body in (("POST", f"/admin/tenants/{CONFIG_TENANT}/suspend", None),
                               ("PUT", f"/admin/tenants/{CONFIG_TENANT}/tier", {"tier": "business"}),
                               ("POST", f"/admin/tenants/{CONFIG_TENANT}/rotate-key", None)):
        status, answer = env.call(method, path, body)
        assert status == 409 and "Pulumi" in answer["message"]
    status, answer = env.call("DELETE", f"/admin/tenants/{CONFIG_TENANT}", query={"data": "purge"})
    assert status == 409 and "Pulumi" in answer["message"]
    # Even a workflow started by hand finds nothing to change: every row write is conditioned on managedBy.
    run = env.h.run(env.definition, {"operation": "delete", "tenantId": CONFIG_TENANT, "purge": True},
                    state_machine_arn=env.machine_arn)
    assert run.status == "FAILED" and run.states[:2] == ["Operation", "DeleteMark"]
    row = env.row(CONFIG_TENANT)
    assert row is not None and row["apiKey"] == CONFIG_KEY and "status" not in row
    assert len(env.keys_named(CONFIG_TENANT)) == 1


def block_the_plan_step(env: Lifecycle) -> tuple[threading.Event, threading.Event, Any]:
    """Holds the steps function's `join_plan` call until `release` is set (`entered` says it has started); also
    returns the real handler, to put back."""
    entered, release = threading.Event(), threading.Event()
    steps_handler = env.h.lambda_handlers[STEPS_ARN]

    def blocking(payload: Any) -> Any:
        if payload.get("action") == "join_plan":
            entered.set()
            assert release.wait(60)
        return steps_handler(payload)

    env.h.lambda_handlers[STEPS_ARN] = blocking
    return entered, release, steps_handler


def test_a_second_operation_while_one_runs_is_409_with_the_reason_and_the_lock_is_released(env: Lifecycle) -> None:
    """The tier change blocks in its plan step; a suspend meanwhile is refused, then accepted once it has ended."""
    assert onboard(env).status == "SUCCEEDED"
    entered, release, _ = block_the_plan_step(env)
    status, started = env.call("PUT", "/admin/tenants/rt-umbrella/tier", {"tier": "business"})
    assert status == 202, started
    assert entered.wait(60)
    row = env.row("rt-umbrella")
    assert row is not None and (row["operation"], row["operationExecution"]) == ("change_tier",
                                                                                 started["executionArn"])
    for method, path, query in (("POST", "/admin/tenants/rt-umbrella/suspend", None),
                                ("DELETE", "/admin/tenants/rt-umbrella", {"data": "purge"})):
        status, answer = env.call(method, path, query=query)
        assert status == 409 and "busy" in answer["message"] and "change_tier" in answer["message"], answer
        assert started["executionArn"] in answer["message"]
    release.set()
    assert env.h.wait(started["executionArn"]).status == "SUCCEEDED"
    row = env.row("rt-umbrella")
    assert row is not None and "operation" not in row and row["tier"] == "business"
    assert env.run("POST", "/admin/tenants/rt-umbrella/suspend").status == "SUCCEEDED"
    row = env.row("rt-umbrella")
    assert row is not None and "operation" not in row and row["status"] == "suspended"


def test_a_lock_left_by_a_stopped_execution_is_taken_over(env: Lifecycle) -> None:
    assert onboard(env).status == "SUCCEEDED"
    entered, release, steps_handler = block_the_plan_step(env)
    status, started = env.call("PUT", "/admin/tenants/rt-umbrella/tier", {"tier": "business"})
    assert status == 202 and entered.wait(60)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sfn.stop_execution(executionArn=started["executionArn"])
    release.set()
    row = env.row("rt-umbrella")
    assert row is not None and row["operation"] == "change_tier"  # nothing released it
    env.h.lambda_handlers[STEPS_ARN] = steps_handler
    run = env.run("POST", "/admin/tenants/rt-umbrella/suspend")
    assert run.status == "SUCCEEDED", run.describe()
    row = env.row("rt-umbrella")
    assert row is not None and "operation" not in row and row["status"] == "suspended"


def test_a_failed_operation_releases_the_lock(env: Lifecycle) -> None:
    env.idp.admin_create_user(UserPoolId=env.pool_id, Username="taken@other.example",
                              UserAttributes=[{"Name": "custom:tenant_id", "Value": "rt-other"}])
    run = onboard(env, email="taken@other.example")
    assert run.status == "FAILED"
    row = env.row("rt-umbrella")
    assert row is not None and "operation" not in row and row["lastError"] == "FirstUserExists"
    assert env.run("POST", "/admin/tenants/rt-umbrella/onboarding/rollback").status == "SUCCEEDED"
