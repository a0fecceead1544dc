"""The second core: a helper thread for work that releases the GIL (OpenCV calls, onnxruntime runs).

Much of a frame's work runs on one core however many threads it may use: OpenCV's box filter, morphology
and component statistics, and the CNN on one onnxruntime thread. `beside` runs such a call on a helper
thread while the caller does the next one, so that one frame uses both cores. The helper waits on a queue
without spinning (onnxruntime's own spinning thread pool slowed the next frame's OpenCV work).

It runs only when OpenCV may use more than one thread: `camrec video` and `camrec image` already keep
both cores busy with two frames at once and set OpenCV to one thread, and then everything runs inline.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
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
            helper = _helpers[os.getpid()] = ThreadPoolExecutor(
                1, thread_name_prefix="camrec-helper", initializer=cv2.ipp.setUseIPP, initargs=(False,)
            )
        return helper.submit(work, *args)
    future: Future = Future()
    future.set_result(work(*args))
    return future


@contextlib.contextmanager
def without_ipp() -> Iterator[None]:
    """OpenCV's calls in this thread without Intel's IPP for a while (the switch is per thread).

    On a frame's small crops IPP's dispatch costs more than its work: enlarging a 20x16 crop took 37
    microseconds with IPP and 4 without, a 3x3 dilation 14 and 8 (opencv-python 4.13 on an AVX2 host).
    Paired frame by frame on the throughput clip: 0.17-0.22 ms a frame less on one thread, 0.14 on two, the
    same boxes, digits and crops in every frame; the seed-2 accuracy report is the same line for line. Only
    where a crop is enlarged do its pixels differ, by rounding (under 1e-6). The helper thread runs
    without IPP throughout."""
    previous = cv2.ipp.useIPP()
    cv2.ipp.setUseIPP(False)
    try:
        yield
    finally:
        cv2.ipp.setUseIPP(previous)
