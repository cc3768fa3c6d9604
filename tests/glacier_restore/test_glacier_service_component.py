"""What the component registers for the service routes: one estimator, exact grants, routed and authorized."""

from __future__ import annotations

import json

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.glacier_restore.args import MAX_GROUP_PREFIXES_BYTES
from serverless_patterns.offline import CapturedStack

from .conftest import ARGS, build, policy_of_role, statements


def _files(stack: CapturedStack, name: str) -> dict[str, str]:
    code = stack.one("aws:lambda/function:Function", name).inputs["code"]
    return {path: asset.path for path, asset in code.assets.items()}


def test_the_estimate_route_ships_the_completion_workflows_estimator(stack: CapturedStack) -> None:
    service, cost = (stack.one("aws:lambda/function:Function", n) for n in ("gr-service", "gr-cost"))
    assert _files(stack, "gr-service") == _files(stack, "gr-cost")  # the same archive, so the same estimate()
    assert "app.py" in _files(stack, "gr-service") and "service.py" in _files(stack, "gr-service")
    assert (service.inputs["handler"], cost.inputs["handler"]) == ("service.handler", "app.handler")
    shared = ("PRICES", "USE_PRICE_LIST", "PRICING_REGION")
    assert {k: service.inputs["environment"]["variables"][k] for k in shared} == \
        {k: cost.inputs["environment"]["variables"][k] for k in shared}


def test_the_service_may_list_and_head_the_archive_and_write_only_batch_items(stack: CapturedStack) -> None:
    bucket = stack.one("aws:s3/bucket:Bucket", "gr-archive").outputs["arn"]
    granted = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements(policy_of_role(stack, "gr-service"))}
    assert granted["BrowseTheArchive"] == (["s3:ListBucket"], [bucket])
    assert granted["HeadArchivedObjects"] == (["s3:GetObject"], [f"{bucket}/*"])
    assert granted["ReadPriceList"] == (["pricing:GetProducts"], ["*"])  # GetProducts has no resource type
    work = stack.one("aws:s3/bucket:Bucket", "gr-work").outputs["arn"]
    assert granted["WriteBatchItems"] == (["s3:PutObject"], [f"{work}/batches/*"])  # bulk item lists only
    writes = [(a, r) for acts, resources in granted.values() for a in acts for r in resources
              if a.startswith(("s3:Put", "s3:Delete", "s3:Restore"))]
    assert writes == [("s3:PutObject", f"{work}/batches/*")]  # nothing written to or restored in the archive
    batches = stack.one("aws:dynamodb/table:Table", "gr-batches").outputs["arn"]
    bulk = stack.one("aws:sfn/stateMachine:StateMachine", "gr-bulk").outputs["arn"]
    assert granted["RecordBatches"] == (["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], [batches])
    assert granted["StartConfirmedBatches"] == (["states:StartExecution"], [bulk])


def test_each_route_is_authorized_and_may_invoke_only_its_own_path(stack: CapturedStack) -> None:
    api = stack.one("aws:apigateway/restApi:RestApi")
    methods = {m.name: m.inputs for m in stack.of_type("aws:apigateway/method:Method")}
    assert methods["gr-objects-get"]["httpMethod"] == "GET" and methods["gr-estimate-post"]["httpMethod"] == "POST"
    assert all(m["authorization"] == "AWS_IAM" for m in methods.values())
    service = stack.one("aws:lambda/function:Function", "gr-service")
    for name in ("gr-objects-integration", "gr-estimate-integration"):
        integration = stack.one("aws:apigateway/integration:Integration", name).inputs
        assert integration["type"] == "AWS_PROXY" and integration["uri"] == service.outputs["invokeArn"]
    sources = {p.name: p.inputs["sourceArn"] for p in stack.of_type("aws:lambda/permission:Permission")}
    execution = api.outputs["executionArn"]
    assert sources["gr-service-objects-permission"] == f"{execution}/*/GET/objects"
    assert sources["gr-service-estimate-permission"] == f"{execution}/*/POST/restores/estimate"


@pytest.mark.parametrize(("extra", "field"), [
    ({"group_prefixes": {"genomics": ["projects/genome-"]}}, "group_prefixes"),  # needs auth: cognito
    ({"auth": "cognito", "cognito_user_pool_arns": ["arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_Ab"],
      "group_prefixes": {"genomics": []}}, "group_prefixes.genomics"),
    ({"auth": "cognito", "cognito_user_pool_arns": ["arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_Ab"],
      "group_prefixes": {"gen omics": ["a/"]}}, "group_prefixes.gen omics"),
    ({"auth": "cognito", "cognito_user_pool_arns": ["arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_Ab"],
      "group_prefixes": {'gen"omics': ["a/"]}}, 'group_prefixes.gen"omics'),  # the request template drops quotes
    ({"inventory_bucket_name": "Inventory_Bucket"}, "inventory_bucket_name"),
    ({"inventory_prefix": "reports"}, "inventory_prefix"),  # needs inventory_bucket_name
    ({"inventory_bucket_name": "archive-inventory", "inventory_prefix": "/reports"}, "inventory_prefix"),
    ({"inventory_bucket_name": "archive-inventory", "inventory_prefix": "reports/"}, "inventory_prefix"),
    ({"browse_page_size": 1001}, "browse_page_size"),
    ({"browse_page_size": 0}, "browse_page_size"),
])
def test_bad_service_settings_are_refused_at_construction(extra: dict[str, object], field: str) -> None:
    with pytest.raises(ComponentArgsError) as caught:
        build({**ARGS, **extra})  # type: ignore[typeddict-item]
    assert caught.value.field == field


def test_an_inventory_bucket_grants_reading_only_the_archives_reports() -> None:
    stack = build({**ARGS, "bucket_name": "institute-archive", "inventory_bucket_name": "archive-inventory",
                   "inventory_prefix": "reports"})
    service = stack.one("aws:lambda/function:Function", "gr-service")
    variables = service.inputs["environment"]["variables"]
    assert (variables["INVENTORY_BUCKET"], variables["INVENTORY_ROOT"]) == ("archive-inventory",
                                                                            "reports/institute-archive/")
    statements = {st["Sid"]: st for st in policy_of_role(stack, "gr-service-role")["Statement"]}
    assert statements["ReadArchiveInventoryReports"]["Action"] in ("s3:GetObject", ["s3:GetObject"])
    assert statements["ReadArchiveInventoryReports"]["Resource"] in (
        "arn:aws:s3:::archive-inventory/reports/institute-archive/*",
        ["arn:aws:s3:::archive-inventory/reports/institute-archive/*"])
    assert statements["TellMissingInventoryReportsApart"]["Resource"] in (
        "arn:aws:s3:::archive-inventory", ["arn:aws:s3:::archive-inventory"])
    plain = build({**ARGS, "bucket_name": "institute-archive"})
    assert "INVENTORY_BUCKET" not in plain.one("aws:lambda/function:Function", "gr-service").inputs["environment"][
        "variables"]


def _group_prefixes(size: int) -> dict[str, list[str]]:
    """Group prefixes whose JSON is exactly `size` bytes."""
    groups = {f"group-{i:02d}": [f"projects/{i:02d}/" + "x" * 70] for i in range(20)}
    text = json.dumps(groups, sort_keys=True)
    groups["group-19"][0] += "y" * (size - len(text))
    assert len(json.dumps(groups, sort_keys=True)) == size
    return groups


def test_group_prefixes_fit_the_functions_environment() -> None:
    """Lambda allows 4 KB of environment variables per function in aggregate (Lambda quotas,
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); GROUP_PREFIXES goes to the service and
    download functions. At the budget the stack builds and the gate (tests/conftest.py) finds both within 4 KB;
    one byte over is refused at construction, naming the field."""
    cognito = {"auth": "cognito",
               "cognito_user_pool_arns": ["arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_Ab"]}
    stack = build({**ARGS, **cognito, "group_prefixes": _group_prefixes(MAX_GROUP_PREFIXES_BYTES)})  # type: ignore[typeddict-item]
    for function in ("gr-service", "gr-download"):
        variables = stack.one("aws:lambda/function:Function", f"{function}-fn").inputs["environment"]["variables"]
        assert len(json.dumps(variables, separators=(",", ":"))) <= 4096
    with pytest.raises(ComponentArgsError) as caught:
        build({**ARGS, **cognito, "group_prefixes": _group_prefixes(MAX_GROUP_PREFIXES_BYTES + 1)})  # type: ignore[typeddict-item]
    assert caught.value.field == "group_prefixes"
