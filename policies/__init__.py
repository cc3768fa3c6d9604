"""The serverless-patterns CrossGuard policy pack (see policies/README.md).

Rule modules import only `pulumi_policy` and the standard library, so the pack runs in its own
small virtualenv under the Pulumi CLI; `policies.runner` adds the offline run over a captured stack.
"""
