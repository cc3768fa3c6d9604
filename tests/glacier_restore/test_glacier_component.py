"""GlacierRestore under the offline engine: resources, wiring, authorization and least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.config import ConfigError, StackConfig
from serverless_patterns.glacier_restore import from_config
from serverless_patterns.glacier_restore.args import MAX_DOWNLOAD_URL_TTL, MAX_RESTORE_DAYS, SIGNER_SESSION_SECONDS
from serverless_patterns.offline import CapturedStack

from .conftest import ACCOUNT, ARGS, REGION, SENDER, build, definition_of, policy_of_role, statements

UNSCOPABLE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
              "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
              "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
              "logs:DescribeLogGroups", "pricing:GetProducts"}


def _bucket(stack: CapturedStack) -> tuple[str, str]:
    bucket = stack.one("aws:s3/bucket:Bucket", "gr-archive")
    return bucket.outputs["bucket"], bucket.outputs["arn"]


def test_the_archive_bucket_is_versioned_encrypted_private_and_tls_only(stack: CapturedStack) -> None:
    name, arn = _bucket(stack)
    assert stack.one("aws:s3/bucket:Bucket", "gr-archive").inputs.get("forceDestroy") is False
    assert stack.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"] == {
        "status": "Enabled"}
    for bucket in ("gr-archive", "gr-work"):  # the archive and the bulk work bucket alike
        rule = stack.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                         f"{bucket}-encryption").inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
        block = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{bucket}-public-access").inputs
        assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                              "restrictPublicBuckets"))
        work_policy = json.loads(stack.one("aws:s3/bucketPolicy:BucketPolicy", f"{bucket}-tls-only").inputs["policy"])
        assert {s["Sid"] for s in work_policy["Statement"]} >= {"DenyInsecureTransport", "DenyOldTls"}
    policy = json.loads(stack.one("aws:s3/bucketPolicy:BucketPolicy", "gr-archive-tls-only").inputs["policy"])
    tls = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(tls["Resource"]) == sorted([arn, f"{arn}/*"])
    assert stack.one("aws:s3/bucketNotification:BucketNotification").inputs == {"bucket": name, "eventbridge": True}


def test_the_requests_table_has_point_in_time_recovery_and_encryption(stack: CapturedStack) -> None:
    table = stack.one("aws:dynamodb/table:Table", "gr-requests").inputs
    assert table["hashKey"] == "objectKey" and table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True}


@pytest.mark.parametrize(("name", "kind"), [("request", "EXPRESS"), ("events", "STANDARD")])
def test_state_machines_log_everything_and_trace(stack: CapturedStack, name: str, kind: str) -> None:
    machine = stack.one("aws:sfn/stateMachine:StateMachine", f"gr-{name}").inputs
    assert machine["type"] == kind
    assert machine["tracingConfiguration"] == {"enabled": True}
    logging = machine["loggingConfiguration"]
    assert logging["level"] == "ALL" and logging["includeExecutionData"] is True
    group = stack.one("aws:cloudwatch/logGroup:LogGroup", f"gr-{name}-logs")
    assert logging["logDestination"] == group.outputs["arn"] + ":*"
    assert group.inputs["retentionInDays"] == 30


def _values_of(node: Any, key: str) -> set[Any]:
    """Every value stored under `key` anywhere in a definition."""
    if isinstance(node, dict):
        return {v for k, v in node.items() if k == key and not isinstance(v, (dict, list))}.union(
            *(_values_of(v, key) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_values_of(v, key) for v in node))
    return set()


def test_deployed_definitions_name_this_stacks_resources_and_args(stack: CapturedStack) -> None:
    """What the component wires into the deployed ASL: its own bucket, table, sender, cost function and
    download endpoint, and the limits from its args (not defaults baked into the definitions)."""
    name, _ = _bucket(stack)
    table = stack.one("aws:dynamodb/table:Table", "gr-requests").outputs["name"]
    batches = stack.one("aws:dynamodb/table:Table", "gr-batches").outputs["name"]
    cost_arn = stack.one("aws:lambda/function:Function", "cost").outputs["arn"]
    endpoint = stack.one("serverless-patterns:index:GlacierRestore").component_outputs["downloadEndpoint"]
    request, events = definition_of(stack, "gr-request"), definition_of(stack, "gr-events")
    assert _values_of(request, "TableName") == {table}
    assert _values_of(events, "TableName") == {table, batches}  # batch objects count for their batches
    for definition in (request, events):
        assert _values_of(definition, "FromEmailAddress") == {SENDER}
    assert _values_of(request, "Bucket") == {name}
    state_arn = stack.one("aws:lambda/function:Function", "gr-state").outputs["arn"]
    assert _values_of(events, "FunctionName") == {cost_arn, state_arn}
    assert _values_of(request, "FunctionName") == {state_arn}
    assert endpoint in json.dumps(request) and endpoint in json.dumps(events)
    states = request["States"]
    assert states["WithDefaults"]["Parameters"]["defaults"] == {"key": None, "email": None, "days": 7,
                                                                "tier": "Standard"}
    assert states["InvalidDays"]["Cause"] == "days: must be a whole number from 1 to 30"
    assert states["InvalidTier"]["Cause"] == "tier: must be one of Standard, Bulk"


def test_the_request_workflow_ends_before_api_gateway_stops_waiting(stack: CapturedStack) -> None:
    assert definition_of(stack, "gr-request")["TimeoutSeconds"] < 29
    timeout = stack.one("aws:apigateway/integration:Integration", "restores").inputs.get("timeoutMilliseconds", 29000)
    assert definition_of(stack, "gr-request")["TimeoutSeconds"] * 1000 < timeout


def test_tier_and_days_of_the_request_reach_restore_object(stack: CapturedStack) -> None:
    restore = definition_of(stack, "gr-request")["States"]["RestoreObject"]
    assert restore["Resource"] == "arn:aws:states:::aws-sdk:s3:restoreObject"
    assert restore["Parameters"]["Bucket"] == _bucket(stack)[0]
    assert restore["Parameters"]["RestoreRequest"] == {"Days.$": "$.request.days",
                                                       "GlacierJobParameters": {"Tier.$": "$.request.tier"}}


def test_every_sdk_task_retries_with_backoff(stack: CapturedStack) -> None:
    def tasks(states: dict) -> list[tuple[str, dict]]:
        found = []
        for name, state in states.items():
            if state["Type"] == "Task":
                found.append((name, state))
            if state["Type"] == "Map":
                found.extend(tasks(state["ItemProcessor"]["States"]))
        return found

    for machine in ("gr-request", "gr-events", "gr-bulk"):
        for name, task in tasks(definition_of(stack, machine)["States"]):
            assert task.get("Retry"), f"{machine}.{name} has no Retry"
            assert all(r["BackoffRate"] >= 2 and r["MaxAttempts"] >= 3 for r in task["Retry"]), name
            assert any("States.ALL" in c["ErrorEquals"] for c in task["Catch"]), f"{name} has no catch-all"


def test_every_api_method_is_authorized_with_iam(stack: CapturedStack) -> None:
    methods = stack.of_type("aws:apigateway/method:Method")
    assert {m.inputs["httpMethod"] for m in methods} == {"POST", "GET"}
    assert all(m.inputs["authorization"] == "AWS_IAM" for m in methods)
    assert stack.of_type("aws:apigateway/authorizer:Authorizer") == []


def test_cognito_mode_puts_the_user_pool_authorizer_on_every_method() -> None:
    pool = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbC123xyZ"
    stack = build({**ARGS, "auth": "cognito", "cognito_user_pool_arns": [pool]})
    authorizer = stack.one("aws:apigateway/authorizer:Authorizer")
    assert authorizer.inputs["type"] == "COGNITO_USER_POOLS" and authorizer.inputs["providerArns"] == [pool]
    for method in stack.of_type("aws:apigateway/method:Method"):
        assert method.inputs["authorization"] == "COGNITO_USER_POOLS"
        assert method.inputs["authorizerId"] == authorizer.id
    template = stack.one("aws:apigateway/integration:Integration", "restores").inputs["requestTemplates"]
    assert "$context.authorizer.claims.sub" in template["application/json"]


def test_post_restores_starts_the_express_workflow_directly(stack: CapturedStack) -> None:
    integration = stack.one("aws:apigateway/integration:Integration", "restores").inputs
    machine = stack.one("aws:sfn/stateMachine:StateMachine", "gr-request")
    assert integration["type"] == "AWS"
    assert integration["uri"] == f"arn:aws:apigateway:{REGION}:states:action/StartSyncExecution"
    assert integration["passthroughBehavior"] == "NEVER"
    template = integration["requestTemplates"]["application/json"]
    assert json.dumps(machine.outputs["arn"]) in template and "$context.identity.userArn" in template
    role = stack.one("aws:iam/role:Role", "api-start-role")
    assert integration["credentials"] == role.outputs["arn"]
    assert statements(policy_of_role(stack, "api-start-role")) == [
        {"Sid": "StartRestoreRequestWorkflow", "Effect": "Allow", "Action": ["states:StartSyncExecution"],
         "Resource": [machine.outputs["arn"]]}]
    # No request Lambda: the functions are the cost estimate, the download, the browse/estimate service and
    # the restore-state steps ASL cannot do (decoding event keys, deciding extensions).
    assert {f.name for f in stack.of_type("aws:lambda/function:Function")} == {
        "gr-cost-fn", "gr-download-fn", "gr-service-fn", "gr-state-fn"}


def test_responses_map_the_execution_status_truthfully(stack: CapturedStack) -> None:
    responses = {r.inputs["statusCode"]: r.inputs for r in
                 stack.of_type("aws:apigateway/integrationResponse:IntegrationResponse")}
    default = responses["200"]
    assert "selectionPattern" not in default or default["selectionPattern"] in ("", None)
    template = default["responseTemplates"]["application/json"]
    for fragment in ('$status == "SUCCEEDED"', "responseOverride.status = 202", "responseOverride.status = 200",
                     '$error == "InvalidRequest"', '$error == "NotArchived"', '$error == "NoSuchKey"',
                     "responseOverride.status = 404", "responseOverride.status = 500", '"TIMED_OUT"'):
        assert fragment in template
    # Failures of StartSyncExecution itself are 5xx, never the success template.
    assert responses["502"]["selectionPattern"] == r"4\d{2}" and responses["503"]["selectionPattern"] == r"5\d{2}"
    validator = stack.one("aws:apigateway/requestValidator:RequestValidator").inputs
    assert validator["validateRequestBody"] is True
    schema = json.loads(stack.one("aws:apigateway/model:Model").inputs["schema"])
    assert schema["type"] == "object" and schema["additionalProperties"] is False


def test_the_stage_logs_traces_and_throttles(stack: CapturedStack) -> None:
    stage = stack.one("aws:apigateway/stage:Stage").inputs
    assert stage["xrayTracingEnabled"] is True
    group = stack.one("aws:cloudwatch/logGroup:LogGroup", "api-access-logs")
    assert stage["accessLogSettings"]["destinationArn"] == group.outputs["arn"]
    assert json.loads(stage["accessLogSettings"]["format"])["requestId"] == "$context.requestId"
    settings = stack.one("aws:apigateway/methodSettings:MethodSettings").inputs
    assert settings["methodPath"] == "*/*"
    assert settings["settings"]["throttlingRateLimit"] == 10 and settings["settings"]["throttlingBurstLimit"] == 20


def test_the_request_workflow_role_is_scoped_to_exact_arns(stack: CapturedStack) -> None:
    _, bucket_arn = _bucket(stack)
    table_arn = stack.one("aws:dynamodb/table:Table", "gr-requests").outputs["arn"]
    identity_arn = stack.one("aws:sesv2/emailIdentity:EmailIdentity").outputs["arn"]
    by_sid = {s["Sid"]: s for s in statements(policy_of_role(stack, "gr-request-role"))}
    assert by_sid["HeadAndRestoreArchivedObjects"]["Action"] == ["s3:GetObject", "s3:RestoreObject"]
    assert by_sid["HeadAndRestoreArchivedObjects"]["Resource"] == [f"{bucket_arn}/*"]
    assert by_sid["RecordRequests"]["Action"] == ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert by_sid["RecordRequests"]["Resource"] == [table_arn]
    assert by_sid["SendFromVerifiedSender"]["Resource"] == [identity_arn]
    assert by_sid["SendFromVerifiedSender"]["Condition"] == {"StringEquals": {"ses:FromAddress": SENDER}}
    _only_unscopable_on_star(by_sid.values())


@pytest.mark.parametrize("role", ["gr-request-role", "gr-download-role", "gr-download-signer-role"])
def test_roles_that_head_objects_may_list_the_bucket_and_nothing_more(stack: CapturedStack, role: str) -> None:
    """Without s3:ListBucket S3 answers a missing key with 403 (HeadObject API reference, "Permissions")."""
    _, bucket_arn = _bucket(stack)
    listing = [s for s in statements(policy_of_role(stack, role)) if "s3:ListBucket" in s["Action"]]
    assert listing == [{"Sid": "TellMissingKeysApart", "Effect": "Allow", "Action": ["s3:ListBucket"],
                        "Resource": [bucket_arn]}]


def test_the_events_workflow_role_is_scoped_to_exact_arns(stack: CapturedStack) -> None:
    table_arn = stack.one("aws:dynamodb/table:Table", "gr-requests").outputs["arn"]
    cost_arn = stack.one("aws:lambda/function:Function", "cost").outputs["arn"]
    by_sid = {s["Sid"]: s for s in statements(policy_of_role(stack, "gr-events-role"))}
    assert by_sid["ReadAndUpdateRecords"]["Resource"] == [table_arn]
    assert by_sid["EstimateCost"] == {"Sid": "EstimateCost", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                                      "Resource": [cost_arn]}
    assert "s3:RestoreObject" not in json.dumps(by_sid)
    _only_unscopable_on_star(by_sid.values())


def _only_unscopable_on_star(stmts) -> None:  # type: ignore[no-untyped-def]
    for statement in stmts:
        assert not any("*" in action for action in statement["Action"]), statement
        if "*" in statement["Resource"]:
            assert set(statement["Action"]) <= UNSCOPABLE, statement


def test_restore_events_reach_the_standard_workflow_with_retries_and_a_dead_letter_queue(
        stack: CapturedStack) -> None:
    name, _ = _bucket(stack)
    machine = stack.one("aws:sfn/stateMachine:StateMachine", "gr-events")
    queue = stack.one("aws:sqs/queue:Queue")
    rules = {r.name: r for r in stack.of_type("aws:cloudwatch/eventRule:EventRule")}
    patterns = {n: json.loads(r.inputs["eventPattern"]) for n, r in rules.items()}
    assert patterns["gr-restore-completed"] == {"source": ["aws.s3"], "detail-type": ["Object Restore Completed"],
                                                "detail": {"bucket": {"name": [name]}}}
    assert patterns["gr-restore-expired"]["detail-type"] == ["Object Restore Expired"]
    target_role = stack.one("aws:iam/role:Role", "events-target-role")
    for target in stack.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        inputs = target.inputs
        assert inputs["arn"] == machine.outputs["arn"] and inputs["roleArn"] == target_role.outputs["arn"]
        assert inputs["deadLetterConfig"] == {"arn": queue.outputs["arn"]}
        assert inputs["retryPolicy"]["maximumRetryAttempts"] > 0
    assert statements(policy_of_role(stack, "events-target-role")) == [
        {"Sid": "StartRestoreEventsWorkflow", "Effect": "Allow", "Action": ["states:StartExecution"],
         "Resource": [machine.outputs["arn"]]}]
    queue_policy = json.loads(stack.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])["Statement"][0]
    assert queue_policy["Principal"] == {"Service": "events.amazonaws.com"}
    assert queue_policy["Resource"] == queue.outputs["arn"]
    assert sorted(queue_policy["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        r.outputs["arn"] for r in rules.values())


def test_download_route_lambda_is_least_privilege_and_invocable_only_by_this_api(stack: CapturedStack) -> None:
    _, bucket_arn = _bucket(stack)
    api = stack.one("aws:apigateway/restApi:RestApi")
    permission = stack.one("aws:lambda/permission:Permission", "download").inputs
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["sourceArn"] == api.outputs["executionArn"] + "/*/GET/download"
    assert permission["sourceAccount"] == ACCOUNT
    by_sid = {s["Sid"]: s for s in statements(policy_of_role(stack, "gr-download-role"))}
    assert by_sid["HeadObjects"] == {"Sid": "HeadObjects", "Effect": "Allow",
                                     "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]}
    assert by_sid["ReadRequestRecords"]["Action"] == ["dynamodb:GetItem"]
    signer = stack.one("aws:iam/role:Role", "gr-download-signer-role")
    assert by_sid["AssumeDownloadSigner"] == {"Sid": "AssumeDownloadSigner", "Effect": "Allow",
                                              "Action": ["sts:AssumeRole"], "Resource": [signer.outputs["arn"]]}
    env = stack.one("aws:lambda/function:Function", "download").inputs["environment"]["variables"]
    assert env["URL_TTL_SECONDS"] == "900" and env["AUTH_MODE"] == "iam"
    assert env["SIGNER_ROLE_ARN"] == signer.outputs["arn"]


def test_download_urls_are_signed_by_a_read_only_role_only_the_download_function_may_assume(
        stack: CapturedStack) -> None:
    """Issue 17 item 6: a presigned URL dies with the session that signed it; the signer's sessions are
    assumed for a known length, and the role can do nothing but read the archive's objects."""
    _, bucket_arn = _bucket(stack)
    signer = stack.one("aws:iam/role:Role", "gr-download-signer-role")
    function_role = stack.one("aws:iam/role:Role", "gr-download-role")
    trust = json.loads(signer.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Sid": "DownloadFunctionOnly", "Effect": "Allow",
                                   "Principal": {"AWS": function_role.outputs["arn"]}, "Action": "sts:AssumeRole"}]
    by_sid = {s["Sid"]: s for s in statements(policy_of_role(stack, "gr-download-signer-role"))}
    assert set(by_sid) == {"DownloadObjects", "TellMissingKeysApart"}
    assert by_sid["DownloadObjects"]["Action"] == ["s3:GetObject"]
    assert by_sid["DownloadObjects"]["Resource"] == [f"{bucket_arn}/*"]
    # A chained role session lasts at most an hour (STS AssumeRole, DurationSeconds: "if you assume a role
    # using role chaining and provide a DurationSeconds parameter value greater than one hour, the operation
    # fails", https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html); the role allows it.
    session = int(stack.one("aws:lambda/function:Function", "download").inputs["environment"]["variables"][
        "SIGNER_SESSION_SECONDS"])
    assert 900 <= session <= 3600 and signer.inputs["maxSessionDuration"] >= session


def test_the_longest_url_lifetime_ends_before_the_session_that_signs_it() -> None:
    from serverless_patterns.lambdas.glacier_restore.download import app

    assert MAX_DOWNLOAD_URL_TTL + app.CLOCK_MARGIN_SECONDS <= SIGNER_SESSION_SECONDS <= 3600
    build({**ARGS, "download_url_ttl_seconds": MAX_DOWNLOAD_URL_TTL}, "longest")
    with pytest.raises(ComponentArgsError, match="download_url_ttl_seconds"):
        build({**ARGS, "download_url_ttl_seconds": MAX_DOWNLOAD_URL_TTL + 1}, "too-long")


def test_two_components_get_signer_roles_of_their_own() -> None:
    one = build(ARGS, "one").one("aws:iam/role:Role", "one-download-signer-role").inputs["name"]
    two = build(ARGS, "two").one("aws:iam/role:Role", "two-download-signer-role").inputs["name"]
    assert one != two and len(one) <= 64 and len(two) <= 64  # IAM role names: at most 64 characters


def test_an_existing_bucket_is_used_as_given() -> None:
    stack = build({**ARGS, "bucket_name": "institute-backups"})
    assert [b.name for b in stack.of_type("aws:s3/bucket:Bucket")] == ["gr-work"]  # no archive bucket made
    assert stack.one("aws:s3/bucketNotification:BucketNotification").inputs["bucket"] == "institute-backups"
    by_sid = {s["Sid"]: s for s in statements(policy_of_role(stack, "gr-request-role"))}
    assert by_sid["HeadAndRestoreArchivedObjects"]["Resource"] == ["arn:aws:s3:::institute-backups/*"]
    assert definition_of(stack, "gr-request")["States"]["HeadObject"]["Parameters"]["Bucket"] == "institute-backups"


KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_an_existing_sse_kms_bucket_lets_downloads_decrypt_through_s3_only() -> None:
    stack = build({**ARGS, "bucket_name": "institute-backups", "bucket_kms_key_arn": KMS_KEY})
    by_sid = {s["Sid"]: s for s in statements(policy_of_role(stack, "gr-download-signer-role"))}
    assert by_sid["DecryptArchivedObjects"] == {
        "Sid": "DecryptArchivedObjects", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KMS_KEY],
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}}
    # The function only heads objects and signs with the signer's session; it never decrypts.
    assert "kms:Decrypt" not in json.dumps(policy_of_role(stack, "gr-download-role"))
    assert "kms:Decrypt" not in json.dumps(policy_of_role(build(ARGS, "plain"), "plain-download-signer-role"))


def test_an_existing_verified_domain_identity_is_referenced_not_created() -> None:
    stack = build({**ARGS, "sender_identity": "research.example.org", "create_sender_identity": False})
    assert stack.of_type("aws:sesv2/emailIdentity:EmailIdentity") == []
    by_sid = {s["Sid"]: s for s in statements(policy_of_role(stack, "gr-request-role"))}
    assert by_sid["SendFromVerifiedSender"]["Resource"] == [
        f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/research.example.org"]


def test_expedited_needs_glacier_and_adds_the_deep_archive_guard() -> None:
    stack = build({**ARGS, "storage_classes": ["GLACIER", "DEEP_ARCHIVE"],
                   "allowed_tiers": ["Expedited", "Standard", "Bulk"]})
    states = definition_of(stack, "gr-request")["States"]
    assert "ExpeditedNotAvailable" in states
    assert "ExpeditedNotAvailable" not in definition_of(build(ARGS, "plain"), "plain-request")["States"]


@pytest.mark.parametrize(("change", "field"), [
    ({"max_days": 0}, "max_days"),
    ({"max_days": MAX_RESTORE_DAYS + 1}, "max_days"),
    ({"default_days": 31}, "default_days"),
    ({"allowed_tiers": ["Expedited", "Standard"]}, "allowed_tiers[0]"),
    ({"allowed_tiers": ["Standard", "Fast"]}, "allowed_tiers[1]"),
    ({"default_tier": "Expedited"}, "default_tier"),
    ({"storage_classes": ["STANDARD"]}, "storage_classes[0]"),
    ({"sender_email": "restores@@example.org"}, "sender_email"),
    ({"sender_email": None}, "sender_email"),
    ({"sender_identity": "other.example.org"}, "sender_identity"),
    ({"sender_identity": "someone@research.example.org"}, "sender_identity"),
    ({"download_url_ttl_seconds": 86400}, "download_url_ttl_seconds"),
    ({"auth": "cognito"}, "cognito_user_pool_arns"),
    ({"auth": "api-key"}, "auth"),
    ({"pricing_region": "eu-west-1"}, "pricing_region"),
    ({"prices": {"retrieval_per_gb": {"GLACIER": {"Standard": 0.01}}}}, "prices.retrieval_per_gb.DEEP_ARCHIVE"),
    ({"prices": {"data_transfer_out_per_gb": -1}}, "prices.data_transfer_out_per_gb"),
    ({"bucket_name": "Not_A_Bucket"}, "bucket_name"),
    ({"bucket_kms_key_arn": KMS_KEY}, "bucket_kms_key_arn"),  # only for an existing bucket
    ({"bucket_name": "institute-backups", "bucket_kms_key_arn": "alias/archive"}, "bucket_kms_key_arn"),
    ({"bucket_name": "institute-backups", "bucket_kms_key_arn": KMS_KEY.replace(":key/", ":alias/")},
     "bucket_kms_key_arn"),
    ({"bucket_name": "institute-backups", "bucket_kms_key_arn": KMS_KEY + "\n"}, "bucket_kms_key_arn"),
    ({"retention": 3}, "retention"),
])
def test_bad_arguments_fail_at_construction_naming_the_field(change: dict, field: str) -> None:
    args = {**ARGS, **change}
    if args.get("sender_email") is None:
        del args["sender_email"]
    with pytest.raises(ComponentArgsError) as error:
        build(args)  # type: ignore[arg-type]
    assert error.value.component == "GlacierRestore"
    assert error.value.field == field


def test_the_dev_stack_section_builds_as_configured() -> None:
    from pathlib import Path

    import yaml

    from serverless_patterns.offline import run_callable

    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml").read_text())["config"]
    section = config["serverless-patterns:patterns"]["glacierRestore"]
    stack = run_callable(lambda: from_config("glacier-restore", section, _stack_config()),
                         config={"aws:region": REGION}, account=ACCOUNT)
    states = definition_of(stack, "glacier-restore-request")["States"]
    assert states["WithDefaults"]["Parameters"]["defaults"]["tier"] == section["defaultTier"]
    assert states["InvalidDays"]["Cause"].endswith(f"from 1 to {section['maxDays']}")
    env = stack.one("aws:lambda/function:Function", "cost").inputs["environment"]["variables"]
    assert env["PRICING_REGION"] == section["pricingRegion"]
    assert json.loads(env["PRICES"])["retrieval_per_gb"] == section["prices"]["retrievalPerGb"]
    assert stack.one("aws:sesv2/emailIdentity:EmailIdentity").inputs["emailIdentity"] == section["senderEmail"]


def _stack_config() -> StackConfig:
    return StackConfig(project="p", stack="dev", tags={"team": "research-it"},
                       function_settings={"log_retention_days": 14})  # type: ignore[typeddict-item]


def test_from_config_maps_camel_case_keys_and_prices() -> None:
    section = {"enabled": True, "senderEmail": SENDER, "defaultDays": 3, "maxDays": 10,
               "allowedTiers": ["Bulk"], "prices": {"currency": "USD", "dataTransferOutPerGb": 0.08,
                                                    "restoredStoragePerGbMonth": 0.024}}
    from serverless_patterns.offline import run_callable

    stack = run_callable(lambda: from_config("glacier-restore", section, _stack_config()),
                         config={"aws:region": REGION}, account=ACCOUNT)
    env = stack.one("aws:lambda/function:Function", "cost").inputs["environment"]["variables"]
    prices = json.loads(env["PRICES"])
    assert prices["data_transfer_out_per_gb"] == 0.08 and prices["restored_storage_per_gb_month"] == 0.024
    states = definition_of(stack, "glacier-restore-request")["States"]
    assert states["WithDefaults"]["Parameters"]["defaults"] == {"key": None, "email": None, "days": 3,
                                                                "tier": "Bulk"}
    assert states["InvalidDays"]["Cause"] == "days: must be a whole number from 1 to 10"
    assert stack.one("aws:cloudwatch/logGroup:LogGroup", "request-logs").inputs["retentionInDays"] == 14


@pytest.mark.parametrize(("section", "path"), [
    ({"senderEmail": SENDER, "maxDay": 3}, "patterns.glacierRestore.maxDay"),
    ({"senderEmail": SENDER, "prices": {"egress": 1}}, "patterns.glacierRestore.prices.egress"),
    ({"defaultDays": 3}, "patterns.glacierRestore.senderEmail"),
])
def test_from_config_rejects_unknown_or_missing_keys(section: dict, path: str) -> None:
    with pytest.raises(ConfigError) as error:
        from_config("glacier-restore", section, _stack_config())
    assert error.value.field == path


BUCKET_CLASSES = ("Bucket", "BucketOwnershipControls", "BucketVersioning", "BucketServerSideEncryptionConfiguration",
                  "BucketPublicAccessBlock", "BucketPolicy", "BucketNotification")


@pytest.mark.parametrize("protect", [False, True])
def test_the_archive_bucket_and_its_settings_outlive_the_stack(monkeypatch: pytest.MonkeyPatch, protect: bool) -> None:
    """The offline engine does not capture resource options, so record the ones the component passes."""
    import pulumi_aws as aws

    options: dict[str, object] = {}
    for class_name in BUCKET_CLASSES:
        original = getattr(aws.s3, class_name)

        def init(self, name, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            options[name] = kwargs.get("opts")
            _original.__init__(self, name, *args, **kwargs)

        monkeypatch.setattr(aws.s3, class_name, type(class_name, (original,), {"__init__": init}))
    build({**ARGS, "protect_data": protect})
    options = {name: opts for name, opts in options.items() if not name.startswith("gr-work")}  # work bucket aside
    assert len(options) == len(BUCKET_CLASSES)
    for name, opts in options.items():
        assert opts.retain_on_delete is True, name  # type: ignore[attr-defined]
    assert options["gr-archive"].protect is protect  # type: ignore[attr-defined]
