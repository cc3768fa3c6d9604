"""Bad input fails with one clear `ComponentArgsError` (at construction, or at deploy for facts only AWS knows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pytest
from cross_account_ecr_helpers import CONSUMER_B, CONSUMER_C, REGION, REGISTRY, run, two_consumers

from serverless_patterns.core.args import ComponentArgsError

Build = Callable[[dict[str, aws.Provider]], Any]

BAD: list[tuple[str, Build, str]] = [
    (
        "short account id",
        lambda p: {"repository_name": "shared/r", "consumer_account_ids": ["12345"]},
        "consumer_account_ids",
    ),
    (
        "account id as number",
        lambda p: {"repository_name": "shared/r", "consumer_account_ids": [222222222222]},
        "consumer_account_ids",
    ),
    ("consumer key not an account", lambda p: two_consumers({"2222": p[CONSUMER_B]}), "consumers"),
    (
        "registry account among consumers",
        lambda p: two_consumers(
            p, registry_account_id=REGISTRY, consumer_account_ids=[REGISTRY, CONSUMER_B, CONSUMER_C]
        ),
        "consumer_account_ids",
    ),
    (
        "empty consumer list",
        lambda p: {"repository_name": "shared/r", "consumer_account_ids": []},
        "consumer_account_ids",
    ),
    ("no consumers at all", lambda p: {"repository_name": "shared/r"}, "consumer_account_ids"),
    (
        "duplicate account",
        lambda p: {"repository_name": "shared/r", "consumer_account_ids": [CONSUMER_B, CONSUMER_B]},
        "consumer_account_ids",
    ),
    ("consumer without pull grant", lambda p: two_consumers(p, consumer_account_ids=[CONSUMER_B]), "consumers"),
    ("org id malformed", lambda p: two_consumers(p, organization_id="org-123"), "organization_id"),
    ("org id too short", lambda p: two_consumers(p, organization_id="o-abc"), "organization_id"),
    (
        "org path malformed",
        lambda p: two_consumers(p, organization_id="o-a1b2c3d4e5", organization_paths=["r-ab12/"]),
        "organization_paths",
    ),
    (
        "org path of another org",
        lambda p: two_consumers(p, organization_id="o-a1b2c3d4e5", organization_paths=["o-zzzzzzzzzz/r-ab12/"]),
        "organization_paths",
    ),
    (
        "org paths without org",
        lambda p: two_consumers(p, organization_paths=["o-a1b2c3d4e5/r-ab12/"]),
        "organization_paths",
    ),
    (
        "org and account list",
        lambda p: two_consumers(p, organization_id="o-a1b2c3d4e5", consumer_account_ids=[CONSUMER_B]),
        "consumer_account_ids",
    ),
    (
        "consumer Region differs",
        lambda p: two_consumers(
            p, region=REGION, consumers={CONSUMER_B: {"provider": p[CONSUMER_B], "region": "us-east-1"}}
        ),
        f"consumers.{CONSUMER_B}.region",
    ),
    (
        "consumer Region malformed",
        lambda p: two_consumers(p, consumers={CONSUMER_B: {"provider": p[CONSUMER_B], "region": "Ireland"}}),
        f"consumers.{CONSUMER_B}.region",
    ),
    (
        "consumer without provider",
        lambda p: two_consumers(p, consumers={CONSUMER_B: {}}),
        f"consumers.{CONSUMER_B}.provider",
    ),
    ("tag without digest resolution", lambda p: two_consumers(p, resolve_image_tag=False), "resolve_image_tag"),
    ("tag and digest", lambda p: two_consumers(p, image_digest="sha256:" + "0" * 64), "image_digest"),
    (
        "digest malformed",
        lambda p: {**two_consumers(p), "image_tag": None, "image_digest": "sha256:xyz"},
        "image_digest",
    ),
    ("consumers without image", lambda p: {**two_consumers(p), "image_tag": None}, "image_tag"),
    ("repository name", lambda p: two_consumers(p, repository_name="Shared/Hello"), "repository_name"),
    ("unknown arg", lambda p: two_consumers(p, scan=True), "args.scan"),
    (
        "build prefix inside release prefix",
        lambda p: two_consumers(p, lifecycle={"build_tag_prefixes": ["v-build-"]}),
        "lifecycle.build_tag_prefixes",
    ),
    (
        "no release prefix",
        lambda p: two_consumers(p, lifecycle={"release_tag_prefixes": []}),
        "lifecycle.release_tag_prefixes",
    ),
    (
        "untagged days",
        lambda p: two_consumers(p, lifecycle={"untagged_expire_days": 0}),
        "lifecycle.untagged_expire_days",
    ),
    ("keep builds", lambda p: two_consumers(p, lifecycle={"keep_builds": 0}), "lifecycle.keep_builds"),
    ("architecture", lambda p: two_consumers(p, function={"architecture": "arm"}), "function.architecture"),
    ("memory", lambda p: two_consumers(p, function={"memory_mb": 64}), "function.memory_mb"),
    ("timeout", lambda p: two_consumers(p, function={"timeout_seconds": 901}), "function.timeout_seconds"),
    ("kms key", lambda p: two_consumers(p, kms_key_arn="alias/aws/ecr"), "kms_key_arn"),
    (
        "kms key in another Region",
        lambda p: two_consumers(p, region=REGION, kms_key_arn=f"arn:aws:kms:us-east-1:{REGISTRY}:key/abc-123"),
        "kms_key_arn",
    ),
    (
        "replication to own Region",
        lambda p: two_consumers(p, region=REGION, replication_regions=[REGION]),
        "replication_regions",
    ),
    (
        "replication of a name without namespace",
        lambda p: two_consumers(p, repository_name="hello", replication_regions=["eu-central-1"]),
        "repository_name",
    ),
    (
        "deployer role name",
        lambda p: two_consumers(
            p, consumers={CONSUMER_B: {"provider": p[CONSUMER_B], "deployer_role_name": "no spaces allowed"}}
        ),
        f"consumers.{CONSUMER_B}.deployer_role_name",
    ),
]


@pytest.mark.parametrize("build, field", [(b, f) for _, b, f in BAD], ids=[i for i, _, _ in BAD])
def test_bad_input_is_refused_at_construction(build: Build, field: str) -> None:
    with pytest.raises(ComponentArgsError) as caught:
        run(build)
    assert caught.value.component == "CrossAccountEcr"
    assert caught.value.field == field
    assert "Allowed:" in str(caught.value)


def test_consumer_provider_in_another_region_fails_the_deployment() -> None:
    """No Region given in args: the consumer provider's own Region is compared with the registry's."""
    with pytest.raises(Exception, match=rf"consumers\.{CONSUMER_C}\.provider.*account {CONSUMER_C} in us-east-1"):
        run(two_consumers, region_c="us-east-1")


def test_consumer_provider_of_another_account_fails_the_deployment() -> None:
    def build(p: dict[str, aws.Provider]) -> Any:
        return two_consumers({CONSUMER_B: p[CONSUMER_C], CONSUMER_C: p[CONSUMER_B]})

    with pytest.raises(Exception, match=rf"consumers\.{CONSUMER_B}\.provider.*account {CONSUMER_C} in {REGION}"):
        run(build)


def test_registry_account_among_consumers_fails_the_deployment() -> None:
    """The registry account not given in args: its identity (from its provider) is checked at deploy."""
    with pytest.raises(Exception, match=r"consumer_account_ids.*'111111111111'.*other than the registry account"):
        run(lambda p: {"repository_name": "shared/r", "consumer_account_ids": [CONSUMER_B, REGISTRY]})


def test_too_many_accounts_for_the_policy_size_limit_fail_the_deployment() -> None:
    accounts = [f"{n:012d}" for n in range(100000000000, 100000000000 + 150)]
    with pytest.raises(Exception, match=r"150 accounts \(\d+ characters of policy\).*use organization_id"):
        run(lambda p: {"repository_name": "r2", "consumer_account_ids": accounts})
