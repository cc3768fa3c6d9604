"""Data stores baseline: DynamoDB point-in-time recovery and KMS encryption; S3 buckets private, encrypted,
TLS-only.

In pulumi-aws v7 a bucket's public access block, encryption and policy are separate resources,
so the S3 rules are stack rules: they find the resources whose `bucket` refers to each bucket
(through the recorded property dependency, or by the bucket's name/id).
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from serverless_patterns.policies.core import (
    DocumentError,
    as_list,
    each_resource,
    of_type,
    parse_document,
    prop,
    referenced,
    resource_rule,
    stack_rule,
    wildcard_match,
)

TABLE = "aws:dynamodb/table:Table"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SSE_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})


def check_pitr(args: ResourceValidationArgs) -> Iterator[str]:
    if not (prop(args.props, "pointInTimeRecovery") or {}).get("enabled"):
        yield (f"Table {args.name!r} has no point-in-time recovery. Fix: point_in_time_recovery={{'enabled': "
               f"True}} (35 days of continuous backups).")


def check_table_encryption(args: ResourceValidationArgs) -> Iterator[str]:
    if not (prop(args.props, "serverSideEncryption") or {}).get("enabled"):
        yield (f"Table {args.name!r} is encrypted only with an AWS-owned key (no KMS key, no CloudTrail record of "
               f"key use). Fix: server_side_encryption={{'enabled': True}} (AWS-managed aws/dynamodb key) or with "
               f"kms_key_arn for a customer-managed key.")


def _related(args: StackValidationArgs, bucket: PolicyResource, *types: str) -> list[PolicyResource]:
    return [r for r in of_type(args, *types) if bucket in referenced(r, "bucket", [bucket], "bucket", "id")]


def check_public_access_block(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    account_blocks = of_type(args, ACCOUNT_PUBLIC_ACCESS_BLOCK)
    if any(all(prop(b.props, flag) is True for flag in PAB_FLAGS) for b in account_blocks):
        return

    def check(bucket: PolicyResource) -> Iterator[str]:
        blocks = _related(args, bucket, PUBLIC_ACCESS_BLOCK)
        for block in blocks:
            missing = [flag for flag in PAB_FLAGS if prop(block.props, flag) is not True]
            if not missing:
                return
            yield (f"Bucket {bucket.name!r}: public access block {block.name!r} leaves {', '.join(missing)} off. "
                   f"Fix: set all four flags to True.")
            return
        yield (f"Bucket {bucket.name!r} has no BucketPublicAccessBlock. Fix: add aws.s3.BucketPublicAccessBlock("
               f"bucket=<bucket>.id, block_public_acls=True, block_public_policy=True, ignore_public_acls=True, "
               f"restrict_public_buckets=True).")

    yield from each_resource(of_type(args, *BUCKETS), check)


def check_bucket_encryption(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    def algorithms(rules: object) -> set[str]:
        found = set()
        for rule in as_list(rules):
            if isinstance(rule, dict):
                default = rule.get("applyServerSideEncryptionByDefault") or {}
                if isinstance(default, dict) and default.get("sseAlgorithm"):
                    found.add(str(default["sseAlgorithm"]))
        return found

    def check(bucket: PolicyResource) -> Iterator[str]:
        inline = prop(bucket.props, "serverSideEncryptionConfiguration") or {}
        if algorithms(inline.get("rule") if isinstance(inline, dict) else None) & SSE_ALGORITHMS:
            return
        for config in _related(args, bucket, *ENCRYPTION):
            if algorithms(prop(config.props, "rules")) & SSE_ALGORITHMS:
                return
        yield (f"Bucket {bucket.name!r} has no default encryption configuration. Fix: add aws.s3."
               f"BucketServerSideEncryptionConfiguration(bucket=<bucket>.id, rules=[{{'apply_server_side_encryption_"
               f"by_default': {{'sse_algorithm': 'aws:kms'}}, 'bucket_key_enabled': True}}]).")

    yield from each_resource(of_type(args, *BUCKETS), check)


def _denies_insecure_transport(policy: object, arn: str) -> bool:
    try:
        statements = parse_document(policy)
    except DocumentError:
        return False
    covered: set[str] = set()
    for statement in statements:
        if statement.effect != "Deny":
            continue
        principals = statement.principals()
        if "*" not in principals.get("*", []) + principals.get("AWS", []):
            continue
        if not any(a in ("*", "s3:*") for a in statement.actions):
            continue
        secure = {k.lower(): v for k, v in (statement.conditions.get("Bool") or {}).items()}
        if str(secure.get("aws:securetransport", "")).lower() != "false":
            continue
        for target in (arn, arn + "/*"):
            if any(wildcard_match(r, target) for r in statement.resources):
                covered.add(target)
    return covered == {arn, arn + "/*"}


def check_tls_only(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    def check(bucket: PolicyResource) -> Iterator[str]:
        arn = str(prop(bucket.props, "arn", ""))
        policies = [prop(bucket.props, "policy")] + [prop(p.props, "policy")
                                                    for p in _related(args, bucket, BUCKET_POLICY)]
        if any(p and _denies_insecure_transport(p, arn) for p in policies):
            return
        yield (f"Bucket {bucket.name!r} accepts plain-HTTP requests: no bucket policy denies s3:* for Principal '*' "
               f"when aws:SecureTransport is false on {arn or '<bucket arn>'} and its objects. Fix: add a "
               f"BucketPolicy statement {{Effect: Deny, Principal: '*', Action: 's3:*', Resource: [arn, arn/*], "
               f"Condition: {{Bool: {{'aws:SecureTransport': 'false'}}}}}}.")

    yield from each_resource(of_type(args, *BUCKETS), check)


POLICIES = [
    resource_rule(
        "dynamodb-point-in-time-recovery",
        "DynamoDB tables have point-in-time recovery.",
        check_pitr, types={TABLE}, severity=Severity.MEDIUM, cdk_nag="AwsSolutions-DDB3",
        remediation="Set point_in_time_recovery enabled."),
    resource_rule(
        "dynamodb-kms-encryption",
        "DynamoDB tables are encrypted with a KMS key (AWS-managed or customer-managed).",
        check_table_encryption, types={TABLE}, severity=Severity.MEDIUM,
        remediation="Set server_side_encryption enabled (optionally with kms_key_arn)."),
    stack_rule(
        "s3-bucket-public-access-block",
        "S3 buckets block all public access.",
        check_public_access_block, severity=Severity.CRITICAL, cdk_nag="AwsSolutions-S2",
        remediation="Add a BucketPublicAccessBlock with all four flags."),
    stack_rule(
        "s3-bucket-encryption",
        "S3 buckets have a default server-side encryption configuration.",
        check_bucket_encryption, severity=Severity.MEDIUM,
        remediation="Add a BucketServerSideEncryptionConfiguration."),
    stack_rule(
        "s3-bucket-tls-only",
        "S3 bucket policies deny requests that do not use TLS.",
        check_tls_only, severity=Severity.HIGH, cdk_nag="AwsSolutions-S10",
        remediation="Deny s3:* when aws:SecureTransport is false."),
]
