"""A model of how ECR evaluates a lifecycle policy, for policies moto stores but never evaluates.

Written from "How lifecycle policies work" and "Examples of lifecycle policies" in the Amazon ECR User Guide
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html,
https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html); `test_ecr_lifecycle_model`
checks it against every worked example on the second page before any test uses it on the product's policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    age_days: int  # days since push; smaller is newer


def selects(selection: dict[str, Any], image: Image) -> bool:
    """Whether a rule's tag selection matches the image (every prefix of `tagPrefixList` must match a tag)."""
    status = selection["tagStatus"]
    if status == "untagged":
        return not image.tags
    if status == "any":
        return True
    return bool(image.tags) and all(any(t.startswith(p) for t in image.tags) for p in selection["tagPrefixList"])


def expired_by(rules: list[dict[str, Any]], images: list[Image]) -> dict[str, int]:
    """digest -> priority of the rule that expires it.

    Rules run by priority, lowest first; an image a higher-priority rule has seen (selected) is never
    expired by a lower-priority one; an image is expired by at most one rule; `imageCountMoreThan` keeps
    the newest `countNumber` images the rule selects, `sinceImagePushed` expires those older than it.
    """
    expired: dict[str, int] = {}
    seen: set[str] = set()
    for rule in sorted(rules, key=lambda r: r["rulePriority"]):
        selection = rule["selection"]
        selected = sorted((i for i in images if selects(selection, i)), key=lambda i: i.age_days)
        if selection["countType"] == "imageCountMoreThan":
            candidates = selected[selection["countNumber"]:]
        else:
            candidates = [i for i in selected if i.age_days > selection["countNumber"]]
        for image in candidates:
            if image.digest not in seen and image.digest not in expired:
                expired[image.digest] = rule["rulePriority"]
        seen.update(i.digest for i in selected)
    return expired
