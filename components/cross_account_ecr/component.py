"""The CrossAccountEcr component: one repository, image functions in consumer accounts (see the package docstring)."""


from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.base import AwsEnv, PatternComponent
from serverless_patterns.core.function import ARCHITECTURES, ImageFunction, validate_settings
from serverless_patterns.cross_account_ecr.args import (
    DIGEST_RE,
    IMAGE_TAG_RE,
    KMS_KEY_ARN_RE,
    MAX_REPOSITORY_POLICY_CHARS,
    ORG_ID_RE,
    ORG_PATH_RE,
    PULL_ACTIONS,
    REPOSITORY_NAME_RE,
    ROLE_NAME_RE,
    ConsumerArgs,
    ConsumerFunctionOutputs,
    CrossAccountEcrArgs,
    FunctionArgs,
    LifecycleArgs,
)
from serverless_patterns.cross_account_ecr.documents import (
    _validate_release_build_prefixes,
    lifecycle_policy,
    repository_policy_statements,
)


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

    repository_name: pulumi.Output[str]
    """Name of the shared repository."""
    repository_url: pulumi.Output[str]
    """URL to push images to (`<registry>/<name>`)."""
    repository_arn: pulumi.Output[str]
    """ARN of the shared repository."""
    registry_id: pulumi.Output[str]
    """Registry (account) id of the repository."""
    mode: str
    """`accounts` (a list of consumer accounts) or `organization` (an AWS Organization)."""
    image_uri: pulumi.Output[str] | None
    """Digest-pinned image the consumer functions run (none until an image is named)."""
    functions: Mapping[str, ConsumerFunctionOutputs]
    """Consumer account id -> its image function."""
    replication_regions: Sequence[str]
    """Regions the repository is replicated to."""

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
            for prefix in lifecycle[field]:
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
            if region is not None and isinstance(kms_key, str) and kms_key.split(":")[3] != region:
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
                        # No resource_tags (and AES256, not KMS): ECR needs a custom role for a template with
                        # either (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html),
                        # and the trust policy AWS documents for that role has no source condition, so we cannot
                        # scope one to this registry; without them ECR uses its service-linked role.
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

        self.image_functions: dict[str, ImageFunction] = {}
        self.deployer_policies: dict[str, aws.iam.RolePolicy] = {}
        for account, consumer in consumers.items():
            provider = consumer["provider"]
            consumer_env = AwsEnv.of(self, provider)
            # Lambda refuses CreateFunction for an image it may not pull yet, and a deployer cannot pull
            # before the grant: both wait for the repository policy.
            consumer_opts = pulumi.ResourceOptions(parent=self, providers={"aws": provider},
                                                   depends_on=[self.repository_policy])
            same_place = pulumi.Output.all(consumer_env.region, registry_env.region, consumer_env.account_id)
            if self.image_uri is not None:
                image_uri = _checked(
                    type(self).__name__,
                    f"consumers.{account}.provider",
                    same_place.apply(lambda p, a=account: p[0] == p[1] and p[2] == a),  # type: ignore[misc]
                    same_place.apply(lambda p: f"account {p[2]} in {p[0]}"),
                    f"a provider for account {account} in the repository Region (Lambda pulls images only "
                    "from its own Region; use replication_regions and deploy there against the replica)",
                    self.image_uri,
                )
                self.image_functions[account] = ImageFunction(
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
                    opts=pulumi.ResourceOptions(parent=self, provider=provider,
                                                depends_on=[self.repository_policy]),
                )

        self.finish(
            {
                "repositoryName": self.repository.name,
                "repositoryUrl": self.repository.repository_url,
                "repositoryArn": self.repository.arn,
                "registryId": self.repository.registry_id,
                "mode": "organization" if org_id else "accounts",
                "imageUri": self.image_uri,
                "functions": {acct: {"arn": fn.arn, "name": fn.function_name}
                              for acct, fn in self.image_functions.items()},
                "replicationRegions": replication,
            }
        )


