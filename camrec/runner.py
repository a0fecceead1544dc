"""The one loop that the CLI and the windows share: frames from a source, through the pipeline, into sinks.

Sinks are entered before the first frame (so a bad output fails before any work) and always exited, on
success, error, Ctrl-C or SIGTERM alike, so that what was written stays complete.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from camrec.pipeline import FrameResult
from camrec.sources import Frame, Source

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
    process: Process,
    sinks: list,
    *,
    draw: Draw | None = None,
    on_frame: OnFrame | None = None,
    max_frames: int | None = None,
    progress=None,
) -> Summary:
    """Process every frame of every source (at most `max_frames` in all); returns the summary.

    `draw` makes the annotated image that sinks and `on_frame` receive; without it they get None.
    """
    summary = Summary()
    with contextlib.ExitStack() as stack:
        for sink in sinks:
            stack.enter_context(sink)
        for source in sources:
            with source:
                for frame in source:
                    result = process(frame.image)
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
