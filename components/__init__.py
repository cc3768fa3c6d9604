"""Production-grade AWS serverless patterns as typed Pulumi components."""
