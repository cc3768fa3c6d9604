"""Pulumi.example.yaml, the README's first real deploy into a new account, planned offline as committed."""

import json
import re
from pathlib import Path

import pytest
import yaml

from serverless_patterns.offline import CapturedStack, run_program
from serverless_patterns.offline.plan import run_policies
from serverless_patterns.registry import PATTERNS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "Pulumi.example.yaml"


@pytest.fixture(scope="module")
def example() -> CapturedStack:
    return run_program(ROOT, "example")


def second_deploy_section() -> dict:
    """The crossAccountEcr section with the file's commented "Second deploy" settings switched on."""
    lines = EXAMPLE.read_text().splitlines()
    [marker] = [i for i, line in enumerate(lines) if "# Second deploy" in line]
    setting = re.compile(r'^(\s*)# (\s*(?:[A-Za-z]+|"\d{12}"):(?: .*)?)$')
    switched = [setting.sub(r"\1\2", line) if i > marker else line for i, line in enumerate(lines)]
    assert switched != lines, "Pulumi.example.yaml no longer shows the second deploy's settings"
    return yaml.safe_load("\n".join(switched))["config"]["serverless-patterns:patterns"]["crossAccountEcr"]


def test_the_example_stack_plans_clean_under_the_policy_pack(example: CapturedStack) -> None:
    ran, violations = run_policies(example)
    assert ran
    assert [(v.policy_name, v.urn) for v in violations] == []
    assert set(example.outputs) == set(PATTERNS), "every pattern is on in the walkthrough"


def test_the_example_deploys_into_the_account_it_names(example: CapturedStack) -> None:
    account = yaml.safe_load(EXAMPLE.read_text())["config"]["aws:allowedAccountIds"][0]
    assert example.outputs["crossAccountEcr"]["registryId"] == account
    arns = [v for r in example.resources for v in r.outputs.values() if isinstance(v, str) and v.startswith("arn:")]
    accounts = {arn.split(":")[4] for arn in arns if re.fullmatch(r"\d{12}", arn.split(":")[4])}
    assert account in accounts
    foreign = accounts - {account}
    assert foreign <= {"017000801446"}, foreign  # only the public Powertools layer's account


def test_the_first_deploy_needs_no_image(example: CapturedStack) -> None:
    ecr = example.outputs["crossAccountEcr"]
    assert ecr["functions"] == {} and ecr["imageUri"] is None
    assert not [f for f in example.of_type("aws:lambda/function:Function") if f.inputs.get("packageType") == "Image"]
    policy = json.loads(example.one("aws:ecr/repositoryPolicy:RepositoryPolicy").inputs["policy"])
    consumers = yaml.safe_load(EXAMPLE.read_text())["config"]["serverless-patterns:patterns"]["crossAccountEcr"][
        "consumerAccountIds"]
    principals = json.dumps([s.get("Principal") for s in policy["Statement"]])
    assert all(f"iam::{account}:root" in principals for account in consumers)


def test_the_account_logging_role_is_created(example: CapturedStack) -> None:
    account = example.one("aws:apigateway/account:Account")
    role = example.one("aws:iam/role:Role", "api-gateway-logging")
    assert account.inputs["cloudwatchRoleArn"] == role.outputs["arn"]


def test_the_second_deploy_as_commented_pins_the_pushed_image() -> None:
    section = second_deploy_section()
    assert section["consumers"] and section["imageTag"]
    config = {"serverless-patterns:patterns": json.dumps({"crossAccountEcr": section}),
              "serverless-patterns:apiGatewayAccountLogging": "false"}
    stack = run_program(ROOT, "example", config_overrides=config)
    assert set(stack.outputs) == {"crossAccountEcr"}
    [function] = [f for f in stack.of_type("aws:lambda/function:Function") if f.inputs.get("packageType") == "Image"]
    assert "@sha256:" in function.inputs["imageUri"]
    assert set(stack.outputs["crossAccountEcr"]["functions"]) == set(section["consumers"])
    assert not stack.of_type("aws:apigateway/account:Account"), "apiGatewayAccountLogging: false creates no role"
    ran, violations = run_policies(stack)
    assert ran and violations == []
