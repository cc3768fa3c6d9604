"""MultiTenantApi from stack config (`serverless-patterns:patterns.multiTenantApi`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from serverless_patterns.core.config import ConfigReader, StackConfig
from serverless_patterns.multi_tenant_api.args import AlarmArgs, MultiTenantApiArgs
from serverless_patterns.multi_tenant_api.component import MultiTenantApi

# -- stack config ------------------------------------------------------------------------------------------

def _throttle_config(reader: ConfigReader, path: str, raw: Any) -> dict[str, Any]:
    return reader.section(path, raw, ["rate_limit", "burst_limit"])


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> MultiTenantApi:
    """Build the component from `serverless-patterns:patterns.multiTenantApi` (camelCase keys)."""
    path = "patterns.multiTenantApi"
    reader = ConfigReader()
    keys = ["enabled", "tiers", "tenants", "domain_prefix", "callback_urls", "logout_urls", "stage_name",
            "stage_throttle", "authorizer_ttl_seconds", "token_use", "tenant_attribute_mutable",
            "allow_self_sign_up", "token_validity_minutes", "refresh_token_validity_days", "query_string_keys",
            "query_string_parameter", "key_cache_seconds", "usage_plan_limit", "alarms"]
    raw = reader.section(path, section, keys, required=("tiers", "domainPrefix", "callbackUrls"))
    raw.pop("enabled", None)
    tiers: dict[str, Any] = {}
    for tier_name, tier_raw in reader.mapping(f"{path}.tiers", raw["tiers"]).items():
        tier_path = f"{path}.tiers.{tier_name}"
        tier = reader.section(tier_path, tier_raw, ["rate_limit", "burst_limit", "quota", "method_throttles",
                                                    "description"])
        if tier.get("quota") is not None:
            tier["quota"] = reader.section(f"{tier_path}.quota", tier["quota"], ["limit", "period"])
        if tier.get("method_throttles") is not None:
            tier["method_throttles"] = {
                route: _throttle_config(reader, f"{tier_path}.methodThrottles.{route}", value)
                for route, value in reader.mapping(f"{tier_path}.methodThrottles", tier["method_throttles"]).items()}
        tiers[tier_name] = tier
    raw["tiers"] = tiers
    tenants = raw.get("tenants") or []
    if not isinstance(tenants, list):
        reader.fail(f"{path}.tenants", tenants, "a list of {id, tier} objects")
    raw["tenants"] = [reader.section(f"{path}.tenants[{i}]", t, ["id", "tier"]) for i, t in enumerate(tenants)]
    if raw.get("stage_throttle") is not None:
        raw["stage_throttle"] = _throttle_config(reader, f"{path}.stageThrottle", raw["stage_throttle"])
    if raw.get("alarms") is not None:
        raw["alarms"] = reader.section(f"{path}.alarms", raw["alarms"], list(AlarmArgs.__annotations__))
    args: MultiTenantApiArgs = {**raw, "tags": stack.tags, "function_settings": stack.function_settings}  # type: ignore[typeddict-item]
    return MultiTenantApi(name, args, opts)
