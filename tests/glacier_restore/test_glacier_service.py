"""The service routes against moto: browse the archive (`GET /objects`) and estimate a restore
(`POST /restores/estimate`) with the completion workflow's own estimator."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager
from moto.s3.models import s3_backends

from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app
from serverless_patterns.lambdas.glacier_restore.cost_estimate import service
from serverless_patterns.offline.sfn import REGION, SfnHarness

from .service_env import call, proxy_event
from .workflow_env import ALICE, DEEP, FLEX, SIZES, STANDARD, Archive, Deployed

GENOME = "projects/genome-2019/"


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    return Deployed.build()


@pytest.fixture(scope="module")
def shared_archive(deployed: Deployed) -> Iterator[Archive]:
    """One moto account for the module (tests reset what they change, see `archive`)."""
    environment = deployed.stack.one("aws:lambda/function:Function", "gr-service").inputs["environment"]["variables"]
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {**deployed.cost_environment, **environment, "AWS_REGION": REGION}.items():
            mp.setenv(name, value)
        importlib.reload(cost_app)
        module = importlib.reload(service)
        # Restores stay where a test puts them (moto otherwise advances them on every read).
        state_manager.set_transition(model_name="s3::keyrestore",
                                     transition={"progression": "manual", "times": 10**6})
        with SfnHarness() as h:
            yield Archive(h, deployed).setup()
        state_manager.unset_transition("s3::keyrestore")
        module.s3_client.cache_clear()


@pytest.fixture
def archive(shared_archive: Archive) -> Iterator[Archive]:
    yield shared_archive
    # Undo the test's restores and records.
    bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(shared_archive.deployed.bucket)
    for key in bucket.keys.values():
        key.set_expiry(None)
        key.status = None
    table = shared_archive.deployed.table
    for item in shared_archive.h.dynamodb.scan(TableName=table)["Items"]:
        shared_archive.h.dynamodb.delete_item(TableName=table, Key={"objectKey": item["objectKey"]})


def restore_state(archive: Archive, key: str, status: str) -> None:
    """Start a restore of `key` in moto and hold it at IN_PROGRESS or RESTORED."""
    archive.h.s3.restore_object(Bucket=archive.deployed.bucket, Key=key, RestoreRequest={"Days": 2})
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(archive.deployed.bucket, key).status = status


def browse(query: dict[str, str] | None = None, claims: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    return call(service, proxy_event("GET", "/objects", query=query, user_arn=ALICE, claims=claims))


def estimate(body: Any) -> tuple[int, dict[str, Any]]:
    return call(service, proxy_event("POST", "/restores/estimate", body=body, user_arn=ALICE))


# --- GET /objects ------------------------------------------------------------------------------------------

def test_browse_shows_size_class_and_restore_state_without_a_head_per_object(archive: Archive,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    restore_state(archive, FLEX, "IN_PROGRESS")
    heads: list[Any] = []
    monkeypatch.setattr(service.s3_client(), "head_object", lambda **kw: heads.append(kw))
    status, body = browse({"prefix": GENOME})
    assert status == 200, body
    rows = {o["key"]: o for o in body["objects"]}
    assert set(rows) == {DEEP, FLEX, STANDARD} and heads == []
    assert rows[DEEP]["sizeBytes"] == SIZES[DEEP] and rows[DEEP]["storageClass"] == "DEEP_ARCHIVE"
    assert rows[DEEP]["restore"] == {"state": "archived", "availableUntil": None}
    assert rows[FLEX]["restore"] == {"state": "restoring", "availableUntil": None}
    assert rows[STANDARD]["restore"]["state"] == "not-archived"
    restore_state(archive, DEEP, "RESTORED")
    restored = {o["key"]: o for o in browse({"prefix": GENOME})[1]["objects"]}[DEEP]["restore"]
    assert restored["state"] == "restored" and restored["availableUntil"].startswith("20")


def test_browse_walks_folders_and_pages_with_an_opaque_cursor(archive: Archive) -> None:
    status, top = browse()
    assert status == 200 and top["folders"] == ["projects/"] and top["objects"] == []
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        query = {"prefix": GENOME, "pageSize": "2", **({"cursor": cursor} if cursor else {})}
        status, page = browse(query)
        assert status == 200 and len(page["objects"]) <= 2
        seen += [o["key"] for o in page["objects"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([DEEP, FLEX, STANDARD]) and cursor is None


@pytest.mark.parametrize(("query", "field"), [
    ({"prefix": "x" * 1025}, "prefix"),
    ({"prefix": "projects/\x00"}, "prefix"),
    ({"pageSize": "0"}, "pageSize"),
    ({"pageSize": "1001"}, "pageSize"),
    ({"pageSize": "ten"}, "pageSize"),
])
def test_a_bad_prefix_or_page_size_is_a_400_naming_it(archive: Archive, query: dict[str, str], field: str) -> None:
    status, body = browse(query)
    assert status == 400 and body["error"] == "InvalidRequest" and body["message"].startswith(f"{field}:")
    assert body["requestId"]


def test_group_prefixes_limit_what_each_cognito_group_sees(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUP_PREFIXES", json.dumps({"genomics": [GENOME], "imaging": ["projects/imaging/"]}))
    genomics = {"sub": "5f0c1a2b-1111-4c3d-9e8f-000000000001", "cognito:groups": "genomics"}
    status, body = browse({"prefix": GENOME}, claims=genomics)
    assert status == 200 and {o["key"] for o in body["objects"]} == {DEEP, FLEX, STANDARD}
    status, body = browse({"prefix": "projects/"}, claims=genomics)  # above the area: only the area itself
    assert status == 200 and body == {"prefix": "projects/", "objects": [], "folders": [GENOME], "nextCursor": None}
    status, body = browse({"prefix": "projects/imaging/"}, claims=genomics)
    assert status == 403 and body["message"].startswith("prefix: outside the prefixes") and GENOME in body["message"]
    nobody = {"sub": "5f0c1a2b-1111-4c3d-9e8f-000000000002"}
    assert browse({"prefix": GENOME}, claims=nobody)[0] == 403
    both = {"sub": "5f0c1a2b-1111-4c3d-9e8f-000000000003", "cognito:groups": "[imaging genomics]"}
    assert browse({"prefix": GENOME}, claims=both)[0] == 200


def test_an_s3_failure_is_a_503_without_detail(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "We encountered an internal error"}},
                          "ListObjectsV2")

    monkeypatch.setattr(service.s3_client(), "list_objects_v2", fail)
    status, body = browse({"prefix": GENOME})
    assert status == 503 and body["error"] == "ServiceUnavailable" and "internal" not in body["message"]


# --- POST /restores/estimate --------------------------------------------------------------------------------

def test_the_estimate_matches_the_completion_workflow_to_the_cent(archive: Archive) -> None:
    status, preview = estimate({"key": DEEP, "tier": "Bulk", "days": 3})
    assert status == 200, preview
    assert preview["objectCount"] == 1 and preview["sizeBytes"] == SIZES[DEEP]
    assert preview["storageClass"] == "DEEP_ARCHIVE" and preview["estimate"]["source"] == "config"
    requested = archive.request({"key": DEEP, "tier": "Bulk", "days": 3, "email": "alice@research.example.org"})
    assert requested.status == "SUCCEEDED", requested.describe()
    archive.finish_restore(DEEP)
    completed = archive.complete(DEEP)
    assert completed.status == "SUCCEEDED", completed.describe()
    figure = completed.output["estimate"]
    assert round(preview["estimate"]["total"], 2) == round(figure["total"], 2)
    assert preview["estimate"]["lines"] == figure["lines"] and preview["estimate"]["summary"] == figure["summary"]


def test_the_estimate_defaults_tier_and_days_as_the_request_workflow_does(archive: Archive) -> None:
    status, preview = estimate({"key": FLEX})
    assert status == 200 and (preview["tier"], preview["days"]) == ("Standard", 7)


@pytest.mark.parametrize(("body", "status", "error", "field"), [
    ({}, 400, "InvalidRequest", "key"),
    ({"key": ""}, 400, "InvalidRequest", "key"),
    ({"key": DEEP, "days": 0}, 400, "InvalidRequest", "days"),
    ({"key": DEEP, "days": 1.5}, 400, "InvalidRequest", "days"),
    ({"key": DEEP, "days": True}, 400, "InvalidRequest", "days"),
    ({"key": DEEP, "days": 31}, 400, "InvalidRequest", "days"),
    ({"key": DEEP, "tier": "Expedited"}, 400, "InvalidRequest", "tier"),
    ({"key": DEEP, "colour": "blue"}, 400, "InvalidRequest", "colour"),
    ("not json", 400, "InvalidRequest", "body"),
    (["a list"], 400, "InvalidRequest", "body"),
    ({"key": "projects/none.tar"}, 404, "NoSuchKey", "key"),
    ({"key": STANDARD}, 400, "NotArchived", "key"),
])
def test_bad_estimate_input_is_a_4xx_naming_the_field(archive: Archive, body: Any, status: int, error: str,
                                                      field: str) -> None:
    got, answer = estimate(body)
    assert (got, answer["error"]) == (status, error), answer
    assert answer["message"].startswith(f"{field}:")


def test_an_aggregate_estimate_is_the_sum_of_its_objects(archive: Archive) -> None:
    one = cost_app.estimate({"sizeBytes": 5 * 1024 ** 3, "tier": "Bulk", "days": 4, "storageClass": "DEEP_ARCHIVE",
                             "region": REGION})
    many = cost_app.estimate({"sizeBytes": 2000 * 5 * 1024 ** 3, "objectCount": 2000, "tier": "Bulk", "days": 4,
                              "storageClass": "DEEP_ARCHIVE", "region": REGION})
    assert many["objectCount"] == 2000 and round(many["total"], 2) == round(2000 * one["total"], 2)
    assert many["lines"]["request"] == pytest.approx(2000 * one["lines"]["request"])
