import json
import re
from pathlib import Path

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.function import DEFAULT_RUNTIME, PythonFunction, newest_python_runtime, validate_settings
from serverless_patterns.offline import run_callable

FOLDER = Path(__file__).resolve().parents[1] / "offline" / "fixtures" / "program" / "functions" / "echo"


def build(**kwargs):
    return run_callable(lambda: PythonFunction("orders", code=FOLDER, service="orders", **kwargs),
                        region="eu-west-1", account="111111111111")


def test_newest_runtime_is_the_default() -> None:
    assert newest_python_runtime() == DEFAULT_RUNTIME
    assert int(DEFAULT_RUNTIME.split(".")[1]) >= 13


def test_function_defaults() -> None:
    stack = build()
    fn = stack.one("aws:lambda/function:Function").inputs
    assert fn["runtime"] == DEFAULT_RUNTIME
    assert fn["architectures"] == ["arm64"]
    assert fn["tracingConfig"] == {"mode": "Active"}
    assert fn["loggingConfig"]["logFormat"] == "JSON"
    assert re.fullmatch(rf"arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-"
                        rf"{DEFAULT_RUNTIME.replace('.', '')}-arm64:[1-9][0-9]*", fn["layers"][0])
    assert len(fn["layers"]) == 1
    assert fn["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"] == "orders"
    assert sorted(fn["code"].assets) == ["app.py"]
    group = stack.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["retentionInDays"] == 30
    assert fn["loggingConfig"]["logGroup"] == group.outputs["name"]


def test_children_are_parented_to_the_function_component() -> None:
    stack = build()
    component = stack.one("serverless-patterns:index:PythonFunction")
    assert {r.type for r in stack.children(component.urn)} == {
        "aws:cloudwatch/logGroup:LogGroup", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
        "aws:lambda/function:Function"}


def test_role_is_its_own_and_scoped() -> None:
    stack = build()
    trust = json.loads(stack.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    logs = policy["Statement"][0]
    assert logs["Resource"].startswith("arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/orders-")
    assert logs["Resource"].endswith(":*")


def test_invoke_permission_carries_source_arn_and_account() -> None:
    def program() -> None:
        fn = PythonFunction("orders", code=FOLDER, service="orders")
        fn.allow_invoke("api", "apigateway.amazonaws.com", "arn:aws:execute-api:eu-west-1:111111111111:abc/*")

    permission = run_callable(program, account="111111111111").one("aws:lambda/permission:Permission").inputs
    assert permission["sourceArn"] == "arn:aws:execute-api:eu-west-1:111111111111:abc/*"
    assert permission["sourceAccount"] == "111111111111"


@pytest.mark.parametrize(("settings", "field"), [
    ({"architecture": "sparc"}, "function_settings.architecture"),
    ({"log_retention_days": 10}, "function_settings.log_retention_days"),
    ({"runtime": "python2.7"}, "function_settings.runtime"),
    ({"log_level": "TRACE"}, "function_settings.log_level"),
    ({"colour": "blue"}, "function_settings.colour"),
])
def test_bad_settings_name_the_field(settings: dict, field: str) -> None:
    with pytest.raises(ComponentArgsError) as raised:
        validate_settings("GlacierRestore", settings)
    assert raised.value.field == field
    assert raised.value.component == "GlacierRestore"


def test_bad_memory_is_refused_at_construction() -> None:
    with pytest.raises(ComponentArgsError, match="memory_mb"):
        build(memory_mb=64)


def test_component_depends_on_reaches_every_child() -> None:
    import pulumi
    import pulumi_aws as aws

    def program() -> None:
        gate = aws.s3.Bucket("gate")
        PythonFunction("orders", code=FOLDER, service="orders", opts=pulumi.ResourceOptions(depends_on=[gate]))

    stack = run_callable(program)
    gate = stack.one("aws:s3/bucket:Bucket").urn
    component = stack.one("serverless-patterns:index:PythonFunction")
    for child in stack.children(component.urn):
        assert gate in child.dependencies, child.name


def test_a_function_shares_its_components_env_only_through_the_same_provider() -> None:
    """A function inside a pattern component reads account, Region and the Powertools layer once with it when
    both reach AWS through the same provider, and through its own provider when it has one."""
    import pulumi_aws as aws

    from serverless_patterns.core.base import PatternComponent

    def program() -> None:
        outer = PatternComponent("outer")
        PythonFunction("inherits", code=FOLDER, service="orders", opts=outer.child_opts()).allow_invoke(
            "api", "apigateway.amazonaws.com", "arn:aws:execute-api:eu-west-1:111111111111:abc/*")
        PythonFunction("intel", code=FOLDER, service="orders", settings={"architecture": "x86_64"},
                       opts=outer.child_opts())
        other = aws.Provider("other", region="us-east-1", allowed_account_ids=["222222222222"])
        PythonFunction("elsewhere", code=FOLDER, service="orders",
                       opts=outer.child_opts(providers={"aws": other})).allow_invoke(
            "api", "apigateway.amazonaws.com", "arn:aws:execute-api:us-east-1:222222222222:abc/*")

    stack = run_callable(program, region="eu-west-1", account="111111111111")
    accounts = {p.name.split("-")[0]: p.inputs["sourceAccount"]
                for p in stack.of_type("aws:lambda/permission:Permission")}
    assert accounts == {"inherits": "111111111111", "elsewhere": "222222222222"}
    layers = {f.name.split("-")[0]: f.inputs["layers"][0] for f in stack.of_type("aws:lambda/function:Function")}
    assert layers["inherits"].startswith("arn:aws:lambda:eu-west-1:017000801446:layer:")
    assert "-arm64:" in layers["inherits"] and "-x86_64:" in layers["intel"]
    assert layers["elsewhere"].startswith("arn:aws:lambda:us-east-1:017000801446:layer:")
