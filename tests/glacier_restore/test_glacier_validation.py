"""The request workflow's validation states, executed in moto's Step Functions engine, at their boundaries.

Each test builds the definition itself (a pure function of the settings) and runs the part of it that
validates: from `StartAt` through `ValidateRequest` (the request's fields), and through HeadObject (moto's
S3) and `RouteByObjectState` (what HeadObject answered). The product's states run unchanged; only the
states after validation are cut, each replaced by a `Succeed` state of the same name, so a case shows
which way it left validation. The whole workflow runs in test_glacier_workflows.py.
What reaches S3 is checked against S3's contract: only GLACIER and DEEP_ARCHIVE objects need a restore,
and Deep Archive has no Expedited tier ("Understanding archive retrieval options",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from serverless_patterns.glacier_restore.definitions import WorkflowSettings, request_definition
from serverless_patterns.offline.sfn import Execution, SfnHarness

BUCKET = "archive-bucket"
DEEP, FLEX, PLAIN = "run-42.tar", "run-17.tar", "README.txt"
EMAIL = "alice@research.example.org"
SETTINGS = WorkflowSettings(bucket=BUCKET, table="restores", sender="restores@research.example.org",
                            download_endpoint="https://api.example.org/v1/download", max_days=30)
EXPEDITED = WorkflowSettings(**{**SETTINGS.__dict__, "allowed_tiers": ("Expedited", "Standard", "Bulk")})


@pytest.fixture(scope="module")
def harness() -> Iterator[SfnHarness]:
    """One moto account for the module: the cases only read the bucket, each run is its own machine."""
    with SfnHarness() as h:
        h.s3.create_bucket(Bucket=BUCKET)
        for key, storage_class in ((DEEP, "DEEP_ARCHIVE"), (FLEX, "GLACIER"), (PLAIN, "STANDARD")):
            h.s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", StorageClass=storage_class)
        yield h


#: Where validation ends: the first state after the request's fields, and the states after the object's.
FIELDS_END = {"HeadObject"}
OBJECT_END = {"ClaimRestore", "RouteByRestoreState"}


def cut(definition: dict[str, Any], ends: set[str]) -> dict[str, Any]:
    """The states reachable from StartAt without passing an end state; each end state becomes a Succeed."""
    states, kept, todo = definition["States"], {}, [definition["StartAt"]]
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        if name in ends:
            kept[name] = {"Type": "Succeed"}
            continue
        state = kept[name] = states[name]
        todo += [state[k] for k in ("Next", "Default") if k in state]
        todo += [rule["Next"] for rule in state.get("Choices", []) + state.get("Catch", [])]
    return {"StartAt": definition["StartAt"], "States": kept}


def request(h: SfnHarness, body: dict[str, Any], settings: WorkflowSettings = SETTINGS,
            ends: set[str] = FIELDS_END) -> Execution:
    return h.run(cut(request_definition(settings), ends), {"body": body, "caller": {"principal": "alice"}},
                 type_="EXPRESS")


def passed_validation(run: Execution) -> bool:
    return run.status == "SUCCEEDED" and "HeadObject" in run.states


@pytest.mark.parametrize(("body", "field"), [
    ({"email": EMAIL}, "key"),
    ({"key": "", "email": EMAIL}, "key"),
    ({"key": 42, "email": EMAIL}, "key"),
    ({"key": DEEP, "days": 0, "email": EMAIL}, "days"),
    ({"key": DEEP, "days": -3, "email": EMAIL}, "days"),
    ({"key": DEEP, "days": 31, "email": EMAIL}, "days"),
    ({"key": DEEP, "days": 2.5, "email": EMAIL}, "days"),
    ({"key": DEEP, "days": 1e1, "email": EMAIL}, "days"),
    ({"key": DEEP, "days": "3", "email": EMAIL}, "days"),
    ({"key": DEEP, "days": None, "email": EMAIL}, "days"),
    ({"key": DEEP, "tier": "Expedited", "email": EMAIL}, "tier"),
    ({"key": DEEP, "tier": "bulk", "email": EMAIL}, "tier"),
    ({"key": DEEP, "tier": 2, "email": EMAIL}, "tier"),
    ({"key": DEEP}, "email"),
    ({"key": DEEP, "email": ["alice@example.org"]}, "email"),
    *(({"key": DEEP, "email": bad}, "email") for bad in (
        "alice", "@example.org", "alice@example", "alice@research@example.org", "alice smith@example.org",
        "alice@.example.org", "alice..smith@example.org", "alice@example.", "alice,bob@example.org",
        "alice;bob@example.org", "<alice@example.org", "alice>@example.org")),
])
def test_each_malformed_field_is_an_invalid_request_naming_it(harness: SfnHarness, body: dict[str, Any],
                                                             field: str) -> None:
    run = request(harness, body)
    assert (run.status, run.error) == ("FAILED", "InvalidRequest"), run.describe()
    assert run.cause.startswith(f"{field}: ")
    assert "HeadObject" not in run.states


@pytest.mark.parametrize("body", [
    {"key": DEEP, "email": EMAIL},
    {"key": DEEP, "days": 1, "tier": "Bulk", "email": EMAIL},
    {"key": DEEP, "days": 30, "tier": "Standard", "email": EMAIL},
    {"key": DEEP, "days": 7, "email": "a.b-c+tag@mail.research.example.org"},
])
def test_well_formed_requests_pass_validation(harness: SfnHarness, body: dict[str, Any]) -> None:
    assert passed_validation(request(harness, body))


def test_the_causes_say_what_is_allowed(harness: SfnHarness) -> None:
    assert request(harness, {"key": DEEP, "days": 99, "email": EMAIL}).cause == \
        "days: must be a whole number from 1 to 30"
    assert request(harness, {"key": DEEP, "tier": "Fast", "email": EMAIL}).cause == \
        "tier: must be one of Standard, Bulk"
    assert request(harness, {"key": DEEP, "email": "x"}).cause == \
        "email: must be one email address, such as researcher@example.org"
    assert request(harness, {"email": EMAIL}).cause == "key: required; the key of the archived object to restore"


def test_a_single_allowed_tier_is_the_only_one_accepted(harness: SfnHarness) -> None:
    bulk_only = WorkflowSettings(**{**SETTINGS.__dict__, "allowed_tiers": ("Bulk",), "default_tier": "Bulk"})
    assert request(harness, {"key": DEEP, "tier": "Standard", "email": EMAIL}, bulk_only).cause == \
        "tier: must be one of Bulk"
    assert passed_validation(request(harness, {"key": DEEP, "tier": "Bulk", "email": EMAIL}, bulk_only))


def test_objects_that_are_not_archived_need_no_restore(harness: SfnHarness) -> None:
    run = request(harness, {"key": PLAIN, "email": EMAIL}, ends=OBJECT_END)
    assert (run.status, run.error) == ("FAILED", "NotArchived"), run.describe()
    assert run.cause == (f"key: {PLAIN} is not in S3 Glacier Flexible Retrieval or Deep Archive, "
                         "so it needs no restore")
    for key in (DEEP, FLEX):
        run = request(harness, {"key": key, "email": EMAIL}, ends=OBJECT_END)
        assert run.status == "SUCCEEDED" and "ClaimRestore" in run.states and run.error != "NotArchived", run.describe()


def test_an_object_reported_with_another_storage_class_is_not_archived(harness: SfnHarness) -> None:
    """HeadObject names the class for every class but STANDARD: STANDARD_IA is present and still no archive."""
    harness.s3.put_object(Bucket=BUCKET, Key="ia.bin", Body=b"x", StorageClass="STANDARD_IA")
    assert harness.s3.head_object(Bucket=BUCKET, Key="ia.bin")["StorageClass"] == "STANDARD_IA"
    assert request(harness, {"key": "ia.bin", "email": EMAIL}, ends=OBJECT_END).error == "NotArchived"


def test_expedited_is_refused_for_deep_archive_only(harness: SfnHarness) -> None:
    deep = request(harness, {"key": DEEP, "tier": "Expedited", "email": EMAIL}, EXPEDITED, OBJECT_END)
    assert (deep.status, deep.error) == ("FAILED", "InvalidRequest"), deep.describe()
    assert deep.cause == "tier: Expedited is not available for DEEP_ARCHIVE objects; use Standard or Bulk"
    flex = request(harness, {"key": FLEX, "tier": "Expedited", "email": EMAIL}, EXPEDITED, OBJECT_END)
    assert "ExpeditedNotAvailable" not in flex.states and "ClaimRestore" in flex.states, flex.describe()
    standard = request(harness, {"key": DEEP, "tier": "Standard", "email": EMAIL}, EXPEDITED, OBJECT_END)
    assert "ExpeditedNotAvailable" not in standard.states and "ClaimRestore" in standard.states


def test_without_expedited_there_is_no_expedited_state() -> None:
    assert "ExpeditedNotAvailable" not in request_definition(SETTINGS)["States"]
    assert "ExpeditedNotAvailable" in request_definition(EXPEDITED)["States"]
