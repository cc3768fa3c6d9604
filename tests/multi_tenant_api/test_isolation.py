"""Isolation by IAM (issue 15, item 3): a backend bug cannot reach another tenant's items.

moto does not evaluate IAM policies, and has no policy simulator (no `SimulatePrincipalPolicy` /
`SimulateCustomPolicy`), so this test adapts the emulator: `evaluate` below is a written-down evaluation of
exactly the statements the component plans (Allow/implicit deny; actions, resources, the AWS principal;
the condition operators `ForAllValues:StringEquals`, `StringLike`, `Null`; policy variables), and a
botocore hook applies it to every DynamoDB call the backend makes with its scoped credentials, answering
`AccessDeniedException` as DynamoDB would. The policy it judges is the one the component plans, read from
the offline stack, not a copy. Sources:

- condition key `dynamodb:LeadingKeys` ("the partition key values of the table"), multi-valued, from the
  Service Authorization Reference: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
- which requests carry it, and the `ForAllValues:StringEquals` form:
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
- `ForAllValues` is true when every request value matches, and also when the key is absent:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
- `${aws:PrincipalTag/tenant}` is the session tag passed to AssumeRole:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html and
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from serverless_patterns.lambdas.multi_tenant_api.backend import app
from serverless_patterns.multi_tenant_api import MultiTenantApi
from serverless_patterns.multi_tenant_api.args import TENANT_DATA_ACTIONS, TENANT_TAG
from serverless_patterns.offline import CapturedStack, run_callable

from .test_backend import ITEMS_TABLE, request
from .test_component import BASE, CONFIG
from .tokens import REGION

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{DEFAULT_ACCOUNT_ID}:table/{ITEMS_TABLE}"
ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/tenant-data-0123456789abcdef"
BACKEND_ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/mta-backend-role"


# -- the evaluation ----------------------------------------------------------------------------------------

def substitute(value: str, context: Mapping[str, Any]) -> str | None:
    """Policy variables: `${aws:PrincipalTag/tenant}` -> the session's tag (None: the variable is unset)."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        found = context.get(match.group(1))
        if not isinstance(found, str):
            missing = True
            return ""
        return found
    result = re.sub(r"\$\{([^}]+)\}", one, value)
    return None if missing else result


def condition_holds(operator: str, key: str, expected: list[str], context: Mapping[str, Any]) -> bool:
    actual = context.get(key)
    wanted = {v for v in (substitute(e, context) for e in expected) if v is not None}
    if operator == "ForAllValues:StringEquals":
        values = actual if isinstance(actual, list) else ([] if actual is None else [actual])
        return all(v in wanted for v in values)  # an absent key passes: IAM's documented ForAllValues rule
    if operator == "StringLike":
        return actual is not None and any(fnmatch.fnmatchcase(str(actual), w) for w in wanted)
    if operator == "Null":
        return (actual is None) == (expected[0] == "true")
    raise AssertionError(f"operator {operator} is not evaluated here; extend evaluate() before using it")


def evaluate(document: Mapping[str, Any], action: str, resource: str | None, context: Mapping[str, Any],
             principal: str | None = None) -> bool:
    """True when an Allow statement matches in every element; no match is IAM's implicit deny."""
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow", "this evaluation covers Allow-only documents"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action not in actions:
            continue
        if resource is not None:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if resource not in resources:
                continue
        if "Principal" in statement and statement["Principal"].get("AWS") != principal:
            continue
        if all(condition_holds(op, key, list(values) if isinstance(values, list) else [values], context)
               for op, block in statement.get("Condition", {}).items() for key, values in block.items()):
            return True
    return False


def leading_keys(operation: str, params: Mapping[str, Any], partition_key: str = "tenantId") -> list[str]:
    """`dynamodb:LeadingKeys` of a request as sent on the wire: the partition key values it names."""
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        return [params["Key"][partition_key]["S"]]
    if operation == "PutItem":
        return [params["Item"][partition_key]["S"]]
    if operation == "Query":
        names = params.get("ExpressionAttributeNames", {})
        pairs = re.findall(r"([#\w]+)\s*=\s*(:\w+)", params["KeyConditionExpression"])
        return [params["ExpressionAttributeValues"][v]["S"] for n, v in pairs if names.get(n, n) == partition_key]
    raise AssertionError(f"{operation}: no partition key in the request")


# -- the planned documents ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    args = copy.deepcopy(BASE)
    return run_callable(lambda: MultiTenantApi("mta", args), config=CONFIG)


def document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def role_policy(stack: CapturedStack) -> dict[str, Any]:
    """The tenant-data role policy, with the planned table ARN replaced by this test's table."""
    planned = document(stack.one("aws:iam/rolePolicy:RolePolicy", "tenant-data-policy").inputs["policy"])
    table_arn = stack.one("aws:dynamodb/table:Table", "items").outputs["arn"]
    assert planned["Statement"][0]["Resource"] == table_arn
    return json.loads(json.dumps(planned).replace(table_arn, TABLE_ARN))


class TestPlannedDocuments:
    def test_the_backend_role_reaches_items_only_by_assuming_the_tenant_role(self, stack: CapturedStack) -> None:
        policy = document(stack.one("aws:iam/rolePolicy:RolePolicy", "backend-policy").inputs["policy"])
        actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                             else s["Action"])}
        assert not {a for a in actions if a.startswith("dynamodb:")}
        role = stack.one("aws:iam/role:Role", "tenant-data-role")
        assume = next(s for s in policy["Statement"] if s.get("Sid") == "AssumeTenantScope")
        assert assume["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        assert assume["Resource"] == role.outputs["arn"]
        env = stack.one("aws:lambda/function:Function", "backend").inputs["environment"]["variables"]
        assert env["TENANT_ROLE_ARN"] == role.outputs["arn"]

    def test_no_operation_without_a_partition_key_is_granted(self, role_policy: dict[str, Any]) -> None:
        # ForAllValues passes a request without dynamodb:LeadingKeys (Scan), so none may be granted.
        (statement,) = role_policy["Statement"]
        assert sorted(statement["Action"]) == sorted(TENANT_DATA_ACTIONS)
        assert not evaluate(role_policy, "dynamodb:Scan", TABLE_ARN, {f"aws:PrincipalTag/{TENANT_TAG}": "acme-corp"})

    def test_the_leading_keys_condition_is_what_refuses_another_tenant(self, role_policy: dict[str, Any]) -> None:
        acme_session = {f"aws:PrincipalTag/{TENANT_TAG}": "acme-corp"}
        for action in TENANT_DATA_ACTIONS:
            assert evaluate(role_policy, action, TABLE_ARN, {**acme_session, "dynamodb:LeadingKeys": ["acme-corp"]})
            assert not evaluate(role_policy, action, TABLE_ARN, {**acme_session, "dynamodb:LeadingKeys": ["globex"]})
            assert not evaluate(role_policy, action, TABLE_ARN,
                                {**acme_session, "dynamodb:LeadingKeys": ["acme-corp", "globex"]})
            # A session without the tag matches no partition key (the variable stays unset).
            assert not evaluate(role_policy, action, TABLE_ARN, {"dynamodb:LeadingKeys": ["acme-corp"]})
        unconditioned = copy.deepcopy(role_policy)
        del unconditioned["Statement"][0]["Condition"]
        assert evaluate(unconditioned, "dynamodb:Query", TABLE_ARN,
                        {**acme_session, "dynamodb:LeadingKeys": ["globex"]})

    def test_the_trust_admits_the_backend_role_with_exactly_the_tenant_tag(self, stack: CapturedStack) -> None:
        role = stack.one("aws:iam/role:Role", "tenant-data-role")
        backend_role = stack.one("aws:iam/role:Role", "backend-role").outputs["arn"]
        trust = document(role.inputs["assumeRolePolicy"])
        tagged = {f"aws:RequestTag/{TENANT_TAG}": "acme-corp", "aws:TagKeys": [TENANT_TAG]}
        for action in ("sts:AssumeRole", "sts:TagSession"):
            assert evaluate(trust, action, None, tagged, principal=backend_role)
            assert not evaluate(trust, action, None, tagged, principal="arn:aws:iam::111111111111:role/other")
            assert not evaluate(trust, action, None, {"aws:TagKeys": []}, principal=backend_role)
            assert not evaluate(trust, action, None, {**tagged, "aws:TagKeys": [TENANT_TAG, "admin"]},
                                principal=backend_role)
            assert not evaluate(trust, action, None, {**tagged, f"aws:RequestTag/{TENANT_TAG}": ""},
                                principal=backend_role)


# -- the backend under IAM enforcement ---------------------------------------------------------------------

class RecordingSts:
    """moto's STS, recording the session tags of each credential it hands out (the principal's tags)."""

    def __init__(self) -> None:
        self.client = boto3.client("sts", region_name=REGION)
        self.tags_by_key: dict[str, dict[str, str]] = {}
        self.calls: list[dict[str, Any]] = []

    def assume_role(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        response = self.client.assume_role(**params)
        self.tags_by_key[response["Credentials"]["AccessKeyId"]] = {t["Key"]: t["Value"] for t in params["Tags"]}
        return response


@pytest.fixture
def enforced(monkeypatch: pytest.MonkeyPatch, role_policy: dict[str, Any]) -> Iterator[RecordingSts]:
    """The backend with scoped credentials whose DynamoDB calls IAM (as evaluated above) must allow."""
    monkeypatch.setenv("ITEMS_TABLE", ITEMS_TABLE)
    monkeypatch.setenv("TENANT_ROLE_ARN", ROLE_ARN)
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=ITEMS_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"},
                                  {"AttributeName": "itemId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"},
                       {"AttributeName": "itemId", "KeyType": "RANGE"}])
        sts = RecordingSts()

        def enforcer(tags: Mapping[str, str]) -> Any:
            """The check of one session (its principal tags), on each request as it goes on the wire."""
            def enforce(model: Any, params: dict[str, Any], **_: Any) -> None:
                context: dict[str, Any] = {f"aws:PrincipalTag/{k}": v for k, v in tags.items()}
                context["dynamodb:LeadingKeys"] = leading_keys(model.name, json.loads(params["body"]))
                if not evaluate(role_policy, f"dynamodb:{model.name}", TABLE_ARN, context):
                    raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": (
                        f"not authorized to perform: dynamodb:{model.name} on resource: {TABLE_ARN}")}},
                        model.name)
            return enforce

        original = app.ScopedCredentials.session

        def session(self: app.ScopedCredentials, tenant_id: str) -> Any:
            scoped_session = original(self, tenant_id)
            tags = sts.tags_by_key.get(scoped_session.get_credentials().access_key)
            assert tags is not None, "a session without the scoped credentials"
            scoped_session.events.unregister("before-call.dynamodb", unique_id="iam-enforcement")
            scoped_session.events.register("before-call.dynamodb", enforcer(tags), unique_id="iam-enforcement")
            return scoped_session

        monkeypatch.setattr(app.ScopedCredentials, "session", session)
        monkeypatch.setattr(app, "_scoped", app.ScopedCredentials(ROLE_ARN, sts=sts))
        yield sts


class TestBackendUnderIam:
    def test_the_backend_works_on_its_own_tenant(self, enforced: RecordingSts) -> None:
        created = request("POST", "/items", tenant="acme-corp", body={"name": "anvil"})
        assert created["status"] == 201
        listed = request("GET", "/items", tenant="acme-corp")
        assert [i["name"] for i in listed["body"]["items"]] == ["anvil"]
        assert enforced.calls[0]["Tags"] == [{"Key": TENANT_TAG, "Value": "acme-corp"}]
        assert enforced.calls[0]["RoleArn"] == ROLE_ARN

    def test_a_buggy_query_for_another_tenants_key_is_refused_by_iam(self, enforced: RecordingSts) -> None:
        request("POST", "/items", tenant="globex", body={"name": "globex secret"})
        # The bug: acme's request handler using globex's partition key.
        with pytest.raises(ClientError) as raised:
            app.table("acme-corp").query(KeyConditionExpression=boto3.dynamodb.conditions.Key("tenantId")
                                         .eq("globex"))
        assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
        for call in (lambda t: t.get_item(Key={"tenantId": "globex", "itemId": "x"}),
                     lambda t: t.put_item(Item={"tenantId": "globex", "itemId": "planted"}),
                     lambda t: t.delete_item(Key={"tenantId": "globex", "itemId": "x"})):
            with pytest.raises(ClientError, match="AccessDeniedException"):
                call(app.table("acme-corp"))
        # globex's data is untouched and still its own.
        assert [i["name"] for i in request("GET", "/items", tenant="globex")["body"]["items"]] == ["globex secret"]

    def test_credentials_are_cached_per_tenant_within_their_lifetime(self, enforced: RecordingSts) -> None:
        for tenant in ("acme-corp", "globex", "acme-corp", "globex"):
            assert request("GET", "/items", tenant=tenant)["status"] == 200
        assert [c["RoleSessionName"] for c in enforced.calls] == ["acme-corp", "globex"]
        scoped = app.scoped()
        expiry = scoped._sessions["acme-corp"][1]
        scoped.clock = lambda: expiry - app.RENEW_BEFORE_SECONDS + 1  # about to expire: renewed
        assert request("GET", "/items", tenant="acme-corp")["status"] == 200
        assert [c["RoleSessionName"] for c in enforced.calls] == ["acme-corp", "globex", "acme-corp"]


@pytest.mark.parametrize("tenant_id", ["abc", "a" * 64, "acme-corp-0123"])
def test_assume_role_parameters_fit_the_sts_model(tenant_id: str) -> None:
    """Session name, tag and duration checked against STS's model (moto accepts more than STS does)."""
    model = botocore.session.get_session().get_service_model("sts")
    shapes = model.operation_model("AssumeRole").input_shape.members
    name = shapes["RoleSessionName"].metadata
    assert name["min"] <= len(tenant_id) <= name["max"] and re.fullmatch(name["pattern"], tenant_id)
    duration = shapes["DurationSeconds"].metadata
    assert duration["min"] <= app.SESSION_SECONDS <= duration["max"]
    tag = model.shape_for("Tag").members

    def ascii_subset(pattern: str) -> str:
        # Python's re has no \p{..} classes: use their ASCII members (stricter than STS, never looser).
        return pattern.replace(r"\p{L}", "A-Za-z").replace(r"\p{Z}", " ").replace(r"\p{N}", "0-9")
    assert re.fullmatch(ascii_subset(tag["Key"].metadata["pattern"]), TENANT_TAG)
    assert re.fullmatch(ascii_subset(tag["Value"].metadata["pattern"]), tenant_id)
    assert len(tenant_id) <= tag["Value"].metadata["max"]
