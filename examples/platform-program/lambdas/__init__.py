"""The platform team's Lambda code: one folder per function (a top-level `lambdas`, as in many programs)."""

from pathlib import Path

#: The folder holding the function folders.
FOLDER = Path(__file__).resolve().parent
