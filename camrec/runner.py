"""The one loop that the CLI and the windows share: frames from a source, through the pipeline, into sinks.

Sinks are entered before the first frame (so a bad output fails before any work) and always exited, on
success, error, Ctrl-C or SIGTERM alike, so that what was written stays complete.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from camrec.config import TrackConfig
from camrec.errors import CamrecError
from camrec.pipeline import FrameResult
from camrec.sources import Frame, Source
from camrec.track import Tracker
from camrec.workers import WorkerPool

Process = Callable[[np.ndarray], FrameResult]
Draw = Callable[[np.ndarray, FrameResult], np.ndarray]
OnFrame = Callable[[Frame, FrameResult, "np.ndarray | None"], bool]  # False ends the run


@dataclass
class Summary:
    """What a run did, for the closing line on stderr."""

    frames: int = 0
    digits: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def run(
    sources: Iterable[Source],
    process: Process | WorkerPool,
    sinks: list,
    *,
    draw: Draw | None = None,
    on_frame: OnFrame | None = None,
    max_frames: int | None = None,
    progress=None,
    workers: int = 1,
    track: TrackConfig | None = None,
) -> Summary:
    """Process every frame of every source (at most `max_frames` in all); returns the summary.

    `draw` makes the annotated image that sinks and `on_frame` receive; without it they get None.
    `workers` > 1 processes that many frames at once in threads (files only: results still come out in
    order); a `WorkerPool` as `process` does so in its worker processes.
    With `track` (enabled), each source's digits get track ids (`camrec.track`), in frame order.
    """
    summary = Summary()
    with contextlib.ExitStack() as stack:
        for sink in sinks:
            stack.enter_context(sink)
        for source in sources:
            with source:
                tracker = Tracker(track.min_iou, track.max_missed) if track is not None and track.enabled else None
                for frame, result in processed(source, process, workers):
                    if tracker is not None:
                        result = replace(result, detections=tracker.update(result.detections))
                    image = draw(frame.image, result) if draw is not None else None
                    for sink in sinks:
                        sink.write(frame, result.detections, image)
                    summary.frames += 1
                    summary.digits += len(result.detections)
                    if progress is not None:
                        progress.update(1)
                    if on_frame is not None and on_frame(frame, result, image) is False:
                        return summary
                    if max_frames is not None and summary.frames >= max_frames:
                        return summary
    return summary


def processed(
    frames: Iterable[Frame], process: Process | WorkerPool, workers: int
) -> Iterator[tuple[Frame, FrameResult]]:
    """(frame, result) in frame order. With workers > 1, OpenCV and onnxruntime release the GIL, so
    frames overlap on the cores; at most `workers + 1` frames are in flight (with a `WorkerPool`,
    `workers.FRAMES_PER_WORKER` a worker), which bounds memory."""
    if isinstance(process, WorkerPool):
        # This process's OpenCV work (each frame to gray, into the workers' memory; drawing) is small:
        # waking OpenCV's threads for it cost more than it saves.
        with opencv_threads(1):
            yield from process.processed(frames)
        return
    if workers <= 1:
        for frame in frames:
            yield frame, process(frame.image)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="process") as pool, opencv_threads(1):
        pending: deque = deque()
        ended: CamrecError | None = None
        try:
            for frame in frames:
                pending.append((frame, pool.submit(process, frame.image)))
                if len(pending) > workers:
                    done, future = pending.popleft()
                    yield done, future.result()
        # A source lost mid-run, or an image of a set that does not decode: the frames already read still
        # count, as they would have one frame at a time. Finish them first.
        except CamrecError as exc:
            ended = exc
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
        if ended is not None:
            raise ended


@contextlib.contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """OpenCV's own thread pool set to `count` threads for a while. When frames already run in parallel,
    its threads only compete with them for the cores (measured, `camrec video` on two cores in two A/B
    runs: about 1 ms less CPU per frame, 10.0 vs 11.3 and 11.4 vs 12.5 ms; 2-7 % more frames/s)."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)
