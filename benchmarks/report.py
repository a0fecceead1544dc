"""How every benchmark hands over its figures: JSON on stdout and, with `--json FILE`, in that file."""

from __future__ import annotations

import json
from pathlib import Path


def publish(report: dict, path: str | None, *, show: bool = True) -> None:
    """Print the report (unless `show` is False: the caller printed a table) and write it to `path` if given."""
    text = json.dumps(report, indent=1)
    if show:
        print(text)
    if path:
        Path(path).write_text(text + "\n")
