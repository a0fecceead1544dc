"""What native libraries write to stderr themselves: TensorFlow's C++ logging, libjpeg's and libpng's
warnings. They write to file descriptor 2, where no Python or OpenCV log setting reaches, and an error
line must stand alone (CONTRACT.md). `stderr_captured` takes it aside for a while.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

_one_at_a_time = threading.Lock()  # descriptor 2 is the process's: two captures must not interleave


class Captured:
    """The text written to descriptor 2 during a `stderr_captured` block, once the block has ended."""

    text = ""


@contextlib.contextmanager
def stderr_captured() -> Iterator[Captured]:
    """Descriptor 2 goes to a temporary file while the block runs; `.text` then holds what was written.
    With `--debug` logging on, the text is passed on to the log, so nothing is hidden from a developer."""
    captured = Captured()
    with _one_at_a_time, contextlib.ExitStack() as stack:
        try:
            aside = stack.enter_context(tempfile.TemporaryFile("w+b"))
            saved = os.dup(2)
        except OSError:  # no descriptor 2 (`2>&-`), or no room for a temporary file: nothing to take aside
            yield captured
            return
        os.dup2(aside.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            aside.seek(0)
            captured.text = aside.read().decode(errors="replace")
    if captured.text and log.isEnabledFor(logging.DEBUG):
        log.debug("native library output: %s", captured.text.strip())
