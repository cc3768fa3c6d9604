"""The cost estimate Lambda: Price List answers (botocore Stubber; moto has no Price List API) and the fallback."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from serverless_patterns.glacier_restore.args import DEFAULT_PRICES
from serverless_patterns.lambdas.glacier_restore.cost_estimate import app

from .workflow_env import LambdaContext

GIB = 1024 ** 3
REGION = "eu-west-1"
EVENT = {"sizeBytes": 10 * GIB, "tier": "Bulk", "days": "10", "storageClass": "DEEP_ARCHIVE", "region": REGION}


@pytest.fixture
def cost(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("PRICES", json.dumps(DEFAULT_PRICES))
    monkeypatch.setenv("USE_PRICE_LIST", "true")
    monkeypatch.setenv("PRICING_REGION", "us-east-1")
    module = importlib.reload(app)
    module.pricing_client.cache_clear()
    yield module
    module.pricing_client.cache_clear()


def product(*dimensions: tuple[str, str]) -> str:
    """One Price List entry (as GetProducts returns it: a JSON string) with (beginRange, USD) dimensions."""
    dims = {f"SKU.TERM.{i}": {"beginRange": begin, "endRange": "Inf", "unit": "GB",
                              "pricePerUnit": {"USD": price}} for i, (begin, price) in enumerate(dimensions)}
    return json.dumps({"product": {"sku": "SKU"}, "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions": dims}}}})


def expect(stubber: Stubber, service: str, filters: dict[str, str], products: list[str]) -> None:
    wanted = [{"Type": v.split(":", 1)[0], "Field": k, "Value": v.split(":", 1)[1]} for k, v in filters.items()]
    stubber.add_response("get_products", {"PriceList": products, "FormatVersion": "aws_v1"},
                         {"ServiceCode": service, "Filters": wanted, "FormatVersion": "aws_v1", "MaxResults": 100})


def expect_all(stubber: Stubber, *, retrieval: list[str], request: list[str], storage: list[str],
               transfer: list[str]) -> None:
    expect(stubber, "AmazonS3GlacierDeepArchive",
           {"regionCode": f"EQUALS:{REGION}", "usagetype": "CONTAINS:Bulk-Retrieval-Bytes"}, retrieval)
    expect(stubber, "AmazonS3GlacierDeepArchive",
           {"regionCode": f"EQUALS:{REGION}", "usagetype": "CONTAINS:Requests-GDA-Tier5"}, request)
    expect(stubber, "AmazonS3", {"regionCode": f"EQUALS:{REGION}", "usagetype": "CONTAINS:TimedStorage-ByteHrs",
                                 "volumeType": "EQUALS:Standard"}, storage)
    expect(stubber, "AWSDataTransfer", {"fromRegionCode": f"EQUALS:{REGION}", "transferType": "EQUALS:AWS Outbound"},
           transfer)


def test_prices_come_from_the_price_list_when_it_answers(cost: Any) -> None:
    client = cost.pricing_client("us-east-1")
    with Stubber(client) as stubber:
        expect_all(stubber, retrieval=[product(("0", "0.0025000000"))], request=[product(("0", "0.0000254000"))],
                   storage=[product(("0", "0.0230000000"), ("51200", "0.0220000000"))],
                   # the first 100 GB a month are free account-wide; a single restore is priced at the first paid tier
                   transfer=[product(("0", "0.0000000000"), ("100", "0.0900000000"), ("10240", "0.0850000000"))])
        result = cost.handler(EVENT, LambdaContext())
        stubber.assert_no_pending_responses()
    assert result["source"] == "price-list" and set(result["sources"].values()) == {"price-list"}
    assert result["unitPrices"] == {"retrieval": 0.0025, "request": 0.0000254, "restoredStorage": 0.023,
                                    "dataTransferOut": 0.09}
    assert result["lines"]["retrieval"] == pytest.approx(10 * 0.0025)
    assert result["lines"]["request"] == pytest.approx(0.0000254)
    assert result["lines"]["restoredStorage"] == pytest.approx(10 * 0.023 * 10 * 24 / 730)
    assert result["lines"]["dataTransferOut"] == pytest.approx(10 * 0.09)
    assert result["total"] == pytest.approx(sum(result["lines"].values()), abs=1e-6)
    assert "AWS Price List API" in result["summary"] and "Bulk tier" in result["summary"]


def real_product(service: str, usagetype: str, operation: str, usd: str, sku: str) -> str:
    """A GetProducts PriceList entry shaped like AWS's (aws_v1 format: product attributes, OnDemand terms),
    as the GetProducts API reference describes PriceList ("the product metadata and the price information",
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html), not
    built from the lookup's own filters."""
    term, rate = f"{sku}.JRTCKXETXF", f"{sku}.JRTCKXETXF.6YS6EN2CT7"
    return json.dumps({
        "product": {"productFamily": "API Request", "sku": sku, "attributes": {
            "servicecode": service, "location": "EU (Ireland)", "locationType": "AWS Region", "regionCode": REGION,
            "usagetype": usagetype, "operation": operation, "group": "S3-API-GDA-Tier5",
            "groupDescription": "Bulk restore requests", "servicename": "Amazon S3 Glacier Deep Archive"}},
        "serviceCode": service,
        "terms": {"OnDemand": {term: {"priceDimensions": {rate: {
            "unit": "Requests", "endRange": "Inf", "description": f"{usd} USD per request",
            "appliesTo": [], "rateCode": rate, "beginRange": "0", "pricePerUnit": {"USD": usd}}},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"})


def test_a_lookup_answered_by_several_products_is_reported_not_silently_priced(cost: Any) -> None:
    several = [real_product("AmazonS3GlacierDeepArchive", "EU-Requests-GDA-Tier5", "DeepArchiveRestoreObject",
                            "0.0000250000", "ABCDEFGH12345678"),
               real_product("AmazonS3GlacierDeepArchive", "EU-Requests-GDA-Tier5", "IntDAARestoreObject",
                            "0.0000250000", "ZYXWVUTS87654321")]
    with Stubber(cost.pricing_client("us-east-1")) as stubber:
        expect_all(stubber, retrieval=[product(("0", "0.0025"))], request=several, storage=[product(("0", "0.023"))],
                   transfer=[product(("0", "0.09"))])
        result = cost.estimate(EVENT)
    assert result["sources"]["request"] == "config" and result["source"] == "mixed"
    note = result["notes"]["request"]
    assert note.startswith("price list ambiguous: 2 AmazonS3GlacierDeepArchive products match")
    assert "EU-Requests-GDA-Tier5/DeepArchiveRestoreObject" in note and "IntDAARestoreObject" in note
    assert "ambiguous: request (2 AmazonS3GlacierDeepArchive products match" in result["summary"]


def test_glacier_restore_requests_are_priced_from_the_s3_usage_types() -> None:
    """S3 usage types: Requests-Tier3/5/6 are standard/Bulk/Expedited S3 Glacier Flexible Retrieval restore
    requests (https://docs.aws.amazon.com/AmazonS3/latest/userguide/aws-usage-report-understand.html)."""
    from serverless_patterns.lambdas.glacier_restore.cost_estimate.app import ARCHIVE_SERVICE, REQUEST_USAGE

    assert ARCHIVE_SERVICE["GLACIER"] == "AmazonS3"
    assert REQUEST_USAGE["GLACIER"] == {"Standard": "Requests-Tier3", "Bulk": "Requests-Tier5",
                                        "Expedited": "Requests-Tier6"}


def test_an_ambiguous_price_list_answer_falls_back_for_that_line_only(cost: Any) -> None:
    client = cost.pricing_client("us-east-1")
    with Stubber(client) as stubber:
        expect_all(stubber, retrieval=[product(("0", "0.0025")), product(("0", "0.0030"))],
                   request=[product(("0", "0.0000254"))], storage=[product(("0", "0.023"))],
                   transfer=[product(("0", "0.09"))])
        result = cost.estimate(EVENT)
    assert result["source"] == "mixed"
    assert result["sources"]["retrieval"] == "config" and result["sources"]["request"] == "price-list"
    assert result["unitPrices"]["retrieval"] == DEFAULT_PRICES["retrieval_per_gb"]["DEEP_ARCHIVE"]["Bulk"]
    assert list(result["notes"]) == ["retrieval"]
    assert result["notes"]["retrieval"].startswith("price list ambiguous: 2 AmazonS3GlacierDeepArchive products")


def test_an_unreachable_price_list_means_config_prices_and_says_why(cost: Any) -> None:
    client = cost.pricing_client("us-east-1")
    with Stubber(client) as stubber:
        for _ in range(4):
            stubber.add_client_error("get_products", service_error_code="ThrottlingException", http_status_code=400)
        result = cost.estimate({**EVENT, "tier": "Standard"})
    assert result["source"] == "config"
    assert result["unitPrices"]["retrieval"] == DEFAULT_PRICES["retrieval_per_gb"]["DEEP_ARCHIVE"]["Standard"]
    assert result["unitPrices"]["request"] == pytest.approx(DEFAULT_PRICES["requests_per_1000"]["DEEP_ARCHIVE"]
                                                            ["Standard"] / 1000)
    assert all(note.startswith("price list unreachable") for note in result["notes"].values())
    assert "configured price list" in result["summary"]


def test_the_price_list_is_not_called_when_switched_off(cost: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USE_PRICE_LIST", "false")
    with Stubber(cost.pricing_client("us-east-1")) as stubber:  # no responses queued: any call would fail
        result = cost.estimate(EVENT)
        stubber.assert_no_pending_responses()
    assert result["source"] == "config"
    assert result["lines"]["retrieval"] == pytest.approx(10 * 0.0025)


def test_the_glacier_expedited_tier_is_priced_from_its_own_lines(cost: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USE_PRICE_LIST", "false")
    result = cost.estimate({**EVENT, "storageClass": "GLACIER", "tier": "Expedited", "sizeBytes": GIB})
    assert result["unitPrices"]["retrieval"] == 0.03 and result["lines"]["request"] == pytest.approx(0.01)


def test_a_restore_of_unknown_tier_is_not_priced(cost: Any) -> None:
    result = cost.estimate({**EVENT, "tier": "unknown"})
    assert result["available"] is False and "unknown" in result["summary"]


@pytest.mark.parametrize(("change", "field"), [
    ({"sizeBytes": -1}, "sizeBytes"), ({"sizeBytes": "big"}, "sizeBytes"), ({"storageClass": "STANDARD"},
                                                                           "storageClass"),
    ({"region": ""}, "region"), ({"days": None}, "days"),
])
def test_malformed_input_is_refused_naming_the_field(cost: Any, change: dict[str, Any], field: str) -> None:
    with pytest.raises(cost.InvalidInput, match=field):
        cost.estimate({**EVENT, **change})
