"""How every benchmark hands over its figures: JSON on stdout and, with `--json FILE`, in that file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from camrec.errors import CamrecError


def publish(report: dict, path: str | None, *, show: bool = True) -> None:
    """Print the report (unless `show` is False: the caller printed a table) and write it to `path` if given."""
    text = json.dumps(report, indent=1)
    if show:
        print(text)
    if path:
        Path(path).write_text(text + "\n")


def exit_with(main: Callable[[], int]) -> NoReturn:
    """Exit with `main()`'s code; a camrec error (no MNIST directory, a broken model) is one line, exit 2."""
    try:
        code = main()
    except CamrecError as exc:
        print(f"{Path(sys.argv[0]).name}: error: {exc.line()}", file=sys.stderr)
        code = 2
    sys.exit(code)
