"""Every AWS API limit the components validate against matches botocore's service model."""

from __future__ import annotations

import botocore.session
import pytest

from serverless_patterns.core.args import ComponentArgsError, Validator
from serverless_patterns.core.limits import (
    EVENTS_TARGET_MAX_EVENT_AGE,
    LAMBDA_ASYNC_MAX_EVENT_AGE,
    LIMITS,
    ApiLimit,
)

SESSION = botocore.session.get_session()


def model_range(limit: ApiLimit) -> tuple[int, int]:
    shape = SESSION.get_service_model(limit.service).operation_model(limit.operation).input_shape
    for part in limit.member.split("."):
        shape = shape.members[part]
        while shape.type_name == "list":
            shape = shape.member
    return shape.metadata["min"], shape.metadata["max"]


@pytest.mark.parametrize("limit", LIMITS, ids=str)
def test_limit_matches_botocore(limit: ApiLimit) -> None:
    assert (limit.minimum, limit.maximum) == model_range(limit)


def test_a_value_reaching_two_apis_fits_both() -> None:
    v = Validator("C")
    assert v.integer_for("age", 21600, EVENTS_TARGET_MAX_EVENT_AGE, LAMBDA_ASYNC_MAX_EVENT_AGE) == 21600
    with pytest.raises(ComponentArgsError, match="PutFunctionEventInvokeConfig") as error:
        v.integer_for("age", 21601, EVENTS_TARGET_MAX_EVENT_AGE, LAMBDA_ASYNC_MAX_EVENT_AGE)
    assert error.value.field == "age" and "from 60 to 21600" in error.value.allowed
