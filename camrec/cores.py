"""The second core: a helper thread for work that releases the GIL (OpenCV calls, onnxruntime runs).

Much of a frame's work runs on one core however many threads it may use: OpenCV's box filter, morphology
and component statistics, and the CNN on one onnxruntime thread. `beside` runs such a call on a helper
thread while the caller does the next one, so that one frame uses both cores. The helper waits on a queue
without spinning (onnxruntime's own spinning thread pool slowed the next frame's OpenCV work).

It runs only when OpenCV may use more than one thread: `camrec video` and `camrec image` already keep
both cores busy with two frames at once and set OpenCV to one thread, and then everything runs inline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import cv2

_helpers: dict[int, ThreadPoolExecutor] = {}  # by process: a forked child has none of its parent's threads


def two_cores() -> bool:
    """Whether this process may spend two cores on one frame (OpenCV's thread count says so)."""
    return cv2.getNumThreads() > 1


def beside(work: Callable[..., Any], *args) -> Future:
    """`work(*args)` on the helper thread while the caller goes on when `two_cores()`; else here and now."""
    if two_cores():
        helper = _helpers.get(os.getpid())
        if helper is None:
            helper = _helpers[os.getpid()] = ThreadPoolExecutor(1, thread_name_prefix="camrec-helper")
        return helper.submit(work, *args)
    future: Future = Future()
    future.set_result(work(*args))
    return future
