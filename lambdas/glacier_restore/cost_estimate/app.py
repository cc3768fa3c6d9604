"""Cost estimate of one completed archive restore, for the restore events workflow.

Input (from the workflow): `{"sizeBytes", "tier", "days", "storageClass", "region"}`, and `objectCount` (default
1) when `sizeBytes` is the total of several objects of one class (the service's estimate routes call this same
`estimate`, so a preview and the completion workflow agree to the cent). The estimate has four lines:
retrieval per GB for the tier actually used, the restore request fee per object, the temporary restored copy
(S3 Standard storage) for the requested days, and one download over the internet (data transfer out).
Unit prices come from the AWS Price List API when it answers with exactly one product per line; any line
it cannot price comes from the prices in the function's config, and the result says which source priced
which line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger()
# Only botocore makes outbound calls here: patching every module X-Ray supports would import requests,
# httpx & co. on each cold start (https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

GIB = 1024 ** 3
#: Hours in an average month: how AWS turns GB-month prices into byte-hours.
HOURS_PER_MONTH = 730
PRICE_LIST = "price-list"
CONFIG = "config"

#: Price List service code of each archive class.
#: Decision (issue 17, item 24), from the S3 User Guide's usage types ("Understanding your AWS billing and
#: usage reports for Amazon S3": https://docs.aws.amazon.com/AmazonS3/latest/userguide/aws-usage-report-understand.html,
#: awsdocs/amazon-s3-userguide doc_source/aws-usage-report-understand.md): S3 Glacier Flexible Retrieval
#: restores are billed as Amazon S3 usage ("region-Requests-Tier3: ... standard S3 Glacier Flexible
#: Retrieval restore requests", "Requests-Tier5: ... Bulk ...", "Requests-Tier6: ... Expedited ...";
#: "region-Bulk-Retrieval-Bytes: ... retrieved with Bulk S3 Glacier or S3 Glacier Deep Archive requests"),
#: not under the vault-era `AmazonGlacier` service; Deep Archive restore requests are
#: "Requests-GDA-Tier3" (standard) and "Requests-GDA-Tier5" (bulk).
ARCHIVE_SERVICE = {"DEEP_ARCHIVE": "AmazonS3GlacierDeepArchive", "GLACIER": "AmazonS3"}
#: Usage types (without the Region prefix) of the restore request fee, by class and tier.
REQUEST_USAGE = {
    "DEEP_ARCHIVE": {"Standard": "Requests-GDA-Tier3", "Bulk": "Requests-GDA-Tier5"},
    "GLACIER": {"Standard": "Requests-Tier3", "Bulk": "Requests-Tier5", "Expedited": "Requests-Tier6"},
}
TIERS = {"DEEP_ARCHIVE": ("Standard", "Bulk"), "GLACIER": ("Expedited", "Standard", "Bulk")}

RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=3, read_timeout=5)


class InvalidInput(ValueError):
    """The workflow passed something this function cannot price."""


@dataclass(frozen=True)
class UnitPrice:
    """One unit price and where it came from."""

    value: float
    source: str
    note: str = ""


def config_prices() -> dict[str, Any]:
    """The fallback prices (set by the component from stack config)."""
    return json.loads(os.environ["PRICES"])


@lru_cache(maxsize=4)
def pricing_client(region: str) -> Any:
    return boto3.client("pricing", region_name=region, config=RETRIES)


def _filters(**terms: str) -> list[dict[str, str]]:
    out = []
    for field, value in terms.items():
        kind, _, wanted = value.partition(":")
        out.append({"Type": kind, "Field": field, "Value": wanted})
    return out


def _dimensions(product_json: str) -> list[dict[str, Any]]:
    product = json.loads(product_json)
    return [dim for term in product.get("terms", {}).get("OnDemand", {}).values()
            for dim in term.get("priceDimensions", {}).values()]


def _price(dimension: dict[str, Any], currency: str) -> float | None:
    value = dimension.get("pricePerUnit", {}).get(currency)
    return float(value) if value is not None else None


class Ambiguous(Exception):
    """The Price List answered with other than exactly one product: the line cannot be priced from it."""


def _describe(product_json: str) -> str:
    attributes = json.loads(product_json).get("product", {}).get("attributes", {})
    return "/".join(str(attributes.get(k, "?")) for k in ("usagetype", "operation"))


@tracer.capture_method
def price_list_price(service: str, filters: list[dict[str, str]], currency: str, *, first_paid_tier: bool = False
                     ) -> float | None:
    """The unit price of the one product matching `filters` (None: it has no usable price dimension).

    Raises `Ambiguous` when none or several products match, naming them, so the estimate says so.

    The first-tier dimension (beginRange 0) is used, or with `first_paid_tier` the cheapest range that
    costs anything (data transfer's first GBs each month are free across the account, so a single
    restore cannot count on them).
    """
    client = pricing_client(os.environ.get("PRICING_REGION", "us-east-1"))
    products: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1",
                                  "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        products.extend(page.get("PriceList", []))
        token = page.get("NextToken")
        if not token:
            break
    if len(products) != 1:
        logger.warning("price list answer is not one product", extra={"service": service, "filters": filters,
                                                                        "products": len(products)})
        if not products:
            raise Ambiguous(f"no {service} product matches")
        raise Ambiguous(f"{len(products)} {service} products match ("
                        + ", ".join(sorted(_describe(p) for p in products)) + ")")
    dims = sorted(_dimensions(products[0]), key=lambda d: float(d.get("beginRange", "0")))
    priced = [(d, _price(d, currency)) for d in dims]
    if first_paid_tier:
        paid = [p for _, p in priced if p]
        return paid[0] if paid else None
    first = [p for d, p in priced if float(d.get("beginRange", "0")) == 0 and p is not None]
    return first[0] if first else None


def lookup(line: str, query: tuple[str, list[dict[str, str]]] | None, fallback: float, currency: str,
           *, first_paid_tier: bool = False) -> UnitPrice:
    """Price one line from the Price List when allowed and possible, else from config (saying why)."""
    if query is None or os.environ.get("USE_PRICE_LIST", "true") != "true":
        return UnitPrice(fallback, CONFIG, "price list not used")
    try:
        value = price_list_price(*query, currency, first_paid_tier=first_paid_tier)
    except (ClientError, BotoCoreError) as error:
        logger.warning("price list unreachable", extra={"line": line, "error": str(error)})
        return UnitPrice(fallback, CONFIG, f"price list unreachable: {type(error).__name__}")
    except Ambiguous as ambiguity:
        metrics.add_metric(name="PriceListAmbiguous", unit=MetricUnit.Count, value=1)
        return UnitPrice(fallback, CONFIG, f"price list ambiguous: {ambiguity}")
    if value is None:
        return UnitPrice(fallback, CONFIG, "no unambiguous price list entry")
    return UnitPrice(value, PRICE_LIST)


def unit_prices(storage_class: str, tier: str, region: str, currency: str) -> dict[str, UnitPrice]:
    """Unit prices of the four lines: retrieval/GB, request fee, storage/GB-month, transfer out/GB."""
    prices = config_prices()
    archive = ARCHIVE_SERVICE[storage_class]
    return {
        "retrieval": lookup("retrieval", (archive, _filters(
            regionCode=f"EQUALS:{region}", usagetype=f"CONTAINS:{tier}-Retrieval-Bytes")),
            prices["retrieval_per_gb"][storage_class][tier], currency),
        "request": lookup("request", (archive, _filters(
            regionCode=f"EQUALS:{region}", usagetype=f"CONTAINS:{REQUEST_USAGE[storage_class][tier]}")),
            prices["requests_per_1000"][storage_class][tier] / 1000, currency),
        "restoredStorage": lookup("restoredStorage", ("AmazonS3", _filters(
            regionCode=f"EQUALS:{region}", usagetype="CONTAINS:TimedStorage-ByteHrs", volumeType="EQUALS:Standard")),
            prices["restored_storage_per_gb_month"], currency),
        "dataTransferOut": lookup("dataTransferOut", ("AWSDataTransfer", _filters(
            fromRegionCode=f"EQUALS:{region}", transferType="EQUALS:AWS Outbound")),
            prices["data_transfer_out_per_gb"], currency, first_paid_tier=True),
    }


def parse(event: dict[str, Any]) -> tuple[int, str, int, str, str, int]:
    """Check the workflow's payload; raise InvalidInput naming the field."""
    try:
        size = int(event["sizeBytes"])
        days = int(event["days"])
        count = int(event.get("objectCount", 1))
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"sizeBytes, days and objectCount must be whole numbers ({error})") from None
    if count < 1:
        raise InvalidInput(f"objectCount: {count} is less than 1")
    storage_class, tier, region = event.get("storageClass"), event.get("tier"), event.get("region")
    if size < 0:
        raise InvalidInput(f"sizeBytes: {size} is negative")
    if days < 0:
        raise InvalidInput(f"days: {days} is negative")
    if storage_class not in TIERS:
        raise InvalidInput(f"storageClass: {storage_class!r} is not an archive class ({', '.join(TIERS)})")
    if not isinstance(region, str) or not region:
        raise InvalidInput("region: required")
    return size, str(tier), days, storage_class, region, count


def estimate(event: dict[str, Any]) -> dict[str, Any]:
    """The estimate for one restore (pure apart from the Price List calls)."""
    size, tier, days, storage_class, region, count = parse(event)
    if tier not in TIERS[storage_class]:
        # Restores started outside this service (or a tier the class lacks) cannot be priced honestly.
        return {"available": False, "tier": tier, "storageClass": storage_class,
                "summary": f"not available: the restore tier ({tier}) is unknown, so the IT team prices it by hand."}
    currency = config_prices().get("currency", "USD")
    units = unit_prices(storage_class, tier, region, currency)
    gib = size / GIB
    lines = {
        "retrieval": gib * units["retrieval"].value,
        "request": units["request"].value * count,
        "restoredStorage": gib * units["restoredStorage"].value * days * 24 / HOURS_PER_MONTH,
        "dataTransferOut": gib * units["dataTransferOut"].value,
    }
    total = sum(lines.values())
    sources = {name: unit.source for name, unit in units.items()}
    source = PRICE_LIST if set(sources.values()) == {PRICE_LIST} else (
        CONFIG if set(sources.values()) == {CONFIG} else "mixed")
    objects = "" if count == 1 else f"{count} objects, "
    summary = (f"{currency} {total:.4f} for {objects}{gib:.3f} GiB ({storage_class}, {tier} tier, {days} days): "
               f"retrieval {lines['retrieval']:.4f}, request fee {lines['request']:.4f}, restored copy "
               f"{lines['restoredStorage']:.4f}, one download {lines['dataTransferOut']:.4f}; prices from "
               + {PRICE_LIST: "the AWS Price List API", CONFIG: "the configured price list",
                  "mixed": "the AWS Price List API and the configured price list"}[source] + ".")
    ambiguous = {name: unit.note for name, unit in units.items() if unit.note.startswith("price list ambiguous")}
    if ambiguous:
        summary += " Priced from the configured list because the Price List answer was ambiguous: " + "; ".join(
            f"{name} ({note.removeprefix('price list ambiguous: ')})" for name, note in ambiguous.items()) + "."
    return {
        "available": True,
        "currency": currency,
        "total": round(total, 8),
        "lines": {name: round(value, 8) for name, value in lines.items()},
        "unitPrices": {name: unit.value for name, unit in units.items()},
        "sources": sources,
        "notes": {name: unit.note for name, unit in units.items() if unit.note},
        "source": source,
        "sizeGiB": round(gib, 6),
        "objectCount": count,
        "tier": tier,
        "days": days,
        "storageClass": storage_class,
        "region": region,
        "summary": summary,
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = estimate(event)
    metrics.add_metric(name="CostEstimates", unit=MetricUnit.Count, value=1)
    if result["available"]:
        metrics.add_metadata(key="source", value=result["source"])
        metrics.add_metric(name="EstimatedRestoreCost", unit=MetricUnit.NoUnit, value=result["total"])
    logger.info("cost estimate", extra={"estimate": result})
    return result
