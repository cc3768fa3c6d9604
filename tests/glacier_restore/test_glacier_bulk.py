"""Bulk restores end to end in moto: estimate and token, the Distributed Map over 2,000 objects, per-object
records, completion events counting for the batch, one summary email, partial failures with their keys."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager
from moto.s3.exceptions import S3ClientError
from moto.s3.models import S3Backend, s3_backends

from serverless_patterns.glacier_restore.bulk import FAILURES_SUFFIX, S3_RESTORE_REQUESTS_PER_SECOND
from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app
from serverless_patterns.lambdas.glacier_restore.cost_estimate import service
from serverless_patterns.offline.sfn import REGION, Execution, SfnHarness

from .service_env import call, proxy_event
from .workflow_env import ALICE, ARGS, BOB, Archive, Deployed

pytestmark = pytest.mark.heavy  # 2,000 objects through the bulk workflow

SURVEY = "projects/survey-2020/"
MEGABYTE = 1024 * 1024
EMAIL = "alice@research.example.org"
#: Objects under the bulk prefix (the issue asks for at least 2,000).
OBJECTS = 2000
#: Where S3 Inventory delivers the archive's reports (the component's `inventory_bucket_name`).
INVENTORY_BUCKET = "institute-archive-inventory"
INVENTORY_SCHEMA = "Bucket, Key, Size, LastModifiedDate, StorageClass"


@dataclass
class Bulk:
    """The moto account with the component's machines, tables and buckets, and the service handler."""

    archive: Archive
    bulk_arn: str
    batches_table: str
    work_bucket: str

    @property
    def h(self) -> SfnHarness:
        return self.archive.h

    def post(self, body: Any, user_arn: str = ALICE) -> tuple[int, dict[str, Any]]:
        return call(service, proxy_event("POST", "/restores/bulk", body=body, user_arn=user_arn))

    def add_objects(self, prefix: str, count: int, storage_class: str = "DEEP_ARCHIVE") -> list[str]:
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        keys = [f"{prefix}part-{i:05d}.dat" for i in range(count)]
        for i, key in enumerate(keys):
            backend.put_object(self.archive.deployed.bucket, key, b"\0" * (1 + i % 7), storage=storage_class)
        return keys

    def start(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], Execution]:
        """Estimate, confirm and wait for the bulk workflow."""
        status, estimate = self.post(body)
        assert status == 200, estimate
        status, started = self.post({"confirmationToken": estimate["confirmationToken"]})
        assert status == 202, started
        return estimate, started, self.h.wait(started["executionArn"])

    def put_inventory(self, rows: list[tuple[str, int, str]], *, schema: str = INVENTORY_SCHEMA,
                      file_format: str = "CSV", source: str | None = None, checksum: str | None = None,
                      data_missing: bool = False) -> str:
        """An S3 Inventory report of the archive as S3 delivers it; returns its manifest.json key.

        Layout and manifest fields per the S3 User Guide ("Locating your inventory list",
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html): data files
        `<prefix>/<source bucket>/<config id>/data/<uuid>.csv.gz` (gzip-compressed CSV, every field quoted, keys
        URL-encoded), `manifest.json` with the MD5 checksum of each data file.
        """
        bucket = self.archive.deployed.bucket
        root = f"reports/{bucket}/archive-weekly/"
        if INVENTORY_BUCKET not in {b["Name"] for b in self.h.s3.list_buckets()["Buckets"]}:
            self.h.s3.create_bucket(Bucket=INVENTORY_BUCKET)
        columns = [c.strip() for c in schema.split(",")]
        values = {"Bucket": lambda r: bucket, "Key": lambda r: quote_plus(r[0], safe="/"),
                  "Size": lambda r: str(r[1]), "LastModifiedDate": lambda r: "2026-11-30T02:00:00.000Z",
                  "StorageClass": lambda r: r[2]}
        text = "".join(",".join(f'"{values[c](row)}"' for c in columns) + "\n" for row in rows)
        data = gzip.compress(text.encode())
        data_key = f"{root}data/5f0c1a2b-7b61-41e6-9a41-{len(rows):012d}.csv.gz"
        if not data_missing:
            self.h.s3.put_object(Bucket=INVENTORY_BUCKET, Key=data_key, Body=data)
        manifest = {"sourceBucket": source or bucket, "destinationBucket": f"arn:aws:s3:::{INVENTORY_BUCKET}",
                    "version": "2016-11-30", "creationTimestamp": "1764468000000", "fileFormat": file_format,
                    "fileSchema": schema,
                    "files": [{"key": data_key, "size": len(data),
                               "MD5checksum": checksum or hashlib.md5(data).hexdigest()}]}
        key = f"{root}2026-11-30T01-00Z/manifest.json"
        self.h.s3.put_object(Bucket=INVENTORY_BUCKET, Key=key, Body=json.dumps(manifest).encode())
        return key

    def batch(self, batch_id: str) -> dict[str, Any]:
        return self.h.dynamodb.get_item(TableName=self.batches_table, Key={"batchId": {"S": batch_id}},
                                        ConsistentRead=True)["Item"]

    def summaries(self) -> list[Any]:
        return [m for m in self.archive.sent() if m.subject.startswith("Bulk restore ")]

    def complete(self, key: str) -> Execution:
        self.archive.finish_restore(key)
        run = self.archive.complete(key)
        assert run.status == "SUCCEEDED", run.describe()
        return run

    def set_completed(self, batch_id: str, completed: int) -> None:
        """Stand in for `completed` completion events already counted (each one is a whole execution)."""
        self.h.dynamodb.update_item(TableName=self.batches_table, Key={"batchId": {"S": batch_id}},
                                    UpdateExpression="SET completed = :n",
                                    ExpressionAttributeValues={":n": {"N": str(completed)}})


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    return Deployed.build({**ARGS, "inventory_bucket_name": INVENTORY_BUCKET, "inventory_prefix": "reports"})


@pytest.fixture
def bulk(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bulk]:
    stack = deployed.stack
    environment = stack.one("aws:lambda/function:Function", "gr-service").inputs["environment"]["variables"]
    for name, value in {**deployed.cost_environment, **environment, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    importlib.reload(cost_app)
    module = importlib.reload(service)
    state_manager.set_transition(model_name="s3::keyrestore", transition={"progression": "manual", "times": 10**6})
    batches = stack.one("aws:dynamodb/table:Table", "gr-batches").outputs["name"]
    work = stack.one("aws:s3/bucket:Bucket", "gr-work").outputs["bucket"]
    with SfnHarness(timeout_seconds=600) as h:  # 2,000 objects take moto's engine a while (no sleeping)
        archive = Archive(h, deployed).setup()
        h.s3.create_bucket(Bucket=work)
        h.dynamodb.create_table(TableName=batches, BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "batchId", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "batchId", "AttributeType": "S"}])
        machine = stack.one("aws:sfn/stateMachine:StateMachine", "gr-bulk")
        arn = h.create(machine.inputs["definition"], name="gr-bulk")
        monkeypatch.setenv("BULK_STATE_MACHINE_ARN", arn)
        yield Bulk(archive, arn, batches, work)
    state_manager.unset_transition("s3::keyrestore")
    for client in (module.s3_client, module.dynamodb_client, module.sfn_client):
        client.cache_clear()


def test_2000_objects_are_restored_rate_limited_with_one_summary_email(bulk: Bulk, deployed: Deployed) -> None:
    keys = bulk.add_objects(SURVEY, OBJECTS)
    bulk.add_objects(SURVEY + "notes/", 5, storage_class="STANDARD")
    status, estimate = bulk.post({"prefix": SURVEY, "tier": "Bulk", "days": 5, "email": EMAIL})
    assert status == 200, estimate
    assert (estimate["objectCount"], estimate["notArchived"]) == (OBJECTS, 5)
    one_class = cost_app.estimate({"sizeBytes": estimate["totalBytes"], "objectCount": OBJECTS, "tier": "Bulk",
                                   "days": 5, "storageClass": "DEEP_ARCHIVE", "region": REGION})
    assert estimate["estimate"]["total"] == one_class["total"]  # the shared estimator, with the object count
    # Without the token nothing starts: no restore, no record, no execution.
    assert bulk.archive.record(keys[0]) is None
    assert bulk.h.stepfunctions.list_executions(stateMachineArn=bulk.bulk_arn)["executions"] == []

    _, started, run = bulk.start({"prefix": SURVEY, "tier": "Bulk", "days": 5, "email": EMAIL})
    assert run.status == "SUCCEEDED", run.describe()
    batch_id = started["batchId"]

    # Items came from S3 in batches of 100: 20 children, each far below the 256 KiB payload limit.
    definition = json.loads(deployed.stack.one("aws:sfn/stateMachine:StateMachine", "gr-bulk").inputs["definition"])
    mapped = definition["States"]["RestoreObjects"]
    batches = bulk.h.map_batches[-1]
    assert len(batches) == OBJECTS // 100 and {len(b["Items"]) for b in batches} == {100}
    assert max(len(json.dumps(b)) for b in batches) < 256 * 1024
    assert batches[0]["BatchInput"] == {"batchId": batch_id, "tier": "Bulk", "days": 5}
    # Rate limit: at most MaxConcurrency children, each pacing its batch, stays below S3's restore rate.
    peak = mapped["MaxConcurrency"] * mapped["ItemBatcher"]["MaxItemsPerBatch"] / \
        mapped["ItemProcessor"]["States"]["PaceBatch"]["Seconds"]
    assert peak <= 100 < S3_RESTORE_REQUESTS_PER_SECOND

    # Every object: restore started with the batch's tier and days, recorded with the batch id.
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    assert all(backend.get_object(bulk.archive.deployed.bucket, k).expiry_date for k in keys)
    record = bulk.archive.record(keys[-1])
    assert record is not None and record["batchIds"]["SS"] == [batch_id] and record["tier"]["S"] == "Bulk"
    batch = bulk.batch(batch_id)
    assert (batch["requested"]["N"], batch["completed"]["N"], batch["mapDone"]["BOOL"]) == (str(OBJECTS), "0", True)
    manifest = bulk.h.s3.get_object(Bucket=bulk.work_bucket, Key=batch["resultsManifest"]["S"])
    assert json.loads(manifest["Body"].read())["ResultFiles"]["SUCCEEDED"]  # ResultWriter output in S3
    assert bulk.summaries() == []  # nothing is restored yet

    # Completion events count for the batch; the one that completes it sends the only summary.
    bulk.set_completed(batch_id, OBJECTS - 3)
    for key in keys[:2]:
        completion = bulk.complete(key)
        assert completion.output["outcome"] == "batch-object-restored"
        # A batch object gets no cost estimate or email of its own: the batch was priced before it started.
        assert "EstimateCost" not in completion.states and "SendReadyEmail" not in completion.states
    assert bulk.summaries() == []
    bulk.complete(keys[2])
    summaries = bulk.summaries()
    assert len(summaries) == 1 and batch_id in summaries[0].subject
    assert summaries[0].destinations["ToAddresses"] == [EMAIL] and f"{OBJECTS} archived objects" in summaries[0].body
    assert bulk.archive.record(keys[2])["status"]["S"] == "RESTORED"
    assert bulk.batch(batch_id)["summaryState"]["S"] == "SENT"
    bulk.complete(keys[3])  # a late or repeated completion does not mail again
    assert len(bulk.summaries()) == 1


def test_a_completion_delivered_twice_at_once_counts_once_for_the_batch(bulk: Bulk) -> None:
    keys = bulk.add_objects("projects/twice/", 3)
    _, started, run = bulk.start({"prefix": "projects/twice/", "email": EMAIL})
    assert run.status == "SUCCEEDED", run.describe()
    batch_id = started["batchId"]
    bulk.archive.finish_restore(keys[0])
    runs = bulk.archive.complete_at_once(keys[0])  # EventBridge delivered the same event twice
    assert sorted(r.output["outcome"] for r in runs) == ["already-completed", "batch-object-restored"], \
        [r.describe() for r in runs]
    assert bulk.batch(batch_id)["completed"]["N"] == "1"
    bulk.complete(keys[1])
    assert bulk.summaries() == []  # two of three restored: no summary yet
    bulk.complete(keys[2])
    (summary,) = bulk.summaries()
    assert batch_id in summary.subject and bulk.batch(batch_id)["completed"]["N"] == "3"


def test_partial_failures_are_reported_with_their_keys(bulk: Bulk, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = bulk.add_objects("projects/broken-tapes/", 30)
    refused = set(keys[5:8])
    original = S3Backend.restore_object

    def restore_object(backend: Any, bucket: str, key: str, days: Any, type_: Any) -> bool:
        if key in refused:
            raise S3ClientError("InvalidObjectState", "The operation is not valid for the object's state")
        return original(backend, bucket, key, days, type_)

    monkeypatch.setattr(S3Backend, "restore_object", restore_object)
    _, started, run = bulk.start({"prefix": "projects/broken-tapes/", "email": EMAIL})
    assert run.status == "SUCCEEDED", run.describe()
    batch_id = started["batchId"]
    assert bulk.batch(batch_id)["requested"]["N"] == "27"
    failures = bulk.batch(batch_id + FAILURES_SUFFIX)
    assert failures["failedCount"]["N"] == "3" and set(failures["failedKeys"]["SS"]) == refused
    assert all(bulk.archive.record(k)["status"]["S"] == "RESTORE_FAILED" for k in refused)
    bulk.set_completed(batch_id, 26)
    bulk.complete(keys[0])
    (summary,) = bulk.summaries()
    assert "27 archived objects" in summary.body and all(k in summary.body for k in refused)


def test_throttled_restores_are_retried_not_lost(bulk: Bulk, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = bulk.add_objects("projects/busy/", 4)
    throttled: list[str] = []
    original = S3Backend.restore_object

    def restore_object(backend: Any, bucket: str, key: str, days: Any, type_: Any) -> bool:
        if throttled.count(key) < 2:  # S3 answers 503 SlowDown twice, then accepts
            throttled.append(key)
            raise S3ClientError("SlowDown", "Please reduce your request rate.")
        return original(backend, bucket, key, days, type_)

    monkeypatch.setattr(S3Backend, "restore_object", restore_object)
    _, started, run = bulk.start({"prefix": "projects/busy/", "email": EMAIL})
    assert run.status == "SUCCEEDED", run.describe()
    assert len(throttled) == 8 and bulk.batch(started["batchId"])["requested"]["N"] == "4"
    assert all(bulk.archive.record(k)["status"]["S"] == "RESTORE_IN_PROGRESS" for k in keys)


def test_the_token_is_single_use_short_lived_and_personal(bulk: Bulk) -> None:
    bulk.add_objects("projects/tokens/", 3)
    status, estimate = bulk.post({"prefix": "projects/tokens/", "email": EMAIL})
    token = estimate["confirmationToken"]
    assert bulk.post({"confirmationToken": token}, user_arn=BOB)[0] == 403  # issued to someone else
    status, started = bulk.post({"confirmationToken": token})
    assert status == 202 and bulk.h.wait(started["executionArn"]).status == "SUCCEEDED"
    status, reused = bulk.post({"confirmationToken": token})
    assert status == 409 and reused["error"] == "TokenUsed"
    assert len(bulk.h.stepfunctions.list_executions(stateMachineArn=bulk.bulk_arn)["executions"]) == 1

    status, second = bulk.post({"prefix": "projects/tokens/", "email": EMAIL})
    batch_id = second["batchId"]
    bulk.h.dynamodb.update_item(TableName=bulk.batches_table, Key={"batchId": {"S": batch_id}},
                                UpdateExpression="SET expiresAt = :past",
                                ExpressionAttributeValues={":past": {"N": "1"}})
    status, expired = bulk.post({"confirmationToken": second["confirmationToken"]})
    assert status == 410 and expired["error"] == "TokenExpired"
    assert bulk.batch(batch_id)["status"]["S"] == "PENDING_CONFIRMATION"
    for forged in (f"{batch_id}.not-the-secret", "nonsense", 42):
        status, answer = bulk.post({"confirmationToken": forged})
        assert status == 400 and answer["message"].startswith("confirmationToken:")
    status, answer = bulk.post({"confirmationToken": token, "prefix": "projects/"})
    assert status == 400 and answer["message"].startswith("confirmationToken:")
    assert len(bulk.h.stepfunctions.list_executions(stateMachineArn=bulk.bulk_arn)["executions"]) == 1


def test_a_csv_manifest_names_the_objects(bulk: Bulk) -> None:
    keys = bulk.add_objects("projects/picked/", 4)
    spaced = "projects/picked/run 7 (final).dat"
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].put_object(bulk.archive.deployed.bucket, spaced, b"\0" * 10,
                                                      storage="GLACIER")
    bucket = bulk.archive.deployed.bucket
    body = f"{bucket},{keys[0]}\n{bucket},{keys[3]}\n{bucket},projects/picked/run+7+%28final%29.dat\n"
    bulk.h.s3.put_object(Bucket=bucket, Key="manifests/picked.csv", Body=body.encode())
    status, estimate = bulk.post({"manifest": {"key": "manifests/picked.csv", "format": "CSV"}, "email": EMAIL})
    assert status == 200, estimate
    assert estimate["objectCount"] == 3 and set(estimate["estimate"]["byStorageClass"]) == {"DEEP_ARCHIVE", "GLACIER"}


def test_group_prefixes_bound_estimates_and_bulk_restores(bulk: Bulk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_MODE", "cognito")
    monkeypatch.setenv("GROUP_PREFIXES", json.dumps({"survey": ["projects/survey-"]}, sort_keys=True))
    secret = bulk.add_objects("projects/secret/", 2)
    inside = bulk.add_objects("projects/survey-2021/", 2)
    bucket = bulk.archive.deployed.bucket
    member = {"sub": "5f0c1a2b-1111-4c3d-9e8f-000000000001", "cognito:groups": "survey"}

    def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return call(service, proxy_event("POST", path, body=body, claims=member))

    status, answer = post("/restores/estimate", {"key": secret[0]})
    assert status == 403 and answer["message"].startswith("key: outside the prefixes"), answer
    assert post("/restores/estimate", {"key": inside[0]})[0] == 200
    for prefix in ("projects/", "projects/secret/"):  # above the group's area, or beside it
        status, answer = post("/restores/bulk", {"prefix": prefix, "email": EMAIL})
        assert status == 403 and answer["message"].startswith("prefix: outside the prefixes"), answer
    listing = f"{bucket},{inside[0]}\n{bucket},{secret[1]}\n".encode()
    bulk.h.s3.put_object(Bucket=bucket, Key="projects/survey-2021/picked.csv", Body=listing)
    bulk.h.s3.put_object(Bucket=bucket, Key="manifests/picked.csv", Body=listing)
    status, answer = post("/restores/bulk", {"manifest": {"key": "projects/survey-2021/picked.csv"}, "email": EMAIL})
    assert status == 403 and answer["message"].startswith("manifest: outside the prefixes"), answer
    status, answer = post("/restores/bulk", {"manifest": {"key": "manifests/picked.csv"}, "email": EMAIL})
    assert status == 403 and answer["message"].startswith("manifest.key: outside the prefixes"), answer
    assert bulk.h.dynamodb.scan(TableName=bulk.batches_table)["Items"] == []  # nothing priced or recorded
    status, answer = post("/restores/bulk", {"prefix": "projects/survey-2021/", "email": EMAIL})
    assert status == 200 and answer["objectCount"] == 2


def test_an_s3_inventory_report_names_the_objects(bulk: Bulk, deployed: Deployed) -> None:
    environment = deployed.stack.one("aws:lambda/function:Function", "gr-service").inputs["environment"]["variables"]
    assert environment["INVENTORY_BUCKET"] == INVENTORY_BUCKET
    assert environment["INVENTORY_ROOT"] == f"reports/{bulk.archive.deployed.bucket}/"
    keys = bulk.add_objects("projects/inventoried/", 3)
    spaced = "projects/inventoried/run 7 (final)+copy.dat"
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.put_object(bulk.archive.deployed.bucket, spaced, b"\0" * 10, storage="GLACIER")
    rows = [(keys[0], 1, "DEEP_ARCHIVE"), (keys[1], 2, "DEEP_ARCHIVE"), (keys[2], 3, "DEEP_ARCHIVE"),
            (spaced, 10, "GLACIER"), ("projects/inventoried/notes.txt", 5, "STANDARD"),
            ("projects/elsewhere/old.tar", 7, "DEEP_ARCHIVE")]
    manifest = {"key": bulk.put_inventory(rows), "format": "S3Inventory", "prefix": "projects/inventoried/"}
    status, estimate = bulk.post({"manifest": manifest, "tier": "Bulk", "days": 2, "email": EMAIL})
    assert status == 200, estimate
    assert (estimate["objectCount"], estimate["notArchived"], estimate["totalBytes"]) == (4, 1, 16)
    deep = cost_app.estimate({"sizeBytes": 6, "objectCount": 3, "tier": "Bulk", "days": 2,
                              "storageClass": "DEEP_ARCHIVE", "region": REGION})
    assert estimate["estimate"]["byStorageClass"]["DEEP_ARCHIVE"] == deep  # sizes and classes from the inventory
    status, started = bulk.post({"confirmationToken": estimate["confirmationToken"]})
    assert status == 202, started
    run = bulk.h.wait(started["executionArn"])
    assert run.status == "SUCCEEDED", run.describe()
    assert bulk.batch(started["batchId"])["requested"]["N"] == "4"
    record = bulk.archive.record(spaced)  # the URL-encoded inventory key, decoded
    assert record is not None and record["batchIds"]["SS"] == [started["batchId"]]
    assert bulk.archive.record("projects/elsewhere/old.tar") is None  # outside the prefix: not in the batch
    status, everything = bulk.post({"manifest": {**manifest, "prefix": ""}, "email": EMAIL})
    assert status == 200 and (everything["objectCount"], everything["notArchived"]) == (5, 1), everything


@pytest.mark.parametrize(("change", "status", "error", "message"), [
    ({"key": "reports/elsewhere/manifest.json"}, 400, "InvalidRequest",
     "manifest.key: must be the manifest.json of an inventory report of the archive"),
    ({"key": "{root}archive-weekly/2026-01-01T01-00Z/manifest.json"}, 404, "ManifestNotFound",
     "manifest.key: there is no inventory manifest"),
    ({"inventory": {"file_format": "ORC"}}, 400, "InvalidRequest", "manifest.key: {key} describes a ORC inventory"),
    ({"inventory": {"source": "another-bucket"}}, 400, "InvalidRequest",
     "manifest.key: {key} is an inventory of the bucket another-bucket"),
    ({"inventory": {"schema": "Bucket, Key, Size"}}, 400, "InvalidRequest",
     "manifest.key: {key} describes an inventory without the fields StorageClass"),
    ({"inventory": {"checksum": "0" * 32}}, 400, "InvalidRequest", "manifest.key: the inventory data file"),
    ({"inventory": {"data_missing": True}}, 404, "ManifestNotFound", "manifest.key: there is no inventory data file"),
    ({"prefix": "projects/nothing-here/"}, 404, "NoArchivedObjects", "manifest: it lists no archived objects"),
    ({"prefix": "projects/"}, 413, "TooManyObjects", "the batch has more than 2"),
    ({"format": "Parquet"}, 400, "InvalidRequest", "manifest.format:"),
])
def test_bad_s3_inventory_manifests_are_a_4xx_with_a_reason(bulk: Bulk, monkeypatch: pytest.MonkeyPatch,
                                                            change: dict[str, Any], status: int, error: str,
                                                            message: str) -> None:
    monkeypatch.setenv("MAX_BULK_OBJECTS", "2")
    rows = [(f"projects/inv/{n}.dat", n, "DEEP_ARCHIVE") for n in range(3)]
    key = bulk.put_inventory(rows, **change.get("inventory", {}))
    root = f"reports/{bulk.archive.deployed.bucket}/"
    manifest = {"key": key, "format": "S3Inventory", "prefix": "projects/inv/"}
    manifest.update({k: v.format(root=root) for k, v in change.items() if k != "inventory"})
    got, answer = bulk.post({"manifest": manifest, "email": EMAIL})
    assert (got, answer["error"]) == (status, error), answer
    assert answer["message"].startswith(message.format(key=key)), answer["message"]
    assert bulk.h.dynamodb.scan(TableName=bulk.batches_table)["Items"] == []  # nothing priced or recorded


@pytest.mark.parametrize(("body", "status", "error", "field"), [
    ({"prefix": "projects/nothing-here/", "email": EMAIL}, 404, "NoArchivedObjects", "prefix"),
    ({"prefix": "", "email": EMAIL}, 400, "InvalidRequest", "prefix"),
    ({"prefix": "projects/\x07", "email": EMAIL}, 400, "InvalidRequest", "prefix"),
    ({"prefix": "projects/", "manifest": {"key": "m.csv"}, "email": EMAIL}, 400, "InvalidRequest", "prefix"),
    ({"manifest": {"key": "manifests/missing.csv"}, "email": EMAIL}, 404, "ManifestNotFound", "manifest.key"),
    ({"manifest": {"key": "manifests/x.csv", "format": "ORC"}, "email": EMAIL}, 400, "InvalidRequest",
     "manifest.format"),
    ({"prefix": "projects/ceiling/", "email": EMAIL}, 413, "TooManyObjects", "the batch"),
    ({"manifest": {"key": "manifests/ceiling.csv"}, "email": EMAIL}, 413, "TooManyObjects", "the batch"),
    ({"prefix": "projects/ceiling/", "email": "not-an-address"}, 400, "InvalidRequest", "email"),
    ({"prefix": "projects/ceiling/", "email": EMAIL, "days": 99}, 400, "InvalidRequest", "days"),
])
def test_bad_bulk_input_is_a_4xx_with_a_reason(bulk: Bulk, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any],
                                                status: int, error: str, field: str) -> None:
    monkeypatch.setenv("MAX_BULK_OBJECTS", "10")
    keys = bulk.add_objects("projects/ceiling/", 11)
    bucket = bulk.archive.deployed.bucket
    bulk.h.s3.put_object(Bucket=bucket, Key="manifests/ceiling.csv",
                         Body="".join(f"{bucket},{k}\n" for k in keys).encode())
    got, answer = bulk.post(body)
    assert (got, answer["error"]) == (status, error), answer
    assert answer["message"].startswith(field)
    assert bulk.h.stepfunctions.list_executions(stateMachineArn=bulk.bulk_arn)["executions"] == []
