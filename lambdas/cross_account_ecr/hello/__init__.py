"""Source of the sample container image: Dockerfile, pinned requirements and the Powertools handler."""
