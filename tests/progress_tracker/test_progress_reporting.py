"""The reuse helper: what it inserts into other programs' definitions, for each mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.progress_tracker.reporting import (
    GONE_ERRORS,
    ProgressPoint,
    ReportingError,
    ReportingTarget,
    progress_states,
    with_progress,
    with_progress_steps,
)

DIRECT = ReportingTarget.direct("tbl", "abc123.execute-api.eu-west-1.amazonaws.com", "beta")
LAMBDA = ReportingTarget.lambda_function("arn:aws:lambda:eu-west-1:111111111111:function:report")
EVENTS = ReportingTarget.eventbridge("progress-bus")


def checkout() -> dict[str, Any]:
    return {"StartAt": "Validate", "States": {
        "Validate": {"Type": "Pass", "Next": "Route"},
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "ChargeCard"}],
                  "Default": "Reject"},
        "ChargeCard": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {},
                       "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Reject"}], "Next": "Ship"},
        "Ship": {"Type": "Pass", "End": True},
        "Reject": {"Type": "Fail", "Error": "Rejected"},
    }}


@pytest.mark.parametrize("target", [DIRECT, LAMBDA, EVENTS], ids=["direct", "lambda", "eventbridge"])
def test_insert_after_a_state(target: ReportingTarget) -> None:
    original = checkout()
    result = with_progress(original, target, after="ChargeCard", percent=40, message="payment captured")
    name = "Report 40%: payment captured"
    assert result["States"]["ChargeCard"]["Next"] == name
    report = result["States"][name]
    assert report["Next"] == "Ship" and report["ResultPath"] is None
    assert report["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Ship"}]
    assert original["States"]["ChargeCard"]["Next"] == "Ship"  # the input is not modified
    text = json.dumps(report)
    assert '"percent": 40' in text and "payment captured" in text and "$$.Execution.Name" in text


def test_insert_before_redirects_every_transition() -> None:
    result = with_progress(checkout(), LAMBDA, before="Reject", percent=100, message="rejected", status="FAILED")
    states = result["States"]
    name = "Report 100%: rejected"
    assert states["Route"]["Default"] == name
    assert states["ChargeCard"]["Catch"][0]["Next"] == name
    assert states[name]["Next"] == "Reject"
    assert states[name]["Parameters"]["Payload"]["status"] == "FAILED"
    start = with_progress(checkout(), LAMBDA, before="Validate", percent=0, message="started")
    assert start["StartAt"] == "Report 0%: started"


def test_report_at_the_end_ends_the_workflow_even_on_error() -> None:
    result = with_progress(checkout(), EVENTS, after="Ship", percent=100, message="done", status="SUCCEEDED")
    states = result["States"]
    assert "End" not in states["Ship"] and states["Ship"]["Next"] == "Report 100%: done"
    report = states["Report 100%: done"]
    assert report["End"] is True
    fallback = report["Catch"][0]["Next"]
    assert states[fallback] == {"Type": "Pass", "Comment": states[fallback]["Comment"], "End": True}


def test_direct_mode_posts_with_iam_and_handles_410() -> None:
    [(name, state)] = progress_states(DIRECT, percent=40, message="m", next_state="Next").items()
    assert state["Type"] == "Parallel"
    branch = state["Branches"][0]["States"]
    post = branch[f"{name} / Post to followers"]["ItemProcessor"]["States"][f"{name} / Post to connection"]
    assert post["Resource"] == "arn:aws:states:::apigateway:invoke"
    assert post["Parameters"]["Stage"] == "beta" and post["Parameters"]["AuthType"] == "IAM_ROLE"
    assert post["Parameters"]["ApiEndpoint"] == "abc123.execute-api.eu-west-1.amazonaws.com"
    assert set(GONE_ERRORS) == {"ApiGateway.410", "APIGateway.410"}
    assert post["Retry"][0] == {"ErrorEquals": GONE_ERRORS, "MaxAttempts": 0}
    assert post["Catch"][0]["Next"] == f"{name} / Forget gone follower"
    assert branch[f"{name} / Find followers"]["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:query"


def test_several_points_in_order() -> None:
    result = with_progress_steps(checkout(), LAMBDA, [ProgressPoint(10, "validated", after="Validate"),
                                                      ProgressPoint(90, "shipped", after="Ship")])
    assert result["States"]["Validate"]["Next"] == "Report 10%: validated"
    assert result["States"]["Report 10%: validated"]["Parameters"]["Payload"]["step"] == "Validate"


def test_accepts_json_text() -> None:
    result = with_progress(json.dumps(checkout()), LAMBDA, after="Validate", percent=5, message="x")
    assert "Report 5%: x" in result["States"]


@pytest.mark.parametrize("kwargs,words", [
    ({"after": "Nope", "percent": 1, "message": "m"}, "no state 'Nope'"),
    ({"after": "Route", "percent": 1, "message": "m"}, "Choice"),
    ({"after": "Validate", "before": "Ship", "percent": 1, "message": "m"}, "exactly one"),
    ({"after": "Validate", "percent": 101, "message": "m"}, "0 to 100"),
    ({"after": "Validate", "percent": 1, "message": "x" * 40000}, "bytes"),
    ({"after": "Validate", "percent": 1, "message": "m", "status": "DONE"}, "status"),
    ({"after": "Validate", "percent": 1, "message": "m", "name": "Ship"}, "already exists"),
])
def test_bad_requests_are_refused(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ReportingError, match=words):
        with_progress(checkout(), LAMBDA, **kwargs)


@pytest.mark.parametrize("build,words", [
    (lambda: ReportingTarget("carrier-pigeon"), "not one of"),
    (lambda: ReportingTarget("direct", table_name="t"), "api_endpoint, stage"),
    (lambda: ReportingTarget.direct("t", "https://abc.execute-api.eu-west-1.amazonaws.com", "s"), "host name"),
    (lambda: ReportingTarget("lambda"), "function_arn"),
])
def test_bad_targets_are_refused(build: Any, words: str) -> None:
    with pytest.raises(ReportingError, match=words):
        build()


def all_state_names(definition: dict[str, Any]) -> list[str]:
    """Every state name of a machine, with repeats, including Parallel branches and Map processors."""
    names: list[str] = []
    for state_name_, state in definition["States"].items():
        names.append(state_name_)
        for branch in state.get("Branches", []):
            names += all_state_names(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                names += all_state_names(state[key])
    return names


@pytest.mark.parametrize("target", [DIRECT, LAMBDA, EVENTS], ids=["direct", "lambda", "eventbridge"])
def test_state_names_are_unique_across_the_whole_machine(target: ReportingTarget) -> None:
    # ASL (https://states-language.net/spec.html#states-fields): "State names MUST be unique within
    # the scope of the whole state machine"; AWS refuses a repeat with DUPLICATE_STATE_NAME
    # (https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html).
    from serverless_patterns.progress_tracker.reporting import demo_order_workflow

    names = all_state_names(demo_order_workflow(target))
    repeated = sorted({n for n in names if names.count(n) > 1})
    assert repeated == []
    assert all(len(n) <= 80 for n in names)
    long = with_progress_steps(checkout(), target, [ProgressPoint(10, "m" * 90, after="Validate"),
                                                    ProgressPoint(20, "m" * 91, after="ChargeCard")])
    names = all_state_names(long)
    assert len(names) == len(set(names)) and all(len(n) <= 80 for n in names)


def nested_checkout(inner_name: str) -> dict[str, Any]:
    definition = checkout()
    definition["States"]["Validate"] = {
        "Type": "Parallel", "Next": "Route",
        "Branches": [{"StartAt": "Inner", "States": {"Inner": {"Type": "Map", "End": True, "ItemProcessor": {
            "StartAt": inner_name, "States": {inner_name: {"Type": "Pass", "End": True}}}}}}]}
    return definition


@pytest.mark.parametrize("inner_name", ["Report 40%: payment captured", "Save progress", "Find followers",
                                        "Post to connection"])
def test_report_names_never_collide_with_nested_user_states(inner_name: str) -> None:
    try:
        result = with_progress(nested_checkout(inner_name), DIRECT, after="ChargeCard", percent=40,
                               message="payment captured")
    except ReportingError as error:
        assert inner_name in str(error)
    else:
        names = all_state_names(result)
        assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
