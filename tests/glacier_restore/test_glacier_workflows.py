"""Both GlacierRestore workflows, as the component generates them, executed in moto's Step Functions engine."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from moto.moto_api import state_manager
from moto.s3.exceptions import S3ClientError
from moto.s3.models import FakeKey

from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app
from serverless_patterns.offline.sfn import HEAD_404_ERRORS, aws_error_names, s3_error

from .workflow_env import ALICE, ARGS, BOB, DEEP, FLEX, SENDER, STANDARD, Archive, Deployed, matches

pytestmark = pytest.mark.heavy  # every workflow executed in the Step Functions engine


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    return Deployed.build()


@pytest.fixture
def archive(deployed: Deployed, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Archive]:
    for name, value in deployed.cost_environment.items():
        monkeypatch.setenv(name, value)
    importlib.reload(cost_app)  # Powertools reads its environment (metrics namespace) at import, as on Lambda
    with deployed.harness() as h:
        env = Archive(h, deployed).setup()
        env.spy_on_restores(monkeypatch)
        yield env


@pytest.fixture
def restores_take_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """S3 restores stay 'ongoing-request="true"' until `finish_restore` (moto finishes them at once)."""
    original = FakeKey.restore

    def restore(key: FakeKey, days: int) -> None:
        original(key, days)
        key.status = "IN_PROGRESS"

    monkeypatch.setattr(FakeKey, "restore", restore)
    state_manager.set_transition(model_name="s3::keyrestore",
                                 transition={"progression": "manual", "times": 1_000_000})
    yield
    state_manager.unset_transition("s3::keyrestore")


def _set(record: dict[str, Any], attribute: str) -> set[str]:
    return set(record[attribute]["SS"])


def test_a_bulk_request_restores_the_deep_archive_object_with_its_tier_and_days(archive: Archive) -> None:
    run = archive.request({"key": DEEP, "days": 3, "tier": "Bulk", "email": "alice@research.example.org"})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["outcome"] == "restore-started"
    assert (run.output["tier"], run.output["days"], run.output["notification"]) == ("Bulk", 3, "SENT")
    assert archive.restore_requests == [{"Days": "3", "GlacierJobParameters": {"Tier": "Bulk"}}]
    assert run.lambda_invocations == 0
    record = archive.record(DEEP)
    assert record is not None
    assert record["status"]["S"] == "RESTORE_IN_PROGRESS" and record["origin"]["S"] == "request"
    assert (record["tier"]["S"], record["days"]["N"], record["storageClass"]["S"]) == ("Bulk", "3", "DEEP_ARCHIVE")
    assert record["sizeBytes"]["N"] == str(3 * 1024 * 1024)
    assert _set(record, "requesters") == {"alice@research.example.org"}
    assert _set(record, "principals") == {ALICE}
    assert record["notifications"]["M"]["alice@research.example.org"]["M"]["state"]["S"] == "SENT"
    [mail] = archive.sent()
    assert mail.source == SENDER and mail.destinations["ToAddresses"] == ["alice@research.example.org"]
    assert DEEP in mail.subject and "Tier: Bulk" in mail.body and "3 days" in mail.body


def test_a_standard_request_restores_the_glacier_object_with_the_standard_tier(archive: Archive) -> None:
    run = archive.request({"key": FLEX, "days": 14, "tier": "Standard", "email": "bob@research.example.org"}, BOB)
    assert run.status == "SUCCEEDED", run.describe()
    assert archive.restore_requests == [{"Days": "14", "GlacierJobParameters": {"Tier": "Standard"}}]
    record = archive.record(FLEX)
    assert record is not None and record["storageClass"]["S"] == "GLACIER" and record["tier"]["S"] == "Standard"


def test_a_request_without_tier_or_days_gets_the_configured_defaults(archive: Archive) -> None:
    run = archive.request({"key": DEEP, "email": "alice@research.example.org"})
    assert run.status == "SUCCEEDED", run.describe()
    assert archive.restore_requests == [{"Days": "7", "GlacierJobParameters": {"Tier": "Standard"}}]


def test_a_missing_key_is_a_404_reason_and_writes_nothing(archive: Archive) -> None:
    run = archive.request({"key": "projects/nope.tar", "email": "alice@research.example.org"})
    assert (run.status, run.error) == ("FAILED", "NoSuchKey"), run.describe()
    assert run.cause == "key: there is no object projects/nope.tar in the archive"
    assert archive.record("projects/nope.tar") is None and archive.sent() == [] and archive.restore_requests == []


def test_an_object_that_is_not_archived_is_refused_and_nothing_is_written(archive: Archive) -> None:
    run = archive.request({"key": STANDARD, "email": "alice@research.example.org"})
    assert (run.status, run.error) == ("FAILED", "NotArchived"), run.describe()
    assert STANDARD in run.cause
    assert archive.record(STANDARD) is None and archive.sent() == [] and archive.restore_requests == []


def test_expedited_is_refused_for_deep_archive_and_runs_for_glacier(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment offering Expedited: S3 has no Expedited tier for Deep Archive ("Restoring an archived
    object", https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html),
    so the workflow answers a 400 naming the tier before it asks S3; a Flexible Retrieval object gets it."""
    deployed = Deployed.build({**ARGS, "allowed_tiers": ["Expedited", "Standard", "Bulk"]})
    with deployed.harness() as h:
        archive = Archive(h, deployed).setup()
        archive.spy_on_restores(monkeypatch)
        deep = archive.request({"key": DEEP, "tier": "Expedited", "email": "alice@research.example.org"})
        assert (deep.status, deep.error) == ("FAILED", "InvalidRequest"), deep.describe()
        assert deep.cause.startswith("tier: Expedited is not available for DEEP_ARCHIVE")
        assert "HeadObject" in deep.states and "ExpeditedNotAvailable" in deep.states
        assert archive.record(DEEP) is None and archive.sent() == [] and archive.restore_requests == []
        flex = archive.request({"key": FLEX, "tier": "Expedited", "email": "alice@research.example.org"})
        assert flex.status == "SUCCEEDED", flex.describe()
        assert archive.restore_requests == [{"Days": "7", "GlacierJobParameters": {"Tier": "Expedited"}}]


@pytest.mark.parametrize(("body", "field"), [
    # One case per field: every boundary of the validation states is in test_glacier_validation.py.
    ({"key": 42, "email": "alice@research.example.org"}, "key"),
    ({"key": DEEP, "days": 2.5, "email": "alice@research.example.org"}, "days"),
    ({"key": DEEP, "tier": "Expedited", "email": "alice@research.example.org"}, "tier"),
    ({"key": DEEP, "email": "alice smith@example.org"}, "email"),
])
def test_each_malformed_field_is_a_400_naming_it_and_nothing_is_half_written(
        archive: Archive, body: dict[str, Any], field: str) -> None:
    run = archive.request(body)
    assert (run.status, run.error) == ("FAILED", "InvalidRequest"), run.describe()
    assert run.cause.startswith(f"{field}: ")
    assert "HeadObject" not in run.states
    assert archive.record(DEEP) is None and archive.sent() == [] and archive.restore_requests == []


@pytest.mark.usefixtures("restores_take_time")
def test_a_duplicate_request_while_the_restore_runs_joins_it_idempotently(archive: Archive) -> None:
    first = archive.request({"key": DEEP, "tier": "Bulk", "days": 5, "email": "alice@research.example.org"})
    assert first.output["outcome"] == "restore-started", first.describe()
    second = archive.request({"key": DEEP, "tier": "Standard", "email": "bob@research.example.org"}, BOB)
    assert second.status == "SUCCEEDED", second.describe()
    assert second.output["outcome"] == "joined-restore"
    assert (second.output["tier"], second.output["days"]) == (None, None)
    again = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    assert again.output["outcome"] == "joined-restore", again.describe()
    # One restore, at the first request's tier; both requesters recorded once each.
    assert archive.restore_requests == [{"Days": "5", "GlacierJobParameters": {"Tier": "Bulk"}}]
    record = archive.record(DEEP)
    assert record is not None and record["tier"]["S"] == "Bulk" and record["status"]["S"] == "RESTORE_IN_PROGRESS"
    assert _set(record, "requesters") == {"alice@research.example.org", "bob@research.example.org"}
    assert _set(record, "principals") == {ALICE, BOB}
    assert [m.destinations["ToAddresses"] for m in archive.sent()] == [
        ["alice@research.example.org"], ["bob@research.example.org"], ["alice@research.example.org"]]
    assert "already in progress" in archive.sent()[1].body


class _RestoreAlreadyInProgress(S3ClientError):
    code = 409

    def __init__(self) -> None:
        super().__init__("RestoreAlreadyInProgress", "Object restore is already in progress")


class _AccessDenied(S3ClientError):
    code = 403

    def __init__(self) -> None:
        super().__init__("AccessDenied", "Access Denied")


def _restore_raises(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    from moto.s3.models import S3Backend

    def refuse(self: Any, *args: Any, **kwargs: Any) -> bool:
        raise error

    monkeypatch.setattr(S3Backend, "restore_object", refuse)


def test_s3_restore_already_in_progress_is_joined_not_failed(archive: Archive, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """The race: HeadObject saw no restore, but another one started before RestoreObject (S3 answers 409)."""
    _restore_raises(monkeypatch, _RestoreAlreadyInProgress())
    run = archive.request({"key": DEEP, "tier": "Bulk", "email": "carol@research.example.org"})
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["outcome"] == "joined-restore"
    assert "ClassifyRestoreError" in run.states and "MarkRestoreFailed" not in run.states
    record = archive.record(DEEP)
    assert record is not None and record["status"]["S"] == "RESTORE_IN_PROGRESS"
    assert _set(record, "requesters") == {"carol@research.example.org"}


def test_a_request_arriving_while_another_claims_the_restore_joins_its_record(archive: Archive) -> None:
    """Another request wrote its claim but has not called S3 yet: this one joins the record and asks S3 too."""
    archive.h.dynamodb.put_item(TableName=archive.deployed.table, Item={
        "objectKey": {"S": DEEP}, "status": {"S": "RESTORE_IN_PROGRESS"}, "origin": {"S": "request"},
        "tier": {"S": "Standard"}, "days": {"N": "7"}, "requesters": {"SS": ["dave@research.example.org"]},
        "principals": {"SS": [BOB]}, "notifications": {"M": {}}, "requestId": {"S": "other-request"}})
    run = archive.request({"key": DEEP, "tier": "Bulk", "email": "erin@research.example.org"})
    assert run.status == "SUCCEEDED", run.describe()
    assert "JoinClaimedRestore" in run.states and len(archive.restore_requests) == 1
    record = archive.record(DEEP)
    assert record is not None and record["requestId"]["S"] == "other-request"
    assert _set(record, "requesters") == {"dave@research.example.org", "erin@research.example.org"}


def test_a_restore_s3_refuses_is_recorded_as_failed_and_answered_as_an_error(archive: Archive,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _restore_raises(monkeypatch, _AccessDenied())
    run = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    assert (run.status, run.error) == ("FAILED", "RestoreFailed"), run.describe()
    record = archive.record(DEEP)
    assert record is not None and record["status"]["S"] == "RESTORE_FAILED"
    assert "Access Denied" in record["failure"]["S"]
    assert archive.sent() == []
    # The failed cycle does not block the next request.
    monkeypatch.undo()
    again = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    assert again.output["outcome"] == "restore-started", again.describe()
    assert archive.record(DEEP)["status"]["S"] == "RESTORE_IN_PROGRESS"  # type: ignore[index]


def test_a_restore_started_outside_this_service_is_recorded_as_external(archive: Archive) -> None:
    archive.h.s3.restore_object(Bucket=archive.deployed.bucket, Key=FLEX, RestoreRequest={"Days": 2})
    run = archive.request({"key": FLEX, "days": 1, "email": "alice@research.example.org"})  # within the 2 days
    assert run.status == "SUCCEEDED", run.describe()
    assert "RestoreStartedElsewhere" in run.states and archive.restore_requests[-1]["Days"] == "2"
    record = archive.record(FLEX)
    assert record is not None and record["origin"]["S"] == "external" and record["tier"]["S"] == "unknown"
    assert _set(record, "requesters") == {"alice@research.example.org"}


def test_an_object_already_restored_answers_so_and_adds_the_requester(archive: Archive) -> None:
    archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    archive.complete(DEEP)  # moto finishes restores at once: the copy is there now
    run = archive.request({"key": DEEP, "email": "bob@research.example.org"}, BOB)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["outcome"] == "already-restored"
    assert "GET https://" in run.output["message"] and "/download" in run.output["message"]
    record = archive.record(DEEP)
    assert record is not None and record["status"]["S"] == "RESTORED"
    assert _set(record, "requesters") == {"alice@research.example.org", "bob@research.example.org"}
    assert len(archive.restore_requests) == 1


def test_an_ses_failure_leaves_the_request_recorded_and_accepted(deployed: Deployed,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with deployed.harness() as h:
        archive = Archive(h, deployed).setup(verify_sender=False)  # SES rejects an unverified sender
        run = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
        assert run.status == "SUCCEEDED", run.describe()
        assert (run.output["outcome"], run.output["notification"]) == ("restore-started", "FAILED")
        record = archive.record(DEEP)
        assert record is not None and record["status"]["S"] == "RESTORE_IN_PROGRESS"
        notification = record["notifications"]["M"]["alice@research.example.org"]["M"]
        assert notification["state"]["S"] == "FAILED" and "MessageRejected" in notification["detail"]["S"]
        assert archive.sent() == []


@pytest.mark.usefixtures("restores_take_time")
def test_completion_estimates_the_cost_records_it_and_emails_every_requester(archive: Archive) -> None:
    archive.request({"key": DEEP, "tier": "Bulk", "days": 3, "email": "alice@research.example.org"})
    archive.request({"key": DEEP, "email": "bob@research.example.org"}, BOB)
    mails_before = len(archive.sent())
    archive.finish_restore(DEEP)
    run = archive.complete(DEEP)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.lambda_invocations == 2  # the event's key decoded, then the cost estimated
    [(_, payload)] = [(fn, p) for fn, p in archive.h.lambda_calls if fn == archive.deployed.cost_arn]
    assert payload == {"sizeBytes": 3 * 1024 * 1024, "tier": "Bulk", "days": "3", "storageClass": "DEEP_ARCHIVE",
                       "region": "us-east-1"}
    estimate = run.output["estimate"]
    assert estimate["available"] is True and estimate["tier"] == "Bulk" and estimate["days"] == 3
    # moto has no Price List API: every line falls back to the configured prices, and says so.
    assert estimate["source"] == "config"
    assert sorted((n["email"], n["state"]) for n in run.output["notifications"]) == [
        ("alice@research.example.org", "SENT"), ("bob@research.example.org", "SENT")]
    mails = archive.sent()[mails_before:]
    assert sorted(m.destinations["ToAddresses"][0] for m in mails) == ["alice@research.example.org",
                                                                      "bob@research.example.org"]
    for mail in mails:
        assert mail.source == SENDER and estimate["summary"] in mail.body and "2026-11-30T00:00:00Z" in mail.body
    record = archive.record(DEEP)
    assert record is not None and record["status"]["S"] == "RESTORED"
    assert record["restoreExpiryTime"]["S"] == "2026-11-30T00:00:00Z"
    assert json.loads(record["costEstimate"]["S"])["total"] == estimate["total"]
    assert len(json.loads(record["completionNotifications"]["S"])) == 2


def test_a_failing_cost_estimate_still_tells_every_requester(archive: Archive) -> None:
    archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})

    def broken(payload: Any) -> Any:
        raise RuntimeError("pricing exploded")

    run = archive.complete(DEEP, cost_handler=broken)
    assert run.status == "SUCCEEDED", run.describe()
    assert "EstimateUnavailable" in run.states
    assert run.output["estimate"]["available"] is False
    assert "not available" in archive.sent()[-1].body
    record = archive.record(DEEP)
    assert record is not None and json.loads(record["costEstimate"]["S"])["available"] is False


def test_completion_of_a_restore_nobody_requested_here_is_ignored(archive: Archive) -> None:
    run = archive.complete(FLEX)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output == {"outcome": "ignored", "key": FLEX,
                          "reason": "no restore request in progress is recorded for this object"}
    assert run.lambda_invocations == 1 and archive.sent() == []  # the key decoded, nothing estimated


def test_a_repeated_completion_event_does_not_notify_twice(archive: Archive) -> None:
    archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    first = archive.complete(DEEP)
    mails = len(archive.sent())
    again = archive.complete(DEEP)  # EventBridge delivers at least once
    assert first.output["outcome"] == "requesters-notified", first.describe()
    assert again.output == {"outcome": "already-completed", "key": DEEP}
    assert len(archive.sent()) == mails and again.lambda_invocations == 1  # only the key decoded


def test_the_same_completion_delivered_twice_at_once_notifies_once(archive: Archive) -> None:
    archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    archive.request({"key": DEEP, "tier": "Bulk", "email": "bob@research.example.org"}, principal=BOB)
    archive.finish_restore(DEEP)
    runs = archive.complete_at_once(DEEP)
    assert all(run.status == "SUCCEEDED" for run in runs), [run.describe() for run in runs]
    outcomes = sorted(run.output["outcome"] for run in runs)
    assert outcomes == ["already-completed", "requesters-notified"]
    ready = [m for m in archive.sent() if m.subject == f"{DEEP} is restored"]
    assert sorted(d for m in ready for d in m.destinations["ToAddresses"]) == [
        "alice@research.example.org", "bob@research.example.org"]  # one email each, not two
    record = archive.record(DEEP)
    assert record is not None and record["status"]["S"] == "RESTORED" and "costEstimate" in record


def test_expiry_marks_the_record_expired_and_a_new_request_starts_a_new_cycle(archive: Archive) -> None:
    archive.request({"key": FLEX, "tier": "Bulk", "email": "alice@research.example.org"})
    run = archive.complete(FLEX, kind="Object Restore Expired")
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output == {"outcome": "expired", "key": FLEX}
    record = archive.record(FLEX)
    assert record is not None and record["status"]["S"] == "EXPIRED"
    assert record["expiredAt"]["S"] == "2026-11-23T08:00:00Z"


def test_rules_match_only_this_buckets_restore_events(archive: Archive) -> None:
    other = archive.restore_event("Object Restore Completed", DEEP, bucket="someone-elses-bucket")
    created = {**archive.restore_event("Object Restore Completed", DEEP), "detail-type": "Object Created"}
    for event in (other, created):
        for pattern in archive.deployed.rule_patterns.values():
            assert not matches(pattern, event)


# --- S3's answers as AWS gives them: missing keys, client errors and 5xx (issue 17, items 1 and 3) ----------


def _attempts(run: Any, action: str) -> int:
    """Calls of one S3 action the execution made (each failed call is one TaskFailed event)."""
    scheduled = [e for e in run.history if e["type"] == "TaskScheduled"
                 and e["taskScheduledEventDetails"]["resource"] == action]
    return len(scheduled)


@pytest.mark.parametrize("shape", HEAD_404_ERRORS)
def test_a_missing_key_is_a_404_naming_the_key_in_either_error_shape(deployed: Deployed, shape: str) -> None:
    """The role may s3:ListBucket, so S3 answers 404 (not 403); the SDK reports it as NoSuchKey or as a bare
    S3Exception with "Status Code: 404" (HeadObject API reference, "Permissions":
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)."""
    with deployed.harness(head_404_error=shape) as h:
        archive = Archive(h, deployed).setup()
        run = archive.request({"key": "projects/nope.tar", "email": "alice@research.example.org"})
        assert archive.record("projects/nope.tar") is None
    assert (run.status, run.error) == ("FAILED", "NoSuchKey"), run.describe()
    assert run.cause == "key: there is no object projects/nope.tar in the archive"
    assert _attempts(run, "headObject") == 1  # answered at once, not retried


@pytest.mark.parametrize(("status", "code"), [(403, "AllAccessDisabled"), (409, "OperationAborted")])
def test_client_errors_of_restore_object_are_answered_at_once(archive: Archive, monkeypatch: pytest.MonkeyPatch,
                                                              status: int, code: str) -> None:
    """Every S3 status code is the generic S3.S3Exception in SDK integrations: only 5xx may be retried."""
    _restore_raises(monkeypatch, s3_error(status, code, "refused"))
    run = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    assert (run.status, run.error) == ("FAILED", "RestoreFailed"), run.describe()
    assert run.task_failures()[0]["taskFailedEventDetails"]["error"] == "S3.S3Exception"
    assert _attempts(run, "restoreObject") == 1


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (500, "InternalError")])
def test_throttling_and_server_errors_of_s3_are_retried_with_backoff(archive: Archive, monkeypatch: pytest.MonkeyPatch,
                                                                     status: int, code: str) -> None:
    from moto.s3.models import S3Backend

    original = S3Backend.restore_object
    answers = [s3_error(status, code, "please retry"), s3_error(status, code, "please retry")]

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        if answers:
            raise answers.pop(0)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "restore_object", flaky)
    run = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    assert run.status == "SUCCEEDED" and run.output["outcome"] == "restore-started", run.describe()
    assert _attempts(run, "restoreObject") == 3
    waits = [e["stateEnteredEventDetails"] for e in run.history
             if e.get("stateEnteredEventDetails", {}).get("name") == "WaitToRetryRestoreObject"]
    assert [json.loads(w["input"])["retries"]["RestoreObject"]["seconds"] for w in waits] == [1, 2]


def test_s3_5xx_that_persists_ends_the_request_after_the_last_retry(archive: Archive,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _restore_raises(monkeypatch, s3_error(503, "SlowDown", "please retry"))
    run = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    assert (run.status, run.error) == ("FAILED", "RestoreFailed"), run.describe()
    assert _attempts(run, "restoreObject") == 4


# --- DynamoDB error names of the optimized integration (issue 17, item 4) ----------------------------------


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "RequestLimitExceeded",
                                  "ThrottlingException", "InternalServerError"])
def test_dynamodb_throttling_is_retried_under_the_name_aws_gives_it(archive: Archive, monkeypatch: pytest.MonkeyPatch,
                                                                     code: str) -> None:
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.update_item
    answers = [DynamodbException(ERROR_TYPE_PREFIX + code, "slow down")]

    def throttled(self: Any, *args: Any, **kwargs: Any) -> Any:
        if answers:
            raise answers.pop(0)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", throttled)
    run = archive.request({"key": DEEP, "tier": "Bulk", "email": "alice@research.example.org"})
    assert run.status == "SUCCEEDED" and run.output["outcome"] == "restore-started", run.describe()
    [failure] = run.task_failures()
    assert failure["taskFailedEventDetails"]["error"].endswith("Exception")


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        if state["Type"] == "Map":
            yield from _tasks(state["ItemProcessor"]["States"])


@pytest.mark.parametrize("machine", ["request_definition", "events_definition"])
def test_every_error_name_the_workflows_handle_is_one_aws_can_raise(deployed: Deployed, machine: str) -> None:
    """A Retry or Catch on a name AWS never raises silently never matches (e.g. DynamoDB.RequestLimitExceeded)."""
    for name, task in _tasks(json.loads(getattr(deployed, machine))["States"]):
        possible = aws_error_names(task["Resource"])
        assert possible is not None, f"{name}: no error names known for {task['Resource']}"
        for handler in task.get("Retry", []) + task.get("Catch", []):
            for error in handler["ErrorEquals"]:
                assert error.startswith("States.") or error in possible, f"{name}: AWS never raises {error}"


def test_dynamodb_tasks_retry_every_name_throttling_takes(deployed: Deployed) -> None:
    throttling = {"DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.RequestLimitExceededException",
                  "DynamoDB.ThrottlingException", "DynamoDB.AmazonDynamoDBException"}
    for machine in (deployed.request_definition, deployed.events_definition):
        for name, task in _tasks(json.loads(machine)["States"]):
            if task["Resource"].startswith("arn:aws:states:::dynamodb:"):
                retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
                assert throttling <= retried, f"{name} does not retry {throttling - retried}"


# --- keys as S3 events carry them (issue 17, item 5) and extensions of a restored copy (item 7) ------------


@pytest.mark.parametrize("key", ["projects/red flower+blue 100%.tar", "données/été 2019/ünïcødé ✓ 50%25.tar"])
def test_keys_with_spaces_plus_percent_and_non_ascii_work_end_to_end(archive: Archive, key: str) -> None:
    """Request, record, completion (the event carries the key URL-encoded, as S3 sends it) and emails."""
    archive.h.s3.put_object(Bucket=archive.deployed.bucket, Key=key, Body=b"\0" * 10, StorageClass="DEEP_ARCHIVE")
    requested = archive.request({"key": key, "tier": "Bulk", "email": "alice@research.example.org"})
    assert requested.output["outcome"] == "restore-started" and requested.output["key"] == key, requested.describe()
    assert archive.record(key)["status"]["S"] == "RESTORE_IN_PROGRESS"  # type: ignore[index]
    assert archive.restore_event("Object Restore Completed", key)["detail"]["object"]["key"] != key  # encoded
    completed = archive.complete(key)
    assert completed.output["outcome"] == "requesters-notified", completed.describe()
    assert completed.output["key"] == key
    record = archive.record(key)
    assert record is not None and record["status"]["S"] == "RESTORED"
    confirmation, ready = archive.sent()
    assert key in confirmation.subject and key in confirmation.body
    assert ready.subject == f"{key} is restored" and key in ready.body
    expired = archive.complete(key, kind="Object Restore Expired")
    assert expired.output == {"outcome": "expired", "key": key}


def test_more_days_than_remain_extend_the_restored_copy(archive: Archive) -> None:
    """S3: "you can update the restoration period by reissuing the request with a new period" (RestoreObject API
    reference: https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html)."""
    archive.request({"key": DEEP, "tier": "Bulk", "days": 1, "email": "alice@research.example.org"})
    archive.complete(DEEP)  # moto finishes restores at once: the copy is there, for 1 day
    run = archive.request({"key": DEEP, "days": 10, "email": "bob@research.example.org"}, BOB)
    assert run.status == "SUCCEEDED", run.describe()
    assert run.output["outcome"] == "restore-extended"
    assert archive.restore_requests == [{"Days": "1", "GlacierJobParameters": {"Tier": "Bulk"}}, {"Days": "10"}]
    restore = archive.h.s3.head_object(Bucket=archive.deployed.bucket, Key=DEEP)["Restore"]
    s3_expiry = parsedate_to_datetime(restore.split('expiry-date="')[1].rstrip('"')).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = archive.record(DEEP)
    assert record is not None and record["status"]["S"] == "RESTORED" and record["days"]["N"] == "10"
    assert record["restoreExpiryTime"]["S"] == s3_expiry and s3_expiry in run.output["message"]
    assert _set(record, "requesters") == {"alice@research.example.org", "bob@research.example.org"}
    assert "stays available until" in archive.sent()[-1].body


def test_fewer_days_than_remain_leave_the_restored_copy_as_it_is(archive: Archive) -> None:
    archive.request({"key": DEEP, "tier": "Bulk", "days": 10, "email": "alice@research.example.org"})
    archive.complete(DEEP)
    run = archive.request({"key": DEEP, "days": 2, "email": "bob@research.example.org"}, BOB)
    assert run.output["outcome"] == "already-restored", run.describe()
    assert len(archive.restore_requests) == 1  # a second RestoreObject would cut the copy to 2 days
