"""Restore-state steps of the GlacierRestore workflows (decode event keys, decide extensions)."""
