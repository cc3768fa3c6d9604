"""The build cache: one folder per program (`.build/` under the working directory, or
`$SERVERLESS_PATTERNS_BUILD_DIR`) where packaging and the validation gate keep what they derive from pinned
inputs (Lambda dependencies, the modules a function imports, compact AWS contract data), each under a key of
what it was derived from, so later processes reuse it. Standard library only: the gate reads it without
loading the Pulumi SDK."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def root() -> Path:
    """The build cache's folder (not created here)."""
    return Path(os.environ.get("SERVERLESS_PATTERNS_BUILD_DIR", Path.cwd() / ".build"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once (readers see the old file or the new one, never part of it); a cache
    that cannot be written is simply not used."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except OSError:
        return
