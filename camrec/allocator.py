"""glibc's allocator told to keep freed memory for the next frame rather than give it back to the kernel.

Every frame makes a dozen frame-sized arrays (the threshold's maps, the labels, the integral image) and
frees them. In the main thread glibc hands freed memory above its trim threshold back to the kernel, so the
next frame's arrays fault their pages in anew; on a virtual machine a page fault is slow. Measured on a
Firecracker VM with two cores, the throughput clip's frames one after another in the main thread: about
850 page faults a frame (on one thread 13-15 ms a frame, with the thresholds raised 10-12 ms). Frames
processed in worker threads (`camrec video`) fault rarely: their arenas keep what is freed.

The cost is memory kept for reuse: at most TRIM_THRESHOLD of free heap, a few frames' worth.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, from glibc's malloc.h
TRIM_THRESHOLD = 128 << 20  # free heap kept before any is given back
MMAP_THRESHOLD = 32 << 20  # blocks up to this size come from the heap (glibc's own upper limit)

_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds once per process; False where there is no glibc `mallopt`
    (macOS, Windows, musl), and nothing changes."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done
