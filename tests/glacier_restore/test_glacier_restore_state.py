"""The restore-state steps: S3 event keys decoded as Powertools decodes them, and when a request extends a copy."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote_plus

import pytest

from serverless_patterns.lambdas.glacier_restore.restore_state import app

from .workflow_env import LambdaContext

RESTORED = 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"'


@pytest.mark.parametrize("key", ["red flower.jpg", "a+b=c.tar", "100% done.tar", "données/été ✓.tar", "plain/key"])
def test_event_keys_are_decoded_as_s3_encodes_them(key: str) -> None:
    """S3 URL-encodes keys in event notifications ("red flower.jpg" becomes "red+flower.jpg")."""
    event = {"detail-type": "Object Restore Completed", "detail": {"object": {"key": quote_plus(key)}}}
    answer = app.handler({"step": "eventKey", "event": event}, LambdaContext())
    assert answer["key"] == key
    # The email's link key reads back as the very key in a query string (as URLSearchParams reads it).
    assert parse_qs(f"download=1&key={answer['linkKey']}")["key"] == [key]
    assert not set(answer["linkKey"]) & set("&=+#/? ")


@pytest.mark.parametrize(("days", "now", "extend", "requested"), [
    (1, "2012-12-19T10:00:00Z", False, "2012-12-21T00:00:00Z"),   # rounds to the same midnight: nothing gained
    (2, "2012-12-19T10:00:00Z", True, "2012-12-22T00:00:00Z"),
    (2, "2012-12-19T00:00:00Z", False, "2012-12-21T00:00:00Z"),   # exactly midnight stays midnight
    (30, "2012-12-20T23:59:59Z", True, "2013-01-20T00:00:00Z"),
])
def test_a_request_extends_the_copy_only_past_its_expiry(days: int, now: str, extend: bool, requested: str) -> None:
    answer = app.handler({"step": "extension", "restore": RESTORED, "days": days, "now": now}, LambdaContext())
    assert (answer["extend"], answer["requestedExpiry"], answer["currentExpiry"]) == (
        extend, requested, "2012-12-21T00:00:00Z")


@pytest.mark.parametrize(("payload", "field"), [
    ({"step": "extension", "restore": 'ongoing-request="true"', "days": 2, "now": "2012-12-19T10:00:00Z"}, "restore"),
    ({"step": "extension", "restore": RESTORED, "days": 0, "now": "2012-12-19T10:00:00Z"}, "days"),
    ({"step": "extension", "restore": RESTORED, "days": True, "now": "2012-12-19T10:00:00Z"}, "days"),
    ({"step": "extension", "restore": RESTORED, "days": 2, "now": "yesterday"}, "now"),
    ({"step": "eventKey", "event": {"detail": {}}}, "event"),
    ({"step": "guess"}, "step"),
])
def test_malformed_input_is_refused_naming_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(app.InvalidInput, match=f"^{field}: "):
        app.handler(payload, LambdaContext())
