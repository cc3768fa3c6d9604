"""The bulk restore workflow (STANDARD, a Distributed Map) and the batch summary both workflows share.

The service Lambda fixes a batch when it estimates it: it writes the archived objects it priced to
`batches/<batchId>/items.csv` in the work bucket and records the batch (counters `requested` and
`completed`, both 0). Only a confirmed token starts this workflow, which

1. reads that CSV straight from S3 (ItemReader), in batches of `batch_size` items (ItemBatcher), each batch an
   EXPRESS child execution; per object the child claims (or joins) the object's request record, adding the
   batch id, calls RestoreObject with the batch's tier and days (Retry with backoff on throttling), and counts
   the restore on the batch (`requested`), or records the failure with its key;
2. paces itself below S3's restore request rate: a child waits `pace_seconds` after its batch, and at most
   `max_concurrency` children run, so at most `max_concurrency * batch_size / pace_seconds` RestoreObject
   calls start per second;
3. writes the children's results to S3 (ResultWriter, under `results/<map run id>/`), marks the batch's
   requests sent (with the results manifest's key) and tries the summary.

Each "Object Restore Completed" event of a batch object adds one to `completed` (events workflow). Whichever
workflow sees `mapDone` and `completed >= requested` first claims the summary with a conditional write and
sends the one summary email, listing the keys that could not be restored. Pure functions of plain values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from serverless_patterns.glacier_restore.definitions import (
    DYNAMODB_RETRY,
    SES_RETRY,
    STATUS_EXPIRED,
    STATUS_FAILED,
    STATUS_IN_PROGRESS,
    STATUS_RESTORED,
    _ddb,
    _sdk,
)

#: S3 accepts up to 1,000 restore requests per second per account (S3 User Guide, "Restoring an archived
#: object": "up to 1,000 transactions per second"); the bulk workflow stays below it.
S3_RESTORE_REQUESTS_PER_SECOND = 1000
#: Distributed Map runs at most 10,000 child executions at once (Step Functions quotas).
MAX_DISTRIBUTED_CONCURRENCY = 10_000
#: Keys of failed objects kept for the summary (the count is always exact; the report in S3 has them all).
MAX_FAILED_KEYS_LISTED = 100
FAILURES_SUFFIX = "#failures"

BATCH_PENDING = "PENDING_CONFIRMATION"
BATCH_RUNNING = "RUNNING"
BATCH_RESTORING = "RESTORING"

#: Throttling and transient S3 errors: a 503 SlowDown reaches Step Functions as `S3.S3Exception`.
S3_THROTTLE_RETRY = [{"ErrorEquals": ["S3.S3Exception", "S3.SdkClientException", "S3.InternalErrorException"],
                      "IntervalSeconds": 1, "MaxAttempts": 6, "BackoffRate": 2.0, "MaxDelaySeconds": 60,
                      "JitterStrategy": "FULL"}]


@dataclass(frozen=True)
class BulkSettings:
    """Names and limits the bulk workflow needs (resolved outputs at deploy time)."""

    bucket: str
    table: str
    batches_table: str
    work_bucket: str
    sender: str
    service_name: str = "Archive restore service"
    restore_rate: int = 100
    batch_size: int = 100
    pace_seconds: int = 10
    max_items: int = 100_000

    @property
    def max_concurrency(self) -> int:
        """Children at once so that `max_concurrency * batch_size / pace_seconds <= restore_rate`."""
        return max(1, math.floor(self.restore_rate * self.pace_seconds / self.batch_size))

    @property
    def peak_restores_per_second(self) -> float:
        return self.max_concurrency * self.batch_size / self.pace_seconds


def summary_states(batches_table: str, sender: str, work_bucket: str, service_name: str, *, prefix: str,
                   batch_path: str) -> dict[str, Any]:
    """Claim the batch summary when every requested restore completed, then send it once.

    `prefix` keeps the state names unique in each machine; `batch_path` is where the batch id is.
    """
    n = prefix
    body = ("Your bulk restore {} is complete: {} archived objects were restored and can be downloaded for {} "
            "days. Objects that could not be restored: {} {} The per-object report is listed in s3://"
            + work_bucket + "/{}. " + service_name)
    return {
        f"{n}ClaimSummary": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": "Only the first to see every requested restore completed sends the summary.",
            "Parameters": {
                "TableName": batches_table,
                "Key": {"batchId": {"S.$": batch_path}},
                "UpdateExpression": "SET summaryState = :claimed",
                "ConditionExpression": "mapDone = :true AND completed >= requested AND "
                                       "attribute_not_exists(summaryState)",
                "ExpressionAttributeValues": {":claimed": {"S": "CLAIMED"}, ":true": {"BOOL": True}},
                "ReturnValues": "ALL_NEW",
            },
            "ResultSelector": {"batch.$": "$.Attributes"},
            "ResultPath": "$.summary",
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": None,
                       "Next": f"{n}SummaryNotYet"},
                      {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": f"{n}SummaryUnavailable"}],
            "Next": f"{n}LoadFailures",
        },
        f"{n}SummaryNotYet": {"Type": "Pass", "Comment": "Restores of the batch are still running.", "End": True},
        f"{n}LoadFailures": {
            "Type": "Task",
            "Resource": _ddb("getItem"),
            "Parameters": {"TableName": batches_table,
                           "Key": {"batchId": {"S.$": f"States.Format('{{}}{FAILURES_SUFFIX}', {batch_path})"}},
                           "ConsistentRead": True},
            "ResultPath": "$.failures",
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": f"{n}SummaryUnavailable"}],
            "Next": f"{n}AnyFailures",
        },
        f"{n}AnyFailures": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.failures.Item.failedKeys", "IsPresent": True, "Next": f"{n}DescribeFailures"}],
            "Default": f"{n}NoFailures",
        },
        f"{n}DescribeFailures": {
            "Type": "Pass",
            "Parameters": {"count.$": "$.failures.Item.failedCount.N",
                           "keys.$": "States.Format('(first {} listed) {}.', "
                                     f"{MAX_FAILED_KEYS_LISTED}, States.JsonToString($.failures.Item.failedKeys.SS))"},
            "ResultPath": "$.failed",
            "Next": f"{n}SendSummary",
        },
        f"{n}NoFailures": {
            "Type": "Pass",
            "Parameters": {"count": "0", "keys": "none."},
            "ResultPath": "$.failed",
            "Next": f"{n}SendSummary",
        },
        f"{n}SendSummary": {
            "Type": "Task",
            "Resource": _sdk("sesv2", "sendEmail"),
            "Parameters": {
                "FromEmailAddress": sender,
                "Destination": {"ToAddresses.$": "States.Array($.summary.batch.email.S)"},
                "Content": {"Simple": {
                    "Subject": {"Data.$": "States.Format('Bulk restore {} is complete', "
                                          "$.summary.batch.batchId.S)", "Charset": "UTF-8"},
                    "Body": {"Text": {"Data.$": "States.Format('" + body + "', $.summary.batch.batchId.S, "
                                                "$.summary.batch.requested.N, $.summary.batch.days.N, $.failed.count, "
                                                "$.failed.keys, $.summary.batch.resultsManifest.S)",
                                      "Charset": "UTF-8"}},
                }},
            },
            "ResultSelector": {"state": "SENT", "detail.$": "$.MessageId"},
            "ResultPath": "$.notification",
            "Retry": SES_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": f"{n}SummaryNotSent"}],
            "Next": f"{n}RecordSummary",
        },
        f"{n}SummaryNotSent": {
            "Type": "Pass",
            "Comment": "The batch stays recorded; the failed email is recorded with it.",
            "Parameters": {"state": "FAILED", "detail.$": "States.Format('{}: {}', $.failure.Error, $.failure.Cause)"},
            "ResultPath": "$.notification",
            "Next": f"{n}RecordSummary",
        },
        f"{n}RecordSummary": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Parameters": {
                "TableName": batches_table,
                "Key": {"batchId": {"S.$": batch_path}},
                "UpdateExpression": "SET summaryState = :state, summaryDetail = :detail, #status = :done",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":state": {"S.$": "$.notification.state"},
                                              ":detail": {"S.$": "$.notification.detail"},
                                              ":done": {"S": "COMPLETED"}},
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": f"{n}SummaryUnavailable"}],
            "End": True,
        },
        f"{n}SummaryUnavailable": {
            "Type": "Fail",
            "Error": "BatchRecordUnavailable",
            "CausePath": "States.Format('The batch record could not be read or written: {}', $.failure.Cause)",
        },
    }


def _object_states(s: BulkSettings) -> dict[str, Any]:
    """Per object, inside a child: claim or join the record, restore, count (or record the failure)."""
    record_key = {"objectKey": {"S.$": "$.key"}}
    batch_key = {"batchId": {"S.$": "$.batch.batchId"}}
    return {
        "ClaimBulkObject": {
            "Type": "Task",
            "Resource": _ddb("putItem"),
            "Comment": "Write ahead, as a single request does: a new restore cycle of this object (the whole record "
                       "is replaced, as a finished cycle's is), for this batch.",
            "Parameters": {
                "TableName": s.table,
                "Item": {
                    "objectKey": {"S.$": "$.key"}, "status": {"S": STATUS_IN_PROGRESS}, "origin": {"S": "bulk"},
                    "tier": {"S.$": "$.batch.tier"}, "days": {"N.$": "States.JsonToString($.batch.days)"},
                    "batchIds": {"SS.$": "States.Array($.batch.batchId)"},
                    "requestedAt": {"S.$": "$$.State.EnteredTime"}, "requestId": {"S.$": "$.batch.batchId"},
                },
                "ConditionExpression": "attribute_not_exists(objectKey) OR #status IN (:expired, :restored, :failed)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":expired": {"S": STATUS_EXPIRED}, ":restored": {"S": STATUS_RESTORED},
                                              ":failed": {"S": STATUS_FAILED}},
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": None,
                 "Next": "JoinBulkObject"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordBulkFailure"},
            ],
            "Next": "RestoreBulkObject",
        },
        "JoinBulkObject": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": "A restore of this object is running already: its completion counts for this batch too.",
            "Parameters": {
                "TableName": s.table,
                "Key": record_key,
                "UpdateExpression": "ADD batchIds :batch SET updatedAt = :now",
                "ExpressionAttributeValues": {":batch": {"SS.$": "States.Array($.batch.batchId)"},
                                              ":now": {"S.$": "$$.State.EnteredTime"}},
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordBulkFailure"}],
            "Next": "RestoreBulkObject",
        },
        "RestoreBulkObject": {
            "Type": "Task",
            "Resource": _sdk("s3", "restoreObject"),
            "Parameters": {
                "Bucket": s.bucket,
                "Key.$": "$.key",
                "RestoreRequest": {"Days.$": "$.batch.days", "GlacierJobParameters": {"Tier.$": "$.batch.tier"}},
            },
            "ResultPath": None,
            "Retry": S3_THROTTLE_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ClassifyBulkRestoreError"}],
            "Next": "CountBulkRestore",
        },
        "ClassifyBulkRestoreError": {
            "Type": "Choice",
            "Comment": "409 RestoreAlreadyInProgress: S3 is restoring it already; its completion still arrives.",
            "Choices": [{"Or": [{"Variable": "$.failure.Cause", "StringMatches": "*RestoreAlreadyInProgress*"},
                                {"Variable": "$.failure.Cause", "StringMatches": "*Status Code: 409*"}],
                         "Next": "CountBulkRestore"}],
            "Default": "MarkBulkObjectFailed",
        },
        "CountBulkRestore": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Parameters": {"TableName": s.batches_table, "Key": batch_key,
                           "UpdateExpression": "ADD requested :one",
                           "ExpressionAttributeValues": {":one": {"N": "1"}}},
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordBulkFailure"}],
            "Next": "BulkObjectRequested",
        },
        "BulkObjectRequested": {"Type": "Pass", "Parameters": {"key.$": "$.key", "outcome": "restore-requested"},
                                "End": True},
        "MarkBulkObjectFailed": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Parameters": {
                "TableName": s.table,
                "Key": record_key,
                "UpdateExpression": "SET #status = :failed, failure = :failure",
                "ConditionExpression": "requestId = :id",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":failed": {"S": STATUS_FAILED}, ":id": {"S.$": "$.batch.batchId"},
                    ":failure": {"S.$": "States.Format('{}: {}', $.failure.Error, $.failure.Cause)"},
                },
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "RecordBulkFailure"}],
            "Next": "RecordBulkFailure",
        },
        "RecordBulkFailure": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Comment": f"The count is exact; the first {MAX_FAILED_KEYS_LISTED} keys are kept for the summary.",
            "Parameters": {
                "TableName": s.batches_table,
                "Key": {"batchId": {"S.$": f"States.Format('{{}}{FAILURES_SUFFIX}', $.batch.batchId)"}},
                "UpdateExpression": "ADD failedCount :one, failedKeys :key",
                "ConditionExpression": "attribute_not_exists(failedKeys) OR size(failedKeys) < :cap",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":key": {"SS.$": "States.Array($.key)"},
                                              ":cap": {"N": str(MAX_FAILED_KEYS_LISTED)}},
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": None,
                       "Next": "CountBulkFailure"},
                      {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "BulkObjectFailed"}],
            "Next": "BulkObjectFailed",
        },
        "CountBulkFailure": {
            "Type": "Task",
            "Resource": _ddb("updateItem"),
            "Parameters": {
                "TableName": s.batches_table,
                "Key": {"batchId": {"S.$": f"States.Format('{{}}{FAILURES_SUFFIX}', $.batch.batchId)"}},
                "UpdateExpression": "ADD failedCount :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            },
            "ResultPath": None,
            "Retry": DYNAMODB_RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "BulkObjectFailed"}],
            "Next": "BulkObjectFailed",
        },
        "BulkObjectFailed": {
            "Type": "Pass",
            "Parameters": {"key.$": "$.key", "outcome": "failed", "error.$": "$.failure.Error"},
            "End": True,
        },
    }


def bulk_definition(s: BulkSettings) -> dict[str, Any]:
    """The STANDARD bulk workflow: Distributed Map over the batch's item list, then the summary attempt."""
    return {
        "Comment": f"{s.service_name}: restore every archived object of a confirmed batch, at most "
                   f"{s.peak_restores_per_second:g} RestoreObject calls per second, then report once.",
        "StartAt": "RestoreObjects",
        "States": {
            "RestoreObjects": {
                "Type": "Map",
                "Comment": "Items straight from S3, in batches; each batch is one EXPRESS child execution.",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": s.max_items},
                    "Parameters": {"Bucket": s.work_bucket, "Key.$": "$.itemsKey"},
                },
                "ItemBatcher": {
                    "MaxItemsPerBatch": s.batch_size,
                    "BatchInput": {"batchId.$": "$.batchId", "tier.$": "$.tier", "days.$": "$.days"},
                },
                "MaxConcurrency": s.max_concurrency,
                "ToleratedFailurePercentage": 100,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "RestoreBatch",
                    "States": {
                        "RestoreBatch": {
                            "Type": "Map",
                            "ItemsPath": "$.Items",
                            "ItemSelector": {"key.$": "$$.Map.Item.Value.Key", "batch.$": "$.BatchInput"},
                            "MaxConcurrency": 10,
                            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "ClaimBulkObject",
                                              "States": _object_states(s)},
                            "ResultPath": "$.results",
                            "Next": "PaceBatch",
                        },
                        "PaceBatch": {
                            "Type": "Wait",
                            "Comment": "Rate limit: each child holds its slot for this long after its batch.",
                            "Seconds": s.pace_seconds,
                            "Next": "BatchDone",
                        },
                        "BatchDone": {"Type": "Pass", "Parameters": {"results.$": "$.results"}, "End": True},
                    },
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": s.work_bucket, "Prefix": "results"},
                },
                "ResultPath": "$.mapRun",
                "Next": "RequestsSent",
            },
            "RequestsSent": {
                "Type": "Task",
                "Resource": _ddb("updateItem"),
                "Parameters": {
                    "TableName": s.batches_table,
                    "Key": {"batchId": {"S.$": "$.batchId"}},
                    "UpdateExpression": "SET mapDone = :true, #status = :restoring, resultsManifest = :manifest",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":true": {"BOOL": True}, ":restoring": {"S": BATCH_RESTORING},
                        ":manifest": {"S.$": "$.mapRun.ResultWriterDetails.Key"},
                    },
                },
                "ResultPath": None,
                "Retry": DYNAMODB_RETRY,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "BulkSummaryUnavailable"}],
                "Next": "BulkClaimSummary",
            },
            **summary_states(s.batches_table, s.sender, s.work_bucket, s.service_name, prefix="Bulk",
                             batch_path="$.batchId"),
        },
    }
