"""The GlacierRestore service routes (API Gateway REST proxy): browse the archive and estimate restores.

- `GET /objects?prefix=&cursor=&pageSize=`: one page of the archive under a prefix (ListObjectsV2 with
  `OptionalObjectAttributes=RestoreStatus`, so no per-object HEAD): key, size, storage class and restore
  state (archived, restoring, restored until a date). Optionally limited to prefixes per Cognito group.
- `POST /restores/estimate`: the cost of restoring one object for a tier and days, before asking for it.
- `POST /restores/bulk`: with a prefix or a manifest (CSV, or an S3 Inventory report's manifest.json), the
  estimate of the whole batch and a short-lived, single-use confirmation token (nothing starts); with
  `{"confirmationToken"}` alone, the bulk workflow starts on exactly the objects that were priced (written to
  the work bucket when estimated).

The estimate is computed by `app.estimate`, the very function the completion workflow's cost Lambda runs
(this module ships in the same archive), so a preview and the completion email agree to the cent.
Bad input is a 4xx naming the field; AWS failures after retries are a 503; never a trace.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import ClientError

try:  # imported as part of the library (tests, tools)
    from . import app as estimator
except ImportError:  # in Lambda the function folder is the import root
    import app as estimator  # type: ignore[no-redef]

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
api = APIGatewayRestResolver(strip_prefixes=["/iam"])

RETRIES = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)
#: Storage classes whose objects must be restored before they can be read.
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
#: S3 object keys are at most 1,024 bytes of UTF-8 (S3 User Guide, "Naming Amazon S3 objects").
MAX_KEY_BYTES = 1024
#: ListObjectsV2 returns at most 1,000 keys per page (MaxKeys).
MAX_PAGE_SIZE = 1000
ESTIMATE_FIELDS = ("key", "tier", "days")
BULK_FIELDS = ("prefix", "manifest", "tier", "days", "email", "confirmationToken")
MANIFEST_FIELDS = ("key", "format", "prefix")
#: `CSV`: rows of bucket,key (S3 Batch Operations' manifest format); `S3Inventory`: the manifest.json of an S3
#: Inventory report of the archive bucket.
MANIFEST_FORMATS = ("CSV", "S3Inventory")
#: What a manifest.json of S3 Inventory holds (S3 User Guide, "Locating your inventory list":
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html).
INVENTORY_MANIFEST_FIELDS = ("sourceBucket", "destinationBucket", "version", "fileFormat", "fileSchema", "files")
#: Inventory columns the batch needs: the estimate prices each object by size and storage class without a
#: HEAD per object, so the inventory must include the optional fields Size and StorageClass.
INVENTORY_COLUMNS = ("Bucket", "Key", "Size", "StorageClass")
BATCH_PENDING = "PENDING_CONFIRMATION"
_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+")
_ASSUMED_ROLE = re.compile(r"arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+")


class ClientFault(Exception):
    """A request this service refuses: HTTP status, error name and a reason naming the field."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@lru_cache(maxsize=1)
def s3_client() -> Any:
    return boto3.client("s3", region_name=os.environ.get("AWS_REGION"), config=RETRIES)


@lru_cache(maxsize=1)
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION"), config=RETRIES)


@lru_cache(maxsize=1)
def sfn_client() -> Any:
    return boto3.client("stepfunctions", region_name=os.environ.get("AWS_REGION"), config=RETRIES)


def settings() -> dict[str, Any]:
    """The service's configuration (set by the component)."""
    return {
        "bucket": os.environ["BUCKET_NAME"],
        "tiers": os.environ.get("ALLOWED_TIERS", "Standard,Bulk").split(","),
        "default_tier": os.environ.get("DEFAULT_TIER", "Standard"),
        "default_days": int(os.environ.get("DEFAULT_DAYS", "7")),
        "max_days": int(os.environ.get("MAX_DAYS", "30")),
        "page_size": int(os.environ.get("DEFAULT_PAGE_SIZE", "100")),
        "group_prefixes": json.loads(os.environ.get("GROUP_PREFIXES", "{}")),
        "max_bulk_objects": int(os.environ.get("MAX_BULK_OBJECTS", "100000")),
        "token_ttl": int(os.environ.get("BULK_TOKEN_TTL_SECONDS", "900")),
    }


#: The AWS_IAM-authorized copies of the routes a web-front-end deployment adds for programmatic callers.
IAM_PREFIX = "/iam"


def on_iam_route(event: Any) -> bool:
    """Whether API Gateway matched one of the `/iam/...` routes (AWS_IAM): read from the resource path it matched
    (its configuration, not anything the caller sends)."""
    return str((event.raw_event.get("requestContext") or {}).get("resourcePath") or "").startswith(IAM_PREFIX + "/")


def auth_mode(event: Any) -> str:
    """How API Gateway authenticated this request: `iam` on the `/iam/...` routes, else the component's mode."""
    return "iam" if on_iam_route(event) else os.environ.get("AUTH_MODE", "iam")


# --- input checks ----------------------------------------------------------------------------------------

def bad(field: str, allowed: str) -> ClientFault:
    return ClientFault(400, "InvalidRequest", f"{field}: {allowed}")


def check_key_text(field: str, value: Any, *, empty_ok: bool) -> str:
    """A key or prefix: text of at most 1,024 UTF-8 bytes without control characters."""
    if not isinstance(value, str) or (not value and not empty_ok):
        raise bad(field, "required; an object key" if field == "key" else "must be text")
    if len(value.encode("utf-8")) > MAX_KEY_BYTES:
        raise bad(field, f"at most {MAX_KEY_BYTES} bytes of UTF-8 (the S3 key limit)")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise bad(field, "must not contain control characters")
    return value


def check_days(value: Any, max_days: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or not 1 <= value <= max_days:
        raise bad("days", f"must be a whole number from 1 to {max_days}")
    return int(value)


def check_tier(value: Any, tiers: list[str]) -> str:
    if value not in tiers:
        raise bad("tier", "must be one of " + ", ".join(tiers))
    return str(value)


def json_body(known: tuple[str, ...]) -> dict[str, Any]:
    """The request body: a JSON object whose fields are all known."""
    try:
        body = json.loads(api.current_event.body or "")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise bad("body", "must be a JSON object with the fields " + ", ".join(known))
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise bad(unknown[0], "unknown field; the fields are " + ", ".join(known))
    return body


# --- who may see what ------------------------------------------------------------------------------------

def caller_groups() -> list[str]:
    """The caller's Cognito groups. API Gateway passes the `cognito:groups` claim as text such as
    `admins,researchers` or `[admins researchers]`."""
    authorizer = api.current_event.request_context.authorizer
    claims = (authorizer.claims or {}) if authorizer else {}
    raw = claims.get("cognito:groups", "")
    if isinstance(raw, list):
        return [str(g) for g in raw]
    return [g for g in str(raw).strip("[]").replace(",", " ").split() if g]


def visible_prefixes() -> list[str] | None:
    """The prefixes the caller may see, or None when the component sets no per-group limits."""
    by_group: dict[str, list[str]] = settings()["group_prefixes"]
    if not by_group or on_iam_route(api.current_event):
        return None  # group limits bind Cognito users; IAM callers are bound by their IAM policies
    return sorted({p for g in caller_groups() for p in by_group.get(g, [])})


def require_visible(field: str, key_or_prefix: str) -> None:
    allowed = visible_prefixes()
    if allowed is not None and not any(key_or_prefix.startswith(p) for p in allowed):
        raise ClientFault(403, "Forbidden", f"{field}: outside the prefixes your groups may see ("
                          + (", ".join(allowed) or "none") + ")")


# --- routes ----------------------------------------------------------------------------------------------

def restore_state(item: dict[str, Any]) -> dict[str, Any]:
    """Archived, restoring or restored (until a date), from ListObjectsV2's RestoreStatus."""
    if item.get("StorageClass", "STANDARD") not in ARCHIVE_CLASSES:
        return {"state": "not-archived", "availableUntil": None}
    status = item.get("RestoreStatus")
    if not status:
        return {"state": "archived", "availableUntil": None}
    if status.get("IsRestoreInProgress"):
        return {"state": "restoring", "availableUntil": None}
    expiry = status.get("RestoreExpiryDate")
    return {"state": "restored", "availableUntil": expiry.isoformat() if hasattr(expiry, "isoformat") else expiry}


@api.get("/objects")
@tracer.capture_method
def browse() -> Response:
    s = settings()
    event = api.current_event
    prefix = check_key_text("prefix", event.get_query_string_value("prefix", ""), empty_ok=True)
    cursor = event.get_query_string_value("cursor", "")
    raw_size = event.get_query_string_value("pageSize", str(s["page_size"]))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
        raise bad("pageSize", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    allowed = visible_prefixes()
    if allowed is not None and not any(prefix.startswith(p) for p in allowed):
        below = [p for p in allowed if p.startswith(prefix)]
        if not below:
            require_visible("prefix", prefix)
        # Above the caller's areas: show the areas themselves as folders, nothing else.
        return ok({"prefix": prefix, "objects": [], "folders": below, "nextCursor": None})
    kwargs: dict[str, Any] = {"Bucket": s["bucket"], "Prefix": prefix, "Delimiter": "/",
                              "MaxKeys": int(raw_size), "OptionalObjectAttributes": ["RestoreStatus"]}
    if cursor:
        kwargs["ContinuationToken"] = cursor
    try:
        page = s3_client().list_objects_v2(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidArgument" and cursor:
            raise bad("cursor", "not a cursor this listing returned; start again without it") from None
        raise
    objects = [{"key": o["Key"], "sizeBytes": o["Size"], "storageClass": o.get("StorageClass", "STANDARD"),
                "lastModified": o["LastModified"].isoformat(), "restore": restore_state(o)}
               for o in page.get("Contents", [])]
    folders = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return ok({"prefix": prefix, "objects": objects, "folders": folders,
               "nextCursor": page.get("NextContinuationToken") if page.get("IsTruncated") else None})


def head_archived(bucket: str, key: str, tier: str) -> dict[str, Any]:
    """HeadObject of an archived object, or the 4xx the request workflow would answer."""
    try:
        head = s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise ClientFault(404, "NoSuchKey", f"key: there is no object {key} in the archive") from None
        raise
    storage_class = head.get("StorageClass", "STANDARD")
    if storage_class not in ARCHIVE_CLASSES:
        raise ClientFault(400, "NotArchived", f"key: {key} is not in S3 Glacier Flexible Retrieval or Deep "
                                              "Archive, so it needs no restore")
    if storage_class == "DEEP_ARCHIVE" and tier == "Expedited":
        raise bad("tier", "Expedited is not available for DEEP_ARCHIVE objects; use Standard or Bulk")
    return head


@api.post("/restores/estimate")
@tracer.capture_method
def estimate_one() -> Response:
    s = settings()
    body = json_body(ESTIMATE_FIELDS)
    key = check_key_text("key", body.get("key"), empty_ok=False)
    tier = check_tier(body.get("tier", s["default_tier"]), s["tiers"])
    days = check_days(body.get("days", s["default_days"]), s["max_days"])
    require_visible("key", key)
    head = head_archived(s["bucket"], key, tier)
    result = estimator.estimate({"sizeBytes": head["ContentLength"], "tier": tier, "days": days,
                                 "storageClass": head["StorageClass"], "region": os.environ["AWS_REGION"]})
    metrics.add_metric(name="EstimatesPreviewed", unit=MetricUnit.Count, value=1)
    return ok({"key": key, "storageClass": head["StorageClass"], "sizeBytes": head["ContentLength"],
               "objectCount": 1, "tier": tier, "days": days, "estimate": result})


# --- POST /restores/bulk ---------------------------------------------------------------------------------

def caller_principal() -> str:
    """Who asks: the Cognito user, or the IAM role (any session of it) or user."""
    context = api.current_event.request_context
    if auth_mode(api.current_event) == "cognito":
        claims = (context.authorizer.claims or {}) if context.authorizer else {}
        if not claims.get("sub"):
            raise ClientFault(401, "Unauthorized", "no Cognito identity on the request")
        return str(claims["sub"])
    arn = context.identity.user_arn or ""
    match = _ASSUMED_ROLE.fullmatch(arn)
    if match:
        return f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"
    if not arn:
        raise ClientFault(401, "Unauthorized", "no IAM identity on the request")
    return arn


def too_many(ceiling: int) -> ClientFault:
    return ClientFault(413, "TooManyObjects", f"the batch has more than {ceiling} archived objects, the configured "
                                              "ceiling; split it into smaller prefixes or manifests")


def archived_under(bucket: str, prefix: str, ceiling: int) -> tuple[list[tuple[str, str, int]], int]:
    """Every archived object under `prefix` (key, class, size) and how many objects need no restore."""
    found: list[tuple[str, str, int]] = []
    skipped = 0
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix,
                                                                       PaginationConfig={"PageSize": 1000}):
        for item in page.get("Contents", []):
            if item.get("StorageClass", "STANDARD") in ARCHIVE_CLASSES:
                found.append((item["Key"], item["StorageClass"], item["Size"]))
                if len(found) > ceiling:
                    raise too_many(ceiling)
            else:
                skipped += 1
    return found, skipped


def archived_in_manifest(bucket: str, manifest: Any, ceiling: int) -> tuple[list[tuple[str, str, int]], int]:
    """The archived objects a manifest lists: a CSV of bucket,key rows or an S3 Inventory report."""
    if not isinstance(manifest, dict) or set(manifest) - set(MANIFEST_FIELDS):
        raise bad("manifest", "must be an object with the fields key, format and (for S3Inventory) prefix")
    key = check_key_text("manifest.key", manifest.get("key"), empty_ok=False)
    form = manifest.get("format", "CSV")
    if form not in MANIFEST_FORMATS:
        raise bad("manifest.format", "must be CSV (rows of bucket,key as S3 Batch Operations manifests have them) "
                                     "or S3Inventory (the manifest.json of an S3 Inventory report in CSV)")
    if form == "S3Inventory":
        prefix = check_key_text("manifest.prefix", manifest.get("prefix", ""), empty_ok=True)
        return archived_in_inventory(bucket, key, prefix, ceiling)
    if "prefix" in manifest:
        raise bad("manifest.prefix", "only for S3Inventory manifests (a CSV manifest names its objects)")
    require_visible("manifest.key", key)
    try:
        text = s3_client().get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8-sig")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise ClientFault(404, "ManifestNotFound", f"manifest.key: there is no manifest {key} in the "
                                                       "archive bucket") from None
        raise
    except UnicodeDecodeError:
        raise bad("manifest.key", f"{key} is not UTF-8 CSV text") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if len(rows) > ceiling:
        raise too_many(ceiling)
    found: list[tuple[str, str, int]] = []
    skipped = 0
    for number, row in enumerate(rows, 1):
        if len(row) < 2 or row[0] != bucket:
            raise bad("manifest", f"row {number}: must be {bucket},<URL-encoded key> (the archive bucket)")
        object_key = unquote_plus(row[1])
        require_visible("manifest", object_key)
        try:
            head = s3_client().head_object(Bucket=bucket, Key=object_key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ClientFault(404, "NoSuchKey", f"manifest: row {number}: there is no object {object_key} in "
                                                    "the archive") from None
            raise
        if head.get("StorageClass", "STANDARD") in ARCHIVE_CLASSES:
            found.append((object_key, head["StorageClass"], head["ContentLength"]))
        else:
            skipped += 1
    return found, skipped


def read_inventory_object(bucket: str, key: str, what: str) -> bytes:
    """An object of the inventory bucket, or a 404 naming it."""
    try:
        return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise ClientFault(404, "ManifestNotFound", f"manifest.key: there is no {what} {key} in the inventory "
                                                       f"bucket {bucket}") from None
        raise


def inventory_manifest(key: str) -> tuple[str, dict[str, Any], dict[str, int]]:
    """The inventory bucket, the checked manifest.json at `key` and its column positions."""
    inventory_bucket = os.environ.get("INVENTORY_BUCKET", "")
    root = os.environ.get("INVENTORY_ROOT", "")
    if not inventory_bucket:
        raise bad("manifest.format", "S3Inventory needs the inventory bucket configured on this service "
                                     "(inventory_bucket_name); use a CSV manifest or a prefix")
    if not key.startswith(root) or not key.endswith("/manifest.json"):
        raise bad("manifest.key", f"must be the manifest.json of an inventory report of the archive: "
                                  f"{root}<configuration id>/<date and time>/manifest.json")
    raw = read_inventory_object(inventory_bucket, key, "inventory manifest")
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if not isinstance(document, dict) or any(f not in document for f in INVENTORY_MANIFEST_FIELDS) \
            or not isinstance(document["files"], list):
        raise bad("manifest.key", f"{key} is not an S3 Inventory manifest.json (it needs the fields "
                                  + ", ".join(INVENTORY_MANIFEST_FIELDS) + ")")
    if document["sourceBucket"] != settings()["bucket"]:
        raise bad("manifest.key", f"{key} is an inventory of the bucket {document['sourceBucket']}, not of the "
                                  f"archive {settings()['bucket']}")
    if document["fileFormat"] != "CSV":
        # Step Functions' Distributed Map reads S3 Inventory reports only as CSV ("The output format of your
        # Amazon S3 inventory report must be CSV": https://docs.aws.amazon.com/step-functions/latest/dg/
        # input-output-itemreader.html); this service reads them the same way.
        raise bad("manifest.key", f"{key} describes a {document['fileFormat']} inventory; the inventory's output "
                                  "format must be CSV")
    columns = [c.strip() for c in str(document["fileSchema"]).split(",")]
    missing = [c for c in INVENTORY_COLUMNS if c not in columns]
    if missing:
        raise bad("manifest.key", f"{key} describes an inventory without the fields " + ", ".join(missing)
                  + "; include them (Size and StorageClass are optional fields of the inventory configuration)")
    return inventory_bucket, document, {c: columns.index(c) for c in columns}


def archived_in_inventory(bucket: str, key: str, prefix: str,
                          ceiling: int) -> tuple[list[tuple[str, str, int]], int]:
    """The archived objects under `prefix` an S3 Inventory report lists (its CSV data files, gzip-compressed,
    checked against the manifest's MD5 checksums). Keys in inventory CSV files are URL-encoded (S3 User Guide,
    "Amazon S3 Inventory list": https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html)."""
    require_visible("manifest.prefix", prefix)
    inventory_bucket, document, at = inventory_manifest(key)
    found: list[tuple[str, str, int]] = []
    skipped = 0
    width = len(at)
    for entry in document["files"]:
        data_key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(data_key, str):
            raise bad("manifest.key", f"{key} lists a data file without a key")
        data = read_inventory_object(inventory_bucket, data_key, "inventory data file")
        if hashlib.md5(data, usedforsecurity=False).hexdigest() != entry.get("MD5checksum"):
            raise bad("manifest.key", f"the inventory data file {data_key} does not match the MD5 checksum its "
                                      "manifest gives; the report is incomplete or was changed")
        try:
            text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            raise bad("manifest.key", f"the inventory data file {data_key} is not gzip-compressed CSV") from None
        for row in csv.reader(io.StringIO(text)):
            if len(row) != width or row[at["Bucket"]] != bucket:
                raise bad("manifest.key", f"the inventory data file {data_key} has a row that does not follow its "
                                          "manifest's fileSchema")
            noncurrent = "IsLatest" in at and row[at["IsLatest"]] == "false"
            if noncurrent or ("IsDeleteMarker" in at and row[at["IsDeleteMarker"]] == "true"):
                continue  # inventories of all versions: the restore is of the current object
            object_key = unquote_plus(row[at["Key"]])
            if not object_key.startswith(prefix):
                continue
            if row[at["StorageClass"]] in ARCHIVE_CLASSES:
                found.append((object_key, row[at["StorageClass"]], int(row[at["Size"]] or 0)))
                if len(found) > ceiling:
                    raise too_many(ceiling)
            else:
                skipped += 1
    return found, skipped


def batch_estimate(objects: list[tuple[str, str, int]], tier: str, days: int) -> dict[str, Any]:
    """One estimate per storage class (the shared estimator, with the object count), and their total."""
    by_class: dict[str, Any] = {}
    for storage_class in sorted({c for _, c, _ in objects}):
        sizes = [size for _, c, size in objects if c == storage_class]
        by_class[storage_class] = estimator.estimate({
            "sizeBytes": sum(sizes), "objectCount": len(sizes), "tier": tier, "days": days,
            "storageClass": storage_class, "region": os.environ["AWS_REGION"]})
    parts = list(by_class.values())
    lines = {name: round(sum(p["lines"][name] for p in parts), 8) for name in parts[0]["lines"]}
    sources = {p["source"] for p in parts}
    return {"currency": parts[0]["currency"], "total": round(sum(p["total"] for p in parts), 8), "lines": lines,
            "source": sources.pop() if len(sources) == 1 else "mixed", "byStorageClass": by_class}


def prepare_batch(body: dict[str, Any]) -> Response:
    s = settings()
    if ("prefix" in body) == ("manifest" in body):
        raise bad("prefix", "give either prefix or manifest (not both, not neither)")
    tier = check_tier(body.get("tier", s["default_tier"]), s["tiers"])
    days = check_days(body.get("days", s["default_days"]), s["max_days"])
    email = body.get("email")
    if not isinstance(email, str) or not _EMAIL.fullmatch(email):
        raise bad("email", "must be one email address, such as researcher@example.org (the summary goes there)")
    principal = caller_principal()
    if "prefix" in body:
        prefix = check_key_text("prefix", body["prefix"], empty_ok=False)
        require_visible("prefix", prefix)
        objects, skipped = archived_under(s["bucket"], prefix, s["max_bulk_objects"])
        source: dict[str, Any] = {"prefix": prefix}
        if not objects:
            raise ClientFault(404, "NoArchivedObjects", f"prefix: there are no archived objects under {prefix}")
    else:
        objects, skipped = archived_in_manifest(s["bucket"], body["manifest"], s["max_bulk_objects"])
        source = {"manifest": body["manifest"]["key"], "manifestFormat": body["manifest"].get("format", "CSV")}
        if body["manifest"].get("prefix"):
            source["manifestPrefix"] = body["manifest"]["prefix"]
        if not objects:
            raise ClientFault(404, "NoArchivedObjects", "manifest: it lists no archived objects"
                              + (f" under {body['manifest']['prefix']}" if body["manifest"].get("prefix") else ""))
    if tier == "Expedited" and any(c == "DEEP_ARCHIVE" for _, c, _ in objects):
        raise bad("tier", "Expedited is not available for DEEP_ARCHIVE objects; use Standard or Bulk")
    estimate = batch_estimate(objects, tier, days)
    batch_id = uuid.uuid4().hex
    secret = secrets.token_urlsafe(32)
    expires = int(time.time()) + s["token_ttl"]
    items_key = f"batches/{batch_id}/items.csv"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Key", "StorageClass", "Size"])
    writer.writerows(objects)
    s3_client().put_object(Bucket=os.environ["WORK_BUCKET"], Key=items_key, Body=out.getvalue().encode(),
                           ContentType="text/csv")
    total_bytes = sum(size for _, _, size in objects)
    dynamodb_client().put_item(TableName=os.environ["BATCHES_TABLE"], Item={
        "batchId": {"S": batch_id}, "status": {"S": BATCH_PENDING},
        "tokenHash": {"S": hashlib.sha256(secret.encode()).hexdigest()}, "principal": {"S": principal},
        "email": {"S": email}, "tier": {"S": tier}, "days": {"N": str(days)}, "source": {"S": json.dumps(source)},
        "objectCount": {"N": str(len(objects))}, "totalBytes": {"N": str(total_bytes)},
        "estimate": {"S": json.dumps(estimate)}, "itemsKey": {"S": items_key},
        "createdAt": {"S": datetime.now(UTC).isoformat()}, "expiresAt": {"N": str(expires)},
        "requested": {"N": "0"}, "completed": {"N": "0"}})
    metrics.add_metric(name="BulkEstimates", unit=MetricUnit.Count, value=1)
    return ok({"batchId": batch_id, "confirmationToken": f"{batch_id}.{secret}",
               "expiresAt": datetime.fromtimestamp(expires, UTC).isoformat(), "objectCount": len(objects),
               "totalBytes": total_bytes, "notArchived": skipped, "tier": tier, "days": days, **source,
               "estimate": estimate,
               "message": "Nothing has started. To start this restore, POST {\"confirmationToken\": ...} to "
                          f"/restores/bulk within {s['token_ttl'] // 60} minutes."})


def confirm_batch(token: Any) -> Response:
    table = os.environ["BATCHES_TABLE"]
    batch_id, _, secret = token.partition(".") if isinstance(token, str) else ("", "", "")
    unknown = bad("confirmationToken", "not a token this service issued; ask for an estimate first")
    if not re.fullmatch(r"[0-9a-f]{32}", batch_id) or not secret:
        raise unknown
    item = dynamodb_client().get_item(TableName=table, Key={"batchId": {"S": batch_id}},
                                      ConsistentRead=True).get("Item")
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if item is None or not hmac.compare_digest(item["tokenHash"]["S"], digest):
        raise unknown
    if item["principal"]["S"] != caller_principal():
        raise ClientFault(403, "Forbidden", "confirmationToken: issued to someone else")
    now = int(time.time())
    try:
        dynamodb_client().update_item(
            TableName=table, Key={"batchId": {"S": batch_id}},
            UpdateExpression="SET #status = :running, confirmedAt = :at REMOVE expiresAt",
            ConditionExpression="#status = :pending AND tokenHash = :hash AND expiresAt > :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":running": {"S": "RUNNING"}, ":pending": {"S": BATCH_PENDING},
                                       ":hash": {"S": digest}, ":now": {"N": str(now)},
                                       ":at": {"S": datetime.now(UTC).isoformat()}})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        if item["status"]["S"] != BATCH_PENDING:
            raise ClientFault(409, "TokenUsed", "confirmationToken: already used; this batch has started") from None
        raise ClientFault(410, "TokenExpired", "confirmationToken: expired; ask for a new estimate") from None
    started = sfn_client().start_execution(
        stateMachineArn=os.environ["BULK_STATE_MACHINE_ARN"], name=batch_id,
        input=json.dumps({"batchId": batch_id, "itemsKey": item["itemsKey"]["S"], "tier": item["tier"]["S"],
                          "days": int(item["days"]["N"])}))
    dynamodb_client().update_item(TableName=table, Key={"batchId": {"S": batch_id}},
                                  UpdateExpression="SET executionArn = :arn",
                                  ExpressionAttributeValues={":arn": {"S": started["executionArn"]}})
    metrics.add_metric(name="BulkRestoresStarted", unit=MetricUnit.Count, value=1)
    return ok({"batchId": batch_id, "executionArn": started["executionArn"],
               "objectCount": int(item["objectCount"]["N"]), "estimate": json.loads(item["estimate"]["S"]),
               "message": "The bulk restore has started; one summary email follows when every object is restored."},
              202)


@api.post("/restores/bulk")
@tracer.capture_method
def bulk() -> Response:
    body = json_body(BULK_FIELDS)
    if "confirmationToken" in body:
        if len(body) != 1:
            raise bad("confirmationToken", "send it alone: the batch was fixed when it was estimated")
        return confirm_batch(body["confirmationToken"])
    return prepare_batch(body)


# --- answers ---------------------------------------------------------------------------------------------

def ok(body: dict[str, Any], status: int = 200) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@api.exception_handler(ClientFault)
def refused(fault: ClientFault) -> Response:
    metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
    return ok({"error": fault.error, "message": fault.message,
               "requestId": api.current_event.request_context.request_id}, fault.status)


@api.exception_handler(ClientError)
def aws_unavailable(error: ClientError) -> Response:
    """S3 failed after retries: a retryable 503, with the detail in the logs only."""
    logger.exception("AWS call failed", extra={"code": error.response.get("Error", {}).get("Code")})
    return ok({"error": "ServiceUnavailable", "message": "The archive could not be read; try again shortly.",
               "requestId": api.current_event.request_context.request_id}, 503)


def with_cors(response: dict[str, Any]) -> dict[str, Any]:
    """Let the web front end (and only it) read the answer: `Access-Control-Allow-Origin` = its origin.

    The component sets `ALLOWED_ORIGIN` to the site's URL when it serves one; without it, no CORS header."""
    origin = os.environ.get("ALLOWED_ORIGIN", "")
    if origin:
        response.setdefault("multiValueHeaders", {})["Access-Control-Allow-Origin"] = [origin]
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return with_cors(api.resolve(event, context))
