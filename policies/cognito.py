"""Cognito baseline: user pools with an explicit, strong password policy."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity

from serverless_patterns.policies.core import config_value, prop, resource_rule

USER_POOL = "aws:cognito/userPool:UserPool"
REQUIREMENTS = ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols")
SCHEMA = PolicyConfigSchema(properties={
    "minimumLength": {"type": "integer", "minimum": 8, "default": 8,
                      "description": "The shortest password a user pool may allow."},
})


def check_password_policy(args: ResourceValidationArgs) -> Iterator[str]:
    minimum = config_value("cognito-password-policy", args.get_config(), "minimumLength", 8, int)
    policy = prop(args.props, "passwordPolicy")
    if not policy:
        yield (f"User pool {args.name!r} sets no password policy. Fix: password_policy={{'minimum_length': "
               f"{minimum}, 'require_lowercase': True, 'require_uppercase': True, 'require_numbers': True, "
               f"'require_symbols': True, 'temporary_password_validity_days': 7}}.")
        return
    length = policy.get("minimumLength")
    problems = [] if isinstance(length, int | float) and length >= minimum else [
        f"minimumLength {length} < {minimum}"]
    problems += [f"{flag} is off" for flag in REQUIREMENTS if not policy.get(flag)]
    if problems:
        yield f"User pool {args.name!r} has a weak password policy: {'; '.join(problems)}. Fix: require all four " \
              f"character classes and at least {minimum} characters."


POLICIES = [
    resource_rule(
        "cognito-password-policy",
        "Cognito user pools require long passwords with all character classes.",
        check_password_policy, types={USER_POOL}, severity=Severity.MEDIUM, cdk_nag="AwsSolutions-COG1",
        config_schema=SCHEMA, remediation="Set password_policy with all requirements."),
]
