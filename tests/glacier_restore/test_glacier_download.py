"""The download Lambda against moto: presigned URLs for restored objects, for their requesters only."""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto.sts.models import sts_backends

from serverless_patterns.lambdas.glacier_restore.download import app
from serverless_patterns.offline.sfn import emulate_missing_key_access

from .conftest import ARGS, build, policy_of_role
from .workflow_env import LambdaContext

BUCKET = "institute-archive"
TABLE = "restore-requests"
KEY = "projects/genome-2019/run-42.tar"
ALICE_SESSION_1 = f"arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/Researchers/alice-laptop"
ALICE_SESSION_2 = f"arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/Researchers/alice-cluster"
MALLORY = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/mallory"
ALICE_SUB = "5f0c1a2b-1111-4c3d-9e8f-000000000001"
SIGNER_ROLE = "download-signer-0123456789abcdef"
SIGNER_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{SIGNER_ROLE}"


@pytest.fixture(scope="module")
def download_role_policy() -> str:
    """The download function's inline policy as the component generates it for this bucket."""
    return json.dumps(policy_of_role(build({**ARGS, "bucket_name": BUCKET}), "gr-download-role"))


@pytest.fixture
def download(monkeypatch: pytest.MonkeyPatch, download_role_policy: str) -> Iterator[Any]:
    """The handler against moto, where S3 answers missing keys as it would to the function's role."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("URL_TTL_SECONDS", "600")
    monkeypatch.setenv("AUTH_MODE", "iam")
    monkeypatch.setenv("SIGNER_ROLE_ARN", SIGNER_ARN)
    monkeypatch.setenv("SIGNER_SESSION_SECONDS", "3600")
    with mock_aws(), emulate_missing_key_access([download_role_policy]):
        module = importlib.reload(app)
        boto3.client("iam", region_name="us-east-1").create_role(
            RoleName=SIGNER_ROLE, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/download-fn"},
                 "Action": "sts:AssumeRole"}]}), MaxSessionDuration=3600)
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"archive", StorageClass="DEEP_ARCHIVE")
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "objectKey", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "objectKey", "AttributeType": "S"}])
        ddb.put_item(TableName=TABLE, Item={
            "objectKey": {"S": KEY}, "status": {"S": "RESTORE_IN_PROGRESS"},
            "requesters": {"SS": ["alice@research.example.org"]},
            "principals": {"SS": [ALICE_SESSION_1, ALICE_SUB]}})
        yield module
        module.s3_client.cache_clear()
        module.sts_client.cache_clear()
        module.dynamodb_client.cache_clear()


def _restore(status: str | None) -> None:
    """Put the object in a restore state: None (never restored), IN_PROGRESS or RESTORED."""
    if status is None:
        return
    boto3.client("s3", region_name="us-east-1").restore_object(Bucket=BUCKET, Key=KEY, RestoreRequest={"Days": 3})
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(BUCKET, KEY).status = status


def event(key: str | None = KEY, *, user_arn: str | None = ALICE_SESSION_2,
          claims: dict[str, str] | None = None) -> dict[str, Any]:
    """The API Gateway REST proxy event of `GET /download?key=...`."""
    context: dict[str, Any] = {"resourcePath": "/download", "httpMethod": "GET", "stage": "v1",
                               "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                               "identity": {"userArn": user_arn, "sourceIp": "203.0.113.7"}}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"resource": "/download", "path": "/download", "httpMethod": "GET", "headers": {},
            "multiValueHeaders": {}, "queryStringParameters": {"key": key} if key is not None else None,
            "multiValueQueryStringParameters": {"key": [key]} if key is not None else None,
            "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": context}


def call(module: Any, evt: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = module.handler(evt, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def test_a_requester_gets_a_short_lived_presigned_url_for_the_restored_copy(download: Any) -> None:
    _restore("RESTORED")
    status, body = call(download, event())  # another session of the role that requested it
    assert status == 200, body
    url = urlparse(body["url"])
    assert url.hostname.startswith(BUCKET) and url.path == f"/{KEY}"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["600"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert body["expiresInSeconds"] == 600 and body["restoredCopyAvailableUntil"]


def _signer_sessions() -> list[Any]:
    """The sessions moto's STS handed out, oldest first."""
    return list(sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_urls_are_signed_by_a_signer_session_that_outlives_them(download: Any) -> None:
    """Issue 17 item 6. "If you created a presigned URL using a temporary token, then the URL expires when the
    token expires" (https://repost.aws/knowledge-center/presigned-url-s3-bucket-expiration): the URL must carry
    the credentials of an assumed signer session (X-Amz-Credential, X-Amz-Security-Token) that lasts at least
    until the URL's own end (X-Amz-Date + X-Amz-Expires), not the function's own session."""
    _restore("RESTORED")
    status, body = call(download, event())
    assert status == 200, body
    query = parse_qs(urlparse(body["url"]).query)
    [session] = _signer_sessions()
    assert session.role_arn == SIGNER_ARN and session.session_name == "presigned-downloads"
    assert query["X-Amz-Credential"][0].split("/")[0] == session.access_key_id
    assert query["X-Amz-Security-Token"] == [session.session_token]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    url_ends = signed_at + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    assert _as_utc(session.expiration) >= url_ends + timedelta(seconds=download.CLOCK_MARGIN_SECONDS)


def test_a_signer_session_is_reused_while_it_outlives_a_new_url_then_renewed(
        download: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _restore("RESTORED")
    assert call(download, event())[0] == 200
    assert call(download, event())[0] == 200
    assert len(_signer_sessions()) == 1  # one AssumeRole for both URLs
    # Age the held session to one second less than a 600 s URL plus the margin needs.
    held = download._signer
    monkeypatch.setattr(download, "_signer", dataclasses.replace(held, expiration=download.now() + timedelta(
        seconds=600 + download.CLOCK_MARGIN_SECONDS - 1)))
    status, body = call(download, event())
    assert status == 200 and len(_signer_sessions()) == 2
    query = parse_qs(urlparse(body["url"]).query)
    assert query["X-Amz-Security-Token"] == [_signer_sessions()[1].session_token]


def test_a_signer_session_too_short_for_the_url_is_a_503_not_a_url_that_dies_early(
        download: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # STS grants the DurationSeconds asked for (AssumeRole API reference); 900 s cannot cover 900 s + margin.
    monkeypatch.setenv("URL_TTL_SECONDS", "900")
    monkeypatch.setenv("SIGNER_SESSION_SECONDS", "900")
    _restore("RESTORED")
    status, body = call(download, event())
    assert status == 503 and "as long as configured" in body["message"]


def test_someone_who_did_not_request_the_restore_is_refused(download: Any) -> None:
    _restore("RESTORED")
    status, body = call(download, event(user_arn=MALLORY))
    assert status == 403 and "not among the requesters" in body["message"]


def test_a_restore_still_in_progress_is_a_409(download: Any) -> None:
    _restore("IN_PROGRESS")
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="s3::keyrestore", transition={"progression": "manual", "times": 10**6})
    try:
        status, body = call(download, event())
    finally:
        state_manager.unset_transition("s3::keyrestore")
    assert status == 409 and "still in progress" in body["message"]


def test_an_archived_object_without_a_restored_copy_is_a_410(download: Any) -> None:
    _restore(None)
    status, body = call(download, event())
    assert status == 410 and "expired" in body["message"]


def test_a_missing_key_parameter_is_a_400_naming_it(download: Any) -> None:
    status, body = call(download, event(key=None))
    assert status == 400 and body["message"].startswith("key: ")


def test_a_key_nobody_requested_is_a_404(download: Any) -> None:
    status, body = call(download, event(key="projects/other.tar"))
    assert status == 404 and "no restore" in body["message"]


def test_a_requested_object_deleted_since_is_a_404(download: Any) -> None:
    """The role may s3:ListBucket, so S3 says 404 for the missing key, not 403 (HeadObject API reference,
    "Permissions": https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)."""
    boto3.client("s3", region_name="us-east-1").delete_object(Bucket=BUCKET, Key=KEY)
    status, body = call(download, event())
    assert status == 404 and "no longer in the archive" in body["message"] and KEY in body["message"]


def test_a_request_without_an_identity_is_refused(download: Any) -> None:
    status, _ = call(download, event(user_arn=None))
    assert status == 401


@pytest.mark.parametrize(("claims", "allowed"), [
    ({"sub": ALICE_SUB}, True),
    ({"sub": "someone-else", "email": "Alice@research.example.org", "email_verified": "true"}, True),
    ({"sub": "someone-else", "email": "alice@research.example.org", "email_verified": "false"}, False),
    ({"sub": "someone-else"}, False),
])
def test_cognito_callers_are_matched_by_sub_or_verified_email(download: Any, monkeypatch: pytest.MonkeyPatch,
                                                              claims: dict[str, str], allowed: bool) -> None:
    monkeypatch.setenv("AUTH_MODE", "cognito")
    _restore("RESTORED")
    status, _ = call(download, event(user_arn=None, claims=claims))
    assert status == (200 if allowed else 403)


def test_group_prefixes_bound_downloads_too(download: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = f"arn:aws:cognito-idp:us-east-1:{DEFAULT_ACCOUNT_ID}:userpool/us-east-1_Ab12Cd34E"
    stack = build({**ARGS, "bucket_name": BUCKET, "auth": "cognito", "cognito_user_pool_arns": [pool],
                   "group_prefixes": {"genomics": ["projects/genome-"], "imaging": ["projects/imaging/"]}})
    environment = stack.one("aws:lambda/function:Function", "gr-download").inputs["environment"]["variables"]
    for name in ("AUTH_MODE", "GROUP_PREFIXES"):  # as the component configures the function
        monkeypatch.setenv(name, environment[name])
    _restore("RESTORED")
    status, body = call(download, event(user_arn=None, claims={"sub": ALICE_SUB, "cognito:groups": "imaging"}))
    assert status == 403 and body["message"] == "key: outside the prefixes your Cognito groups may see " \
                                                "(projects/imaging/)"
    assert call(download, event(user_arn=None, claims={"sub": ALICE_SUB}))[0] == 403  # in no group
    both = {"sub": ALICE_SUB, "cognito:groups": "[imaging genomics]"}
    assert call(download, event(user_arn=None, claims=both))[0] == 200


def test_an_aws_failure_is_a_503_without_details(download: Any) -> None:
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=TABLE)
    status, body = call(download, event())
    assert status == 503 and "ResourceNotFound" not in json.dumps(body)


@pytest.mark.parametrize(("arn", "key"), [
    (ALICE_SESSION_1, f"role:{DEFAULT_ACCOUNT_ID}:Researchers"),
    (f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/service/Researchers", f"role:{DEFAULT_ACCOUNT_ID}:Researchers"),
    (MALLORY, f"user:{DEFAULT_ACCOUNT_ID}:mallory"),
    ("5f0c1a2b", "5f0c1a2b"),
])
def test_sessions_of_one_role_are_one_principal(arn: str, key: str) -> None:
    assert app.principal_key(arn) == key
