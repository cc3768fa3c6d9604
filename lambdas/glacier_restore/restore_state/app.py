"""Two small steps the GlacierRestore workflows cannot do in Amazon States Language (no URL decoding, no dates).

The workflow sends `{"step": ..., ...}`:

- `eventKey`: the object key of an S3 restore event as EventBridge delivers it. S3 URL-encodes keys in its
  event notifications ("red flower.jpg" arrives as "red+flower.jpg"; S3 User Guide, "Event message
  structure": https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html), and
  Powertools' `S3EventBridgeNotificationEvent` decodes `detail.object.key` with `unquote_plus`, which is used
  here. Answer: `{"key": <the key as stored and requested>, "linkKey": <the key percent-encoded for a URL query
  string>}` (the completion email's link to the object's page on the web front end; `quote` with no safe
  characters, so `&`, `=`, `+`, `#` and `/` in keys survive the round trip through URLSearchParams).
- `extension`: whether a new request for an already restored object extends its copy. S3 keeps a restored
  copy until its expiry date and "you can update the restoration period by reissuing the request with a new
  period. Amazon S3 updates the restoration period relative to the current time" (RestoreObject API
  reference: https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html); the expiry is the
  time plus the days, rounded up to the next midnight UTC (S3 User Guide, "Restoring an archived object":
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html). Input: `restore` (the
  `x-amz-restore` header HeadObject returned), `days`, `now` (ISO-8601). Answer: `{"extend", "currentExpiry",
  "requestedExpiry", "remainingDays"}`; `extend` is true only when the requested days reach past the
  current expiry (a shorter request would cut the copy short).

Malformed input raises `InvalidInput` naming the field (the workflow records the failure).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()

_EXPIRY = re.compile(r'expiry-date="(?P<date>[^"]+)"')


class InvalidInput(ValueError):
    """The workflow passed something this step cannot use."""


def event_key(event: dict[str, Any]) -> dict[str, str]:
    """The decoded object key of an S3 EventBridge event."""
    try:
        key = S3EventBridgeNotificationEvent(event).detail.object.key
    except (KeyError, TypeError) as error:
        raise InvalidInput(f"event: no detail.object.key in the S3 event ({error})") from None
    if not key:
        raise InvalidInput("event: detail.object.key is empty")
    return {"key": key, "linkKey": quote(key, safe="")}


def _midnight_after(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if day == moment else day + timedelta(days=1)


def extension(restore: Any, days: Any, now: Any) -> dict[str, Any]:
    """Whether asking for `days` more days from `now` extends the restored copy described by `restore`."""
    match = _EXPIRY.search(restore) if isinstance(restore, str) else None
    if match is None:
        raise InvalidInput(f"restore: no expiry-date in the x-amz-restore value {restore!r}")
    try:
        expiry = parsedate_to_datetime(match["date"]).astimezone(UTC)
    except (TypeError, ValueError):
        raise InvalidInput(f"restore: {match['date']!r} is not an HTTP date") from None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidInput(f"days: {days!r} is not a whole number of days of at least 1")
    try:
        started = datetime.fromisoformat(str(now).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise InvalidInput(f"now: {now!r} is not an ISO-8601 time") from None
    requested = _midnight_after(started + timedelta(days=days))
    return {"extend": requested > expiry,
            "currentExpiry": expiry.isoformat().replace("+00:00", "Z"),
            "requestedExpiry": requested.isoformat().replace("+00:00", "Z"),
            "remainingDays": round(max((expiry - started).total_seconds(), 0) / 86400, 2)}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = event.get("step") if isinstance(event, dict) else None
    if step == "eventKey":
        return event_key(event.get("event") or {})
    if step == "extension":
        return extension(event.get("restore"), event.get("days"), event.get("now"))
    raise InvalidInput(f"step: {step!r} is not one of eventKey, extension")
