"""Request checks of the REST API handlers that route with Powertools' `APIGatewayRestResolver`.

They validate without the resolver's `enable_validation`, which imports pydantic (about 0.4x a bare
`import boto3` on each cold start; README, Benchmarks): a JSON body is checked against a JSON Schema (its
validator generated once: `schema_checks`), its strings trimmed first (a blank name is an empty one), and integer
query parameters are parsed here. A malformed request is a `BadRequest`, answered with 400 and
`{"message": "Bad request", "errors": [{"location": "body.name", "message": "..."}]}`: one error, the first the
validator meets. Register the answer on the resolver with `app.exception_handler(BadRequest)(BadRequest.response)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from schema_checks import Invalid, Validator, stripped

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

#: An integer as a query string spells it (digits, an optional minus; no spaces, signs or underscores).
INTEGER = re.compile(r"-?[0-9]{1,18}")


class BadRequest(Exception):
    """A malformed request: where (`body`, `body.<field>`, `query.<name>`) and what is wrong."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message

    def response(self) -> Response[dict[str, Any]]:
        """The 400 answer, in the shape Powertools' validation gave (one error)."""
        return Response(status_code=400, content_type=content_types.APPLICATION_JSON,
                        body={"message": "Bad request", "errors": [{"location": self.location,
                                                                    "message": self.message}]})


def json_body(event: APIGatewayProxyEvent, validator: Validator) -> dict[str, Any]:
    """The request's JSON body, strings trimmed, as `validator` accepts it (defaults filled), or BadRequest."""
    try:
        body = event.decoded_body
        if body is None or not body.strip():
            raise BadRequest("body", "a JSON body is required")
        data = json.loads(body)
        return validator(stripped(data))  # type: ignore[no-any-return]
    except json.JSONDecodeError as error:
        raise BadRequest("body", f"is not JSON: {error.msg} at position {error.pos}") from None
    except Invalid as error:
        raise BadRequest(".".join(["body", *error.path]), error.text) from None
    except ValueError:  # base64 or UTF-8 that does not decode, an integer past Python's 4,300 digits
        raise BadRequest("body", "is not valid UTF-8 JSON") from None
    except RecursionError:  # nested deeper than the parser, the trimming or the validator goes
        raise BadRequest("body", "is nested too deeply") from None


def query_int(parameters: Mapping[str, str] | None, name: str, *, default: int, low: int, high: int) -> int:
    """The integer query parameter `name` within [low, high], `default` when absent, or BadRequest."""
    value = (parameters or {}).get(name)
    if value is None:
        return default
    if not INTEGER.fullmatch(value) or not low <= int(value) <= high:
        raise BadRequest(f"query.{name}", f"must be an integer from {low} to {high}")
    return int(value)


#: A date as GetUsage takes it (`startDate`, `endDate`: YYYY-MM-DD).
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def usage_window(parameters: Mapping[str, str] | None, *, max_days: int,
                 refuse: Callable[[str], Exception]) -> tuple[date, date]:
    """The `?start=&end=` days of a usage query: end defaults to today (UTC), start to the first of end's month;
    both `YYYY-MM-DD`, start not after end, at most `max_days` days with both ends. Otherwise `refuse(reason)`
    is raised: each API answers a bad window in its own error shape."""
    def day(name: str, default: date) -> date:
        value = (parameters or {}).get(name)
        if value is None:
            return default
        try:
            if not DAY.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise refuse(f"{name} must be a date YYYY-MM-DD") from None

    end = day("end", datetime.now(UTC).date())
    start = day("start", end.replace(day=1))
    if start > end or (end - start).days + 1 > max_days:
        raise refuse(f"start must not be after end, and the window at most {max_days} days")
    return start, end
