"""The lifecycle model (`ecr_lifecycle.expired_by`) against every worked example of the ECR User Guide's
"Examples of lifecycle policies" page, with the outcome the page states for each
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html)."""

from __future__ import annotations

from typing import Any

import pytest
from ecr_lifecycle import Image, expired_by


def _rule(priority: int, prefixes: list[str], count_type: str, number: int) -> dict[str, Any]:
    selection: dict[str, Any] = {"tagStatus": "tagged", "tagPrefixList": prefixes, "countType": count_type,
                                 "countNumber": number}
    if count_type == "sinceImagePushed":
        selection["countUnit"] = "days"
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


#: "Filtering on multiple rules": the same three images under both rule orders.
MULTIPLE_RULES = [Image("A", ("beta-1", "prod-1"), 10), Image("B", ("beta-2", "prod-2"), 9), Image("C", ("beta-3",), 8)]


@pytest.mark.parametrize(("name", "rules", "images", "documented"), [
    # Example A: "Result: Image A is expired." (Rule 2 would mark B, but Rule 1 has seen it.)
    ("multiple rules A", [_rule(1, ["prod"], "imageCountMoreThan", 1), _rule(2, ["beta"], "imageCountMoreThan", 1)],
     MULTIPLE_RULES, {"A"}),
    # Example B: "Result: Images A and B are expired." (Rule 2 sees no image Rule 1 has not seen.)
    ("multiple rules B", [_rule(1, ["beta"], "imageCountMoreThan", 1), _rule(2, ["prod"], "imageCountMoreThan", 1)],
     MULTIPLE_RULES, {"A", "B"}),
    # "Filtering on multiple tags in a single rule", Example A: images must match all listed prefixes;
    # "Result: Image C is expired."
    ("all prefixes", [_rule(1, ["alpha", "beta"], "sinceImagePushed", 5)],
     [Image("A", ("alpha-1",), 12), Image("B", ("beta-1",), 11), Image("C", ("alpha-2", "beta-2"), 10),
      Image("D", ("alpha-3",), 4), Image("E", ("beta-3",), 3), Image("F", ("alpha-4", "beta-4"), 2)], {"C"}),
    # Example B: tags are not exclusive; "Result: Images A and B are expired."
    ("tags not exclusive", [_rule(1, ["alpha", "beta"], "imageCountMoreThan", 1)],
     [Image("A", ("alpha-1", "beta-1", "gamma-1"), 10), Image("B", ("alpha-2", "beta-2"), 9),
      Image("C", ("alpha-3", "beta-3", "gamma-2"), 8)], {"A", "B"}),
])
def test_the_model_gives_the_documented_outcome(name: str, rules: list[dict[str, Any]], images: list[Image],
                                                documented: set[str]) -> None:
    assert set(expired_by(rules, images)) == documented, name
