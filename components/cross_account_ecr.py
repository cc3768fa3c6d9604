"""`CrossAccountEcr`: one ECR repository, Lambda container-image functions in many accounts.

Registry side (the registry account's provider): an immutable, scanned, encrypted repository,
a lifecycle policy that never expires release tags, and a repository policy with exactly
the two statements Lambda needs for cross-account images (`ecr:BatchGetImage` and
`ecr:GetDownloadUrlForLayer` only):

- the consumer accounts (or every account of an AWS Organization, optionally limited to
  organization paths) as principals, so their deployers can create and update functions;
- the Lambda service principal, limited to functions of those accounts (or that organization)
  in this Region, so Lambda can pull the image again after a function went inactive.

Consumer side (one provider per consumer account): an `ImageFunction` per account whose image
URI is pinned by digest, with its own role, log group and tracing, and optionally an identity
policy on the account's deployer role with exactly the two pull actions on the repository.

Lambda only pulls from repositories in its own Region; consumers in other Regions are refused,
and `replication_regions` replicates the repository to other Regions instead (see README).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from components.core import iam
from components.core.args import ComponentArgsError, Validator
from components.core.base import AwsEnv, PatternComponent
from components.core.config import ConfigReader, StackConfig
from components.core.function import ARCHITECTURES, FunctionSettings, ImageFunction, validate_settings
from policies.knowledge import ECR_PULL_ACTIONS

#: The only actions another account (or the Lambda service for it) is granted.
PULL_ACTIONS: tuple[str, ...] = tuple(sorted(ECR_PULL_ACTIONS))

#: Sids of the two repository-policy statements (the names AWS's own sample uses).
ACCOUNT_SID = "CrossAccountPermission"
LAMBDA_SID = "LambdaECRImageCrossAccountRetrievalPolicy"

ORG_ID_RE = r"o-[a-z0-9]{10,32}"
#: `o-xxxxxxxxxx/r-xxxx/ou-xxxx-xxxxxxxx/.../`, optionally ending in `*` (the aws:PrincipalOrgPaths form).
ORG_PATH_RE = r"(o-[a-z0-9]{10,32})/r-[0-9a-z]{4,32}/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}/)*\*?"
DIGEST_RE = r"sha256:[0-9a-f]{64}"
#: ECR repository names: lowercase path segments separated by `/`.
REPOSITORY_NAME_RE = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
#: An image tag, and a tag prefix in lifecycle rules (the same characters).
IMAGE_TAG_RE = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
KMS_KEY_ARN_RE = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+"
ROLE_NAME_RE = r"[\w+=,.@-]{1,64}"

#: ECR's limit on the repository policy text (SetRepositoryPolicy `policyText`).
MAX_REPOSITORY_POLICY_CHARS = 10_240

#: Count of the release-tag rules: ECR's images-per-repository quota, so they match but never expire.
RELEASE_PROTECT_COUNT = 100_000


class LifecycleArgs(TypedDict, total=False):
    """What the lifecycle policy keeps and expires."""

    untagged_expire_days: int
    """Untagged images (e.g. left by failed pushes) expire after this many days (default 7)."""
    build_tag_prefixes: list[str]
    """Tag prefixes of CI builds (default `["build-"]`); only the newest `keep_builds` of each are kept."""
    keep_builds: int
    """How many images per build prefix are kept (default 20)."""
    release_tag_prefixes: list[str]
    """Tag prefixes that are never expired (default `["release-", "v"]`): the images consumers pin."""


class FunctionArgs(TypedDict, total=False):
    """The container-image function deployed in every consumer account."""

    memory_mb: int
    """Memory in MB, 128..10240 (default 512)."""
    timeout_seconds: int
    """Timeout in seconds, 1..900 (default 30)."""
    architecture: str
    """The image's architecture, `arm64` or `x86_64` (default: `function_settings.architecture`)."""
    environment: dict[str, str]
    """Extra environment variables."""
    description: str
    """Function description."""


class ConsumerArgs(TypedDict, total=False):
    """One consumer account in which this program deploys the image function."""

    provider: aws.Provider
    """The AWS provider of that account (required), e.g. one that assumes a role there."""
    region: str
    """The provider's Region when known; it must equal the repository Region (checked now and at deploy)."""
    deployer_role_name: str
    """A role in that account that deploys functions: it gets an inline policy with the two pull actions."""


class CrossAccountEcrArgs(TypedDict, total=False):
    """Arguments of `CrossAccountEcr`."""

    repository_name: str
    """ECR repository name (lowercase, `/`-separated namespaces allowed); required."""
    registry_provider: aws.Provider
    """Provider of the registry account; default: the component's own provider."""
    registry_account_id: str
    """The registry account when known (checked against the consumers now; always checked at deploy)."""
    region: str
    """The registry Region when known (checked against consumer Regions now; always checked at deploy)."""
    consumer_account_ids: list[str]
    """Account mode: the accounts granted pull access (default: the keys of `consumers`)."""
    organization_id: str
    """Organization mode: grant every account of this AWS Organization (`o-...`) instead of a list."""
    organization_paths: list[str]
    """Organization mode: only accounts under these organization paths (`o-.../r-.../ou-.../`)."""
    consumers: Mapping[str, ConsumerArgs]
    """Account id -> consumer: the accounts in which this program deploys the image function."""
    image_tag: str
    """Tag of the image to deploy; resolved to its digest through the registry provider."""
    image_digest: str
    """Digest (`sha256:...`) of the image to deploy; takes the place of `image_tag`."""
    resolve_image_tag: bool
    """Resolve `image_tag` to a digest (default true). False is refused: Lambda would pin whatever the
    tag points at when the function is created, and the program could not say which image that is."""
    function: FunctionArgs
    """Settings of the consumer functions."""
    lifecycle: LifecycleArgs
    """Lifecycle policy settings."""
    kms_key_arn: str
    """Encrypt images with this KMS key (default: AES-256)."""
    replication_regions: list[str]
    """Replicate the repository to these Regions of the registry account (for consumers there)."""
    force_delete: bool
    """Delete the repository even if it holds images (default false: consumers may still run them)."""
    function_settings: FunctionSettings
    """Stack-wide function settings (log retention, level, default architecture)."""
    tags: Mapping[str, str]
    """Extra tags for every taggable child."""


def _validate_release_build_prefixes(v: Validator, release: list[str], builds: list[str]) -> None:
    for build in builds:
        for release_prefix in release:
            if build.startswith(release_prefix) or release_prefix.startswith(build):
                v.fail(
                    "lifecycle.build_tag_prefixes",
                    build,
                    f"a prefix that neither starts with nor is the start of the release prefix "
                    f"{release_prefix!r} (ECR would protect or expire both sets together)",
                )


def lifecycle_rules(lifecycle: LifecycleArgs) -> list[dict[str, Any]]:
    """The ECR lifecycle rules, highest priority first.

    ECR evaluates rules by `rulePriority` (lowest first); an image that matches the tag selection
    of a higher-priority rule can never be expired by a lower-priority one. So every release
    prefix gets the first rules (one rule per prefix: a `tagPrefixList` selects only images that
    carry *all* its prefixes), each keeping up to ECR's images-per-repository quota, i.e.
    never expiring anything; then untagged images expire after N days; then each build prefix
    keeps its newest N images. Images with other tags are never expired.
    """
    rules: list[dict[str, Any]] = []
    for prefix in lifecycle["release_tag_prefixes"]:
        rules.append(
            {
                "description": f"Protect release tags {prefix}* (consumers pin them)",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [prefix],
                    "countType": "imageCountMoreThan",
                    "countNumber": RELEASE_PROTECT_COUNT,
                },
            }
        )
    days = lifecycle["untagged_expire_days"]
    rules.append(
        {
            "description": f"Expire untagged images after {days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": days,
            },
        }
    )
    for prefix in lifecycle["build_tag_prefixes"]:
        keep = lifecycle["keep_builds"]
        rules.append(
            {
                "description": f"Keep the newest {keep} builds tagged {prefix}*",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [prefix],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep,
                },
            }
        )
    return [{"rulePriority": i, **rule, "action": {"type": "expire"}} for i, rule in enumerate(rules, start=1)]


def lifecycle_policy(lifecycle: LifecycleArgs) -> str:
    """The lifecycle policy JSON ECR accepts."""
    return json.dumps({"rules": lifecycle_rules(lifecycle)})


def repository_policy_statements(
    *,
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account_ids: Sequence[str] = (),
    organization_id: str | None = None,
    organization_paths: Sequence[str] = (),
) -> list[iam.Statement]:
    """The two statements of the repository policy (account mode or organization mode)."""
    if organization_id:
        account_conditions: dict[str, dict[str, Any]] = {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
        service_conditions: dict[str, dict[str, Any]] = {
            "StringEquals": {"aws:SourceOrgID": organization_id},
            "StringLike": {
                "aws:sourceArn": pulumi.Output.concat("arn:", partition, ":lambda:", region, ":*:function:*")
            },
        }
        if organization_paths:
            account_conditions["ForAnyValue:StringLike"] = {"aws:PrincipalOrgPaths": list(organization_paths)}
            service_conditions["ForAnyValue:StringLike"] = {"aws:SourceOrgPaths": list(organization_paths)}
        return [
            iam.allow(PULL_ACTIONS, sid=ACCOUNT_SID, principals={"AWS": "*"}, conditions=account_conditions),
            iam.allow(
                PULL_ACTIONS,
                sid=LAMBDA_SID,
                principals={"Service": "lambda.amazonaws.com"},
                conditions=service_conditions,
            ),
        ]
    if not account_ids:
        raise ValueError("account mode needs at least one account id")
    roots = [pulumi.Output.concat("arn:", partition, ":iam::", a, ":root") for a in account_ids]
    functions = [
        pulumi.Output.concat("arn:", partition, ":lambda:", region, ":", a, ":function:*") for a in account_ids
    ]
    return [
        iam.allow(PULL_ACTIONS, sid=ACCOUNT_SID, principals={"AWS": roots}),
        iam.allow(
            PULL_ACTIONS,
            sid=LAMBDA_SID,
            principals={"Service": "lambda.amazonaws.com"},
            conditions={"StringLike": {"aws:sourceArn": functions}},
        ),
    ]


def _checked(
    component: str,
    field: str,
    ok: pulumi.Output[bool],
    value: pulumi.Output[Any],
    allowed: str,
    result: pulumi.Output[Any],
) -> pulumi.Output[Any]:
    """`result`, failing the deployment with a `ComponentArgsError` when `ok` resolves to False.

    For facts only AWS knows (a provider's account or Region); plain values are checked at construction.
    """

    def check(args: list[Any]) -> Any:
        passed, actual, out = args
        if not passed:
            raise ComponentArgsError(component, field, actual, allowed)
        return out

    return pulumi.Output.all(ok, value, result).apply(check)


class CrossAccountEcr(PatternComponent):
    """A shared ECR repository and digest-pinned Lambda image functions in consumer accounts."""

    def __init__(self, name: str, args: CrossAccountEcrArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args.get("tags"), opts)
        v = self.validator
        v.mapping("args", args, known=CrossAccountEcrArgs.__annotations__)
        repo_name = v.string(
            "repository_name",
            v.required(args, "repository_name"),
            pattern=REPOSITORY_NAME_RE,
            min_len=2,
            max_len=256,
            allowed="a lowercase ECR repository name such as 'shared/hello' "
            "(letters, digits, . _ - within /-separated parts)",
        )
        settings = validate_settings(type(self).__name__, args.get("function_settings"))
        registry_provider = args.get("registry_provider")
        registry_account = args.get("registry_account_id")
        if registry_account is not None:
            v.account_id("registry_account_id", registry_account)
        region = args.get("region")
        if region is not None:
            v.region("region", region)

        # Access mode.
        org_id = args.get("organization_id")
        org_paths = v.list_of("organization_paths", args.get("organization_paths") or [], unique=True)
        consumers = dict(v.mapping("consumers", args.get("consumers") or {}))
        explicit_accounts = args.get("consumer_account_ids")
        if org_id is not None:
            v.string(
                "organization_id",
                org_id,
                pattern=ORG_ID_RE,
                allowed="an AWS Organizations id: 'o-' and 10 to 32 lowercase letters or digits",
            )
            if explicit_accounts:
                v.fail(
                    "consumer_account_ids",
                    explicit_accounts,
                    "nothing in organization mode (give either consumer_account_ids or organization_id)",
                )
            for path in org_paths:
                v.string(
                    "organization_paths",
                    path,
                    pattern=ORG_PATH_RE,
                    allowed="an organization path such as 'o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/' "
                    "(optionally ending in '*')",
                )
                if path.split("/", 1)[0] != org_id:
                    v.fail("organization_paths", path, f"a path in the organization {org_id}")
            accounts: list[str] = []
        else:
            if org_paths:
                v.fail("organization_paths", org_paths, "organization paths only together with organization_id")
            # Without an explicit list, the accounts that get functions are the ones granted.
            source = "consumer_account_ids" if explicit_accounts is not None else "consumers"
            accounts = v.list_of(
                "consumer_account_ids",
                explicit_accounts if explicit_accounts is not None else list(consumers),
                min_items=1,
                unique=True,
            )
            for account in accounts:
                v.account_id(source, account)
        for account, consumer in consumers.items():
            v.account_id("consumers", account)
            v.mapping(f"consumers.{account}", consumer, known=ConsumerArgs.__annotations__)
            if not isinstance(consumer.get("provider"), aws.Provider):
                v.fail(
                    f"consumers.{account}.provider",
                    consumer.get("provider"),
                    "an aws.Provider for that account",
                )
            if consumer.get("region") is not None:
                v.region(f"consumers.{account}.region", consumer["region"])
                if region is not None and consumer["region"] != region:
                    v.fail(
                        f"consumers.{account}.region",
                        consumer["region"],
                        f"the repository Region {region} (Lambda pulls images only from its own Region; "
                        "use replication_regions and deploy there against the replica)",
                    )
            if consumer.get("deployer_role_name") is not None:
                v.string(
                    f"consumers.{account}.deployer_role_name",
                    consumer["deployer_role_name"],
                    pattern=ROLE_NAME_RE,
                    allowed="an IAM role name",
                )
            if org_id is None and account not in accounts:
                v.fail("consumers", account, "an account listed in consumer_account_ids (it needs a pull grant)")
        if registry_account is not None and registry_account in set(accounts) | set(consumers):
            v.fail(
                "consumer_account_ids",
                registry_account,
                "accounts other than the registry account (it pulls with its own IAM policies)",
            )

        # Image to deploy.
        image_tag, image_digest = args.get("image_tag"), args.get("image_digest")
        resolve = v.boolean("resolve_image_tag", args.get("resolve_image_tag", True))
        if image_tag is not None and image_digest is not None:
            v.fail("image_digest", image_digest, "either image_tag or image_digest, not both")
        if image_tag is not None:
            v.string("image_tag", image_tag, pattern=IMAGE_TAG_RE, max_len=128, allowed="an image tag")
            if not resolve:
                v.fail(
                    "resolve_image_tag",
                    False,
                    "true when image_tag is given: functions are pinned by digest, a tag alone would let "
                    "Lambda pin whatever the tag points at when it creates the function "
                    "(or give image_digest)",
                )
        if image_digest is not None:
            v.string("image_digest", image_digest, pattern=DIGEST_RE, allowed="'sha256:' and 64 hex digits")

        # Lifecycle.
        lc_raw = dict(v.mapping("lifecycle", args.get("lifecycle") or {}, known=LifecycleArgs.__annotations__))
        lifecycle: LifecycleArgs = {
            "untagged_expire_days": v.integer(
                "lifecycle.untagged_expire_days",
                lc_raw.get("untagged_expire_days", 7),
                minimum=1,
                maximum=3650,
            ),
            "build_tag_prefixes": v.list_of(
                "lifecycle.build_tag_prefixes", lc_raw.get("build_tag_prefixes", ["build-"]), unique=True
            ),
            "keep_builds": v.integer("lifecycle.keep_builds", lc_raw.get("keep_builds", 20), minimum=1, maximum=10_000),
            "release_tag_prefixes": v.list_of(
                "lifecycle.release_tag_prefixes",
                lc_raw.get("release_tag_prefixes", ["release-", "v"]),
                min_items=1,
                unique=True,
            ),
        }
        for field in ("build_tag_prefixes", "release_tag_prefixes"):
            for prefix in lifecycle[field]:  # type: ignore[literal-required]
                v.string(
                    f"lifecycle.{field}",
                    prefix,
                    pattern=IMAGE_TAG_RE,
                    max_len=128,
                    allowed="a tag prefix of letters, digits, _ . -",
                )
        _validate_release_build_prefixes(v, lifecycle["release_tag_prefixes"], lifecycle["build_tag_prefixes"])

        # Function settings.
        fn_raw = dict(v.mapping("function", args.get("function") or {}, known=FunctionArgs.__annotations__))
        memory = v.integer("function.memory_mb", fn_raw.get("memory_mb", 512), minimum=128, maximum=10240)
        timeout = v.integer("function.timeout_seconds", fn_raw.get("timeout_seconds", 30), minimum=1, maximum=900)
        architecture = v.choice(
            "function.architecture", fn_raw.get("architecture", settings["architecture"]), ARCHITECTURES
        )
        environment = dict(v.mapping("function.environment", fn_raw.get("environment") or {}))
        description = v.string(
            "function.description",
            fn_raw.get("description", "Cross-account image function"),
            min_len=0,
            max_len=256,
        )

        kms_key = args.get("kms_key_arn")
        if kms_key is not None:
            v.string(
                "kms_key_arn",
                kms_key,
                pattern=KMS_KEY_ARN_RE,
                allowed="a KMS key ARN (arn:aws:kms:...:key/...)",
            )
            if region is not None and not v.is_unknown(kms_key) and kms_key.split(":")[3] != region:
                v.fail("kms_key_arn", kms_key, f"a key in the repository Region {region}")
        replication = v.list_of("replication_regions", args.get("replication_regions") or [], unique=True)
        for target in replication:
            v.region("replication_regions", target)
            if target == region:
                v.fail("replication_regions", target, "Regions other than the repository's own")
        if replication and "/" not in repo_name:
            v.fail(
                "repository_name",
                repo_name,
                "a namespaced name such as 'shared/hello' when replicating "
                "(replicas get their policies from a creation template for the namespace)",
            )
        force_delete = v.boolean("force_delete", args.get("force_delete", False))
        if consumers and image_tag is None and image_digest is None:
            v.fail(
                "image_tag",
                None,
                "an image tag or digest when consumers are given (functions need an image; "
                "deploy without consumers first, push the image, then add them)",
            )

        # ---- Registry side -------------------------------------------------------------------------
        registry_env = AwsEnv.of(self, registry_provider) if registry_provider is not None else self.env
        self.registry_env = registry_env

        def registry_opts(**kw: Any) -> pulumi.ResourceOptions:
            return self.child_opts(provider=registry_provider, **kw) if registry_provider else self.child_opts(**kw)

        self.repository = aws.ecr.Repository(
            self.child_name("repo"),
            name=repo_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[
                {"encryption_type": "KMS", "kms_key": kms_key} if kms_key else {"encryption_type": "AES256"}
            ],
            force_delete=force_delete,
            tags=self.tags,
            opts=registry_opts(),
        )

        statements = repository_policy_statements(
            partition=registry_env.partition,
            region=registry_env.region,
            account_ids=accounts,
            organization_id=org_id,
            organization_paths=org_paths,
        )
        grantees = sorted(set(accounts) | set(consumers))
        policy_text = _checked(
            type(self).__name__,
            "consumer_account_ids",
            registry_env.account_id.apply(lambda acct: acct not in grantees),
            registry_env.account_id,
            "accounts other than the registry account (it pulls with its own IAM policies)",
            iam.document(*statements),
        )
        policy_text = _checked(
            type(self).__name__,
            "consumer_account_ids",
            policy_text.apply(lambda text: len(text) <= MAX_REPOSITORY_POLICY_CHARS),
            policy_text.apply(lambda text: f"{len(accounts)} accounts ({len(text)} characters of policy)"),
            f"as many accounts as fit in ECR's {MAX_REPOSITORY_POLICY_CHARS} characters of repository policy "
            "(use organization_id, optionally with organization_paths, for more)",
            policy_text,
        )
        self.repository_policy = aws.ecr.RepositoryPolicy(
            self.child_name("repo-policy"),
            repository=self.repository.name,
            policy=policy_text,
            opts=registry_opts(),
        )
        self.lifecycle_policy = aws.ecr.LifecyclePolicy(
            self.child_name("lifecycle"),
            repository=self.repository.name,
            policy=lifecycle_policy(lifecycle),
            opts=registry_opts(),
        )

        self.replication: aws.ecr.ReplicationConfiguration | None = None
        self.creation_templates: list[aws.ecr.RepositoryCreationTemplate] = []
        if replication:
            namespace = repo_name.split("/", 1)[0]
            self.replication = aws.ecr.ReplicationConfiguration(
                self.child_name("replication"),
                replication_configuration={
                    "rules": [
                        {
                            "destinations": [
                                {"region": r, "registry_id": self.repository.registry_id} for r in replication
                            ],
                            "repository_filters": [{"filter": repo_name, "filter_type": "PREFIX_MATCH"}],
                        }
                    ]
                },
                opts=registry_opts(),
            )
            for target in replication:
                replica_statements = repository_policy_statements(
                    partition=registry_env.partition,
                    region=target,
                    account_ids=accounts,
                    organization_id=org_id,
                    organization_paths=org_paths,
                )
                self.creation_templates.append(
                    aws.ecr.RepositoryCreationTemplate(
                        self.child_name(f"replica-template-{target}"),
                        region=target,
                        prefix=namespace,
                        applied_fors=["REPLICATION"],
                        description=f"Replicas of {namespace}/* from {name}: immutable, Lambda pull grants",
                        image_tag_mutability="IMMUTABLE",
                        encryption_configurations=[{"encryption_type": "AES256"}],
                        repository_policy=iam.document(*replica_statements),
                        lifecycle_policy=lifecycle_policy(lifecycle),
                        resource_tags=self.tags,
                        opts=registry_opts(depends_on=[self.repository]),
                    )
                )

        # ---- Consumer side -------------------------------------------------------------------------
        self.image_uri: pulumi.Output[str] | None = None
        if image_tag is not None or image_digest is not None:
            if image_digest is None:
                image = aws.ecr.get_image_output(
                    repository_name=self.repository.name,
                    image_tag=image_tag,
                    registry_id=self.repository.registry_id,
                    opts=pulumi.InvokeOutputOptions(parent=self, provider=registry_provider),
                )
                digest: pulumi.Output[str] = image.image_digest
            else:
                digest = pulumi.Output.from_input(image_digest)
            self.image_uri = pulumi.Output.concat(self.repository.repository_url, "@", digest)

        self.functions: dict[str, ImageFunction] = {}
        self.deployer_policies: dict[str, aws.iam.RolePolicy] = {}
        for account, consumer in consumers.items():
            provider = consumer["provider"]
            consumer_env = AwsEnv.of(self, provider)
            consumer_opts = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
            same_place = pulumi.Output.all(consumer_env.region, registry_env.region, consumer_env.account_id)
            if self.image_uri is not None:
                image_uri = _checked(
                    type(self).__name__,
                    f"consumers.{account}.provider",
                    same_place.apply(lambda p, a=account: p[0] == p[1] and p[2] == a),
                    same_place.apply(lambda p: f"account {p[2]} in {p[0]}"),
                    f"a provider for account {account} in the repository Region (Lambda pulls images only "
                    "from its own Region; use replication_regions and deploy there against the replica)",
                    self.image_uri,
                )
                self.functions[account] = ImageFunction(
                    self.child_name(account),
                    image_uri=image_uri,
                    service=name,
                    architecture=architecture,
                    settings=settings,
                    memory_mb=memory,
                    timeout_seconds=timeout,
                    environment=environment,
                    description=description,
                    tags=args.get("tags"),
                    opts=consumer_opts,
                )
            role_name = consumer.get("deployer_role_name")
            if role_name:
                self.deployer_policies[account] = aws.iam.RolePolicy(
                    self.child_name(f"{account}-deployer-pull"),
                    role=role_name,
                    name=f"pull-{repo_name.replace('/', '-')}"[:128],
                    policy=iam.document(iam.allow(PULL_ACTIONS, [self.repository.arn], sid="PullSharedImage")),
                    opts=pulumi.ResourceOptions(parent=self, provider=provider),
                )

        self.finish(
            {
                "repositoryName": self.repository.name,
                "repositoryUrl": self.repository.repository_url,
                "repositoryArn": self.repository.arn,
                "registryId": self.repository.registry_id,
                "mode": "organization" if org_id else "accounts",
                "imageUri": self.image_uri,
                "functions": {acct: {"arn": fn.arn, "name": fn.function_name} for acct, fn in self.functions.items()},
                "replicationRegions": replication,
            }
        )


CONFIG_KEYS = [
    "enabled",
    "repository_name",
    "consumer_role_name",
    "consumers",
    "consumer_account_ids",
    "organization_id",
    "organization_paths",
    "image_tag",
    "image_digest",
    "resolve_image_tag",
    "function",
    "lifecycle",
    "kms_key_arn",
    "replication_regions",
    "force_delete",
]
CONSUMER_KEYS = ["region", "role_name", "deployer_role_name"]
FUNCTION_KEYS = ["memory_mb", "timeout_seconds", "architecture", "environment", "description"]
LIFECYCLE_KEYS = ["untagged_expire_days", "build_tag_prefixes", "keep_builds", "release_tag_prefixes"]


def from_config(name: str, section: Mapping[str, Any], stack: StackConfig,
                opts: pulumi.ResourceOptions | None = None) -> CrossAccountEcr:
    """Build the component from `serverless-patterns:patterns.crossAccountEcr`.

    The registry is the stack's own account (`aws:allowedAccountIds[0]`) and Region (`aws:region`);
    every consumer account gets a provider that assumes `consumerRoleName` (or the consumer's own
    `roleName`) in that account, allowed for that account only.
    """
    path = "patterns.crossAccountEcr"
    reader = ConfigReader()
    cfg = reader.section(path, section, CONFIG_KEYS)
    aws_cfg = pulumi.Config("aws")
    region = aws_cfg.get("region")
    allowed = aws_cfg.get_object("allowedAccountIds") or []
    registry_account = str(allowed[0]) if isinstance(allowed, list) and allowed else None
    consumers_raw = reader.mapping(f"{path}.consumers", cfg.get("consumers") or {})
    default_role = cfg.get("consumer_role_name")
    if default_role is not None:
        reader.string(f"{path}.consumerRoleName", default_role, pattern=ROLE_NAME_RE, allowed="an IAM role name")
    consumers: dict[str, ConsumerArgs] = {}
    for account, raw in consumers_raw.items():
        account = str(account)
        where = f"{path}.consumers.{account}"
        reader.account_id(f"{path}.consumers", account)
        c = reader.section(where, raw, CONSUMER_KEYS)
        role = c.get("role_name", default_role)
        if role is None:
            reader.fail(f"{where}.roleName", None, f"a role to assume in {account} (or {path}.consumerRoleName)")
        reader.string(f"{where}.roleName", role, pattern=ROLE_NAME_RE, allowed="an IAM role name")
        consumer_region = c.get("region", region)
        reader.region(f"{where}.region", consumer_region)
        partition = (
            "aws-cn"
            if consumer_region.startswith("cn-")
            else ("aws-us-gov" if consumer_region.startswith("us-gov-") else "aws")
        )
        provider = aws.Provider(
            f"{name}-{account}",
            region=consumer_region,
            allowed_account_ids=[account],
            assume_roles=[
                aws.ProviderAssumeRoleArgs(
                    role_arn=f"arn:{partition}:iam::{account}:role/{role}", session_name=f"{name}-deploy"
                )
            ],
        )
        consumer: ConsumerArgs = {"provider": provider, "region": consumer_region}
        if c.get("deployer_role_name") is not None:
            consumer["deployer_role_name"] = c["deployer_role_name"]
        consumers[account] = consumer
    function = reader.section(f"{path}.function", cfg.get("function"), FUNCTION_KEYS)
    lifecycle = reader.section(f"{path}.lifecycle", cfg.get("lifecycle"), LIFECYCLE_KEYS)
    args: CrossAccountEcrArgs = {
        "repository_name": cfg.get("repository_name"),  # type: ignore[typeddict-item]
        "consumers": consumers,
        "function": function,  # type: ignore[typeddict-item]
        "lifecycle": lifecycle,  # type: ignore[typeddict-item]
        "function_settings": stack.function_settings,
        "tags": stack.tags,
    }
    if registry_account is not None:
        args["registry_account_id"] = registry_account
    if region is not None:
        args["region"] = region
    for key in (
        "consumer_account_ids",
        "organization_id",
        "organization_paths",
        "image_tag",
        "image_digest",
        "resolve_image_tag",
        "kms_key_arn",
        "replication_regions",
        "force_delete",
    ):
        if cfg.get(key) is not None:
            args[key] = cfg[key]  # type: ignore[literal-required]
    return CrossAccountEcr(name, args, opts)


__all__ = [
    "CrossAccountEcr",
    "CrossAccountEcrArgs",
    "ImageFunction",
    "from_config",
    "lifecycle_policy",
    "lifecycle_rules",
    "repository_policy_statements",
]
