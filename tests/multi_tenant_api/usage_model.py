"""A small model of how API Gateway enforces a usage plan per API key, driven by the planned resources.

moto has no `get_usage` and no enforcement, so the quota test replays requests against this model,
built only from what the component registered (UsagePlan throttle/quota inputs, UsagePlanKey links).
Semantics modelled (AWS docs, "Usage plans and API keys"): limits apply per API key; the throttle is a
token bucket (rate per second, bucket of `burst`); the quota counts accepted requests per UTC period;
both answer 429 (quota: "Limit Exceeded", throttle: "Too Many Requests"). AWS enforces best-effort only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from serverless_patterns.offline import CapturedStack


@dataclass
class Bucket:
    rate: float
    burst: int
    tokens: float = 0.0
    last: float | None = None

    def take(self, now: float) -> bool:
        if self.last is None:
            self.tokens = float(self.burst)
        else:
            self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def period_of(period: str, now: float) -> tuple[int, ...]:
    moment = datetime.fromtimestamp(now, UTC)
    if period == "DAY":
        return (moment.year, moment.month, moment.day)
    if period == "WEEK":
        year, week, _ = moment.isocalendar()
        return (year, week)
    return (moment.year, moment.month)


@dataclass
class KeyState:
    bucket: Bucket
    quota: dict[str, Any] | None
    used: dict[tuple[int, ...], int] = field(default_factory=dict)


class UsagePlanModel:
    """Per-key enforcement of the plans a stack defines."""

    def __init__(self, plans: dict[str, dict[str, Any]], key_plans: dict[str, str]) -> None:
        self.plans = plans
        self.keys = {key: KeyState(Bucket(plans[plan]["throttleSettings"]["rateLimit"],
                                          plans[plan]["throttleSettings"]["burstLimit"]),
                                   plans[plan].get("quotaSettings"))
                     for key, plan in key_plans.items()}

    @classmethod
    def from_stack(cls, stack: CapturedStack) -> UsagePlanModel:
        plans = {p.id: p.inputs for p in stack.of_type("aws:apigateway/usagePlan:UsagePlan")}
        links = {k.inputs["keyId"]: k.inputs["usagePlanId"]
                 for k in stack.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")}
        return cls(plans, links)

    def request(self, key_id: str, now: float) -> tuple[int, str]:
        """Status and message API Gateway would answer for one request with `key_id` at `now` (epoch s)."""
        state = self.keys.get(key_id)
        if state is None:
            return 403, "Forbidden"
        window = None
        if state.quota:
            window = period_of(state.quota["period"], now)
            if state.used.get(window, 0) >= state.quota["limit"]:
                return 429, "Limit Exceeded"
        if not state.bucket.take(now):
            return 429, "Too Many Requests"
        if window is not None:
            state.used[window] = state.used.get(window, 0) + 1
        return 200, "OK"
