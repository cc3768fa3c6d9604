"""GlacierRestore Lambda functions."""
