"""The platform team's own components: a package named `components`, as many Pulumi programs have.

serverless-patterns installs as `serverless_patterns`, so this package never shadows it (or the reverse).
"""
