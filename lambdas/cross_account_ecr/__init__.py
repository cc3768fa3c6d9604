"""Lambda code of the CrossAccountEcr pattern (shipped as package data with the library)."""
