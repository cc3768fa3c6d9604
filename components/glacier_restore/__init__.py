"""GlacierRestore: restores of archived S3 objects on request, with truthful answers, cost and download.

- `POST /restores` runs an EXPRESS workflow synchronously (API Gateway → `states:StartSyncExecution`,
  no Lambda): validate, HeadObject, RestoreObject with the requested tier and days, record the request
  in DynamoDB, confirm by SES email from a verified sender. The mapping templates answer truthfully.
- S3 sends "Object Restore Completed"/"Object Restore Expired" to EventBridge; rules (with retries and a
  dead-letter queue) start a STANDARD workflow that estimates the cost (Lambda, Price List API with a
  config fallback), records it and emails every requester; expiry marks the record expired.
- `GET /download?key=...` returns a short-lived presigned URL to a restored object for its requesters.

The state machine definitions come from `definitions.py` (pure functions the tests execute in moto).
"""

from serverless_patterns.glacier_restore.args import GlacierRestoreArgs, PriceSettings
from serverless_patterns.glacier_restore.component import GlacierRestore
from serverless_patterns.glacier_restore.config import from_config

__all__ = ["GlacierRestore", "GlacierRestoreArgs", "PriceSettings", "from_config"]
