import json

import pulumi
import pytest

from serverless_patterns.core import iam
from serverless_patterns.offline import run_callable


def test_wildcard_actions_are_refused() -> None:
    for action in ["s3:*", "*", "s3:Get*", "dynamodb:PutItem*"]:
        with pytest.raises(iam.PolicyError, match="wildcards are not allowed"):
            iam.allow([action], ["arn:aws:s3:::b/*"])


def test_star_resource_only_for_unscopable_actions() -> None:
    iam.allow(["xray:PutTraceSegments", "pricing:GetProducts"], ["*"])
    with pytest.raises(iam.PolicyError, match="scope s3:GetObject to ARNs"):
        iam.allow(["xray:PutTraceSegments", "s3:GetObject"], ["*"])


def test_deny_may_use_star_resources_and_service_wildcards() -> None:
    statement = iam.deny(["s3:*"], ["*"], conditions={"Bool": {"aws:SecureTransport": "false"}})
    assert statement.to_dict()["Effect"] == "Deny"
    assert statement.to_dict()["Action"] == "s3:*"
    with pytest.raises(iam.PolicyError):
        iam.deny(["*"], ["*"])


def test_document_shape_and_outputs_resolve() -> None:
    arn = pulumi.Output.from_input("arn:aws:dynamodb:eu-west-1:111111111111:table/t")

    def program() -> None:
        doc = iam.document(iam.allow(["dynamodb:GetItem", "dynamodb:PutItem"], [arn], sid="Table"),
                           iam.allow(["ses:SendEmail"], ["arn:aws:ses:eu-west-1:111111111111:identity/x"],
                                     conditions={"StringEquals": {"ses:FromAddress": "a@b.org"}}))
        pulumi.export("doc", doc)

    stack = run_callable(program)
    doc = json.loads(stack.outputs["doc"])
    assert doc["Version"] == "2012-10-17"
    assert doc["Statement"][0] == {"Sid": "Table", "Effect": "Allow",
                                   "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                                   "Resource": "arn:aws:dynamodb:eu-west-1:111111111111:table/t"}
    assert doc["Statement"][1]["Condition"] == {"StringEquals": {"ses:FromAddress": "a@b.org"}}


def test_service_trust_carries_confused_deputy_conditions() -> None:
    def program() -> None:
        pulumi.export("trust", iam.service_trust("states.amazonaws.com", source_account="111111111111",
                                                 source_arn="arn:aws:states:eu-west-1:111111111111:*"))

    trust = json.loads(run_callable(program).outputs["trust"])
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "states.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"},
                                      "ArnLike": {"aws:SourceArn": "arn:aws:states:eu-west-1:111111111111:*"}}


def test_empty_documents_are_refused() -> None:
    with pytest.raises(iam.PolicyError):
        iam.document_data()


def test_refusals_say_what_is_wrong_and_what_to_do() -> None:
    with pytest.raises(iam.PolicyError, match=r"^a statement needs at least one action$"):
        iam.allow([], ["arn:aws:s3:::b/*"])
    with pytest.raises(iam.PolicyError, match=r"^a policy document needs at least one statement$"):
        iam.document_data()
    with pytest.raises(iam.PolicyError) as refused:
        iam.allow(["xray:PutTraceSegments", "s3:GetObject", "sqs:SendMessage"], ["*"])
    message = str(refused.value)
    assert message.startswith("Resource '*' is only allowed for actions AWS cannot scope (")
    assert ", ".join(sorted(iam.UNSCOPABLE_ACTIONS)) in message
    assert message.endswith("; scope s3:GetObject, sqs:SendMessage to ARNs")


def test_allow_and_deny_carry_sid_conditions_and_principals() -> None:
    conditions = {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    principals = {"Service": "sns.amazonaws.com"}
    for build, effect in ((iam.allow, "Allow"), (iam.deny, "Deny")):
        statement = build(["sqs:SendMessage"], ["arn:aws:sqs:eu-west-1:111111111111:q"], sid="Topic",
                          conditions=conditions, principals=principals)
        assert statement.to_dict() == {"Sid": "Topic", "Effect": effect, "Principal": principals,
                                       "Action": "sqs:SendMessage",
                                       "Resource": "arn:aws:sqs:eu-west-1:111111111111:q", "Condition": conditions}


def test_several_resources_are_a_list_one_is_a_string() -> None:
    two = ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]
    assert iam.allow(["s3:GetObject"], two).to_dict()["Resource"] == two
    assert iam.allow(["s3:GetObject"], two[:1]).to_dict()["Resource"] == "arn:aws:s3:::a/*"
    assert "Resource" not in iam.allow(["sts:AssumeRole"], principals={"Service": "x.amazonaws.com"}).to_dict()


def test_service_trust_is_an_allow_and_conditions_only_when_given() -> None:
    def program() -> None:
        pulumi.export("bare", iam.service_trust("lambda.amazonaws.com"))
        pulumi.export("scoped", iam.service_trust("events.amazonaws.com", source_account="111111111111"))

    outputs = run_callable(program).outputs
    bare = json.loads(outputs["bare"])["Statement"][0]
    assert bare == {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    scoped = json.loads(outputs["scoped"])["Statement"][0]
    assert scoped["Effect"] == "Allow"
    assert scoped["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_roles_api_gateway_assumes_carry_no_source_condition_it_does_not_send() -> None:
    """API Gateway's documented trust policy for integration and CloudWatch roles has no condition, and a
    live test-invoke shows it sends no aws:SourceAccount when it assumes them (see iam.NO_SOURCE_CONTEXT)."""
    with pytest.raises(iam.PolicyError, match="aws:SourceAccount"):
        iam.service_trust("apigateway.amazonaws.com", source_account="111111111111")

    def program() -> None:
        pulumi.export("trust", iam.service_trust("apigateway.amazonaws.com"))

    statement = json.loads(run_callable(program).outputs["trust"])["Statement"][0]
    assert statement == {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                         "Action": "sts:AssumeRole"}

