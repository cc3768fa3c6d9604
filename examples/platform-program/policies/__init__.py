"""The platform team's own CrossGuard pack (a top-level `policies`, next to serverless-patterns' pack)."""
