"""Tests of the GlacierRestore component, its workflows and its Lambda handlers."""
