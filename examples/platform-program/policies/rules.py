"""Rules the platform team adds on top of serverless-patterns' pack: every taggable resource names its team."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

#: Tags every taggable resource of the platform carries (the program sets them on every component).
REQUIRED_TAGS = ("team",)


def check_team_tag(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    tags = args.props.get("tags")
    if "tags" not in args.props or not args.resource_type.startswith("aws:"):
        return
    missing = [key for key in REQUIRED_TAGS if not (tags or {}).get(key)]
    if missing:
        report_violation(f"{args.resource_type} {args.name!r} lacks the platform tag(s) {missing}.", None)


POLICIES = [
    ResourceValidationPolicy(
        name="platform-team-tag",
        description="Every taggable AWS resource carries the platform's team tag.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_team_tag),
]
