"""Sources: one interface for every place frames come from: video file, image, directory or glob,
camera index, stream URL, or a file replayed like a live camera.

`open_source(spec)` picks the kind of source from the spec and returns a `Source`: a context manager
that opens eagerly and checks its first frame in `open()` (raising `SourceError` naming the spec), then
yields `Frame`s (`base.py`). Files (`files.py`) yield every frame in order, decoded ahead by a reader
thread into a small bounded queue so that decoding and recognition overlap on two cores; nothing is ever
dropped. Live sources (`live.py`) keep only the newest frame instead, so that latency never builds up.
"""

from __future__ import annotations

from pathlib import Path

from camrec.sources.base import Frame, Source, VideoInfo, is_url, mask_credentials
from camrec.sources.files import (
    IMAGE_SUFFIXES,
    ImageSource,
    VideoFileSource,
    expand_image_spec,
    is_glob,
    open_images,
    open_video,
    read_image,
)
from camrec.sources.live import LiveSource, open_live

__all__ = [
    "Frame",
    "ImageSource",
    "LiveSource",
    "Source",
    "VideoFileSource",
    "VideoInfo",
    "expand_image_spec",
    "is_glob",
    "is_url",
    "mask_credentials",
    "open_images",
    "open_live",
    "open_source",
    "open_video",
    "read_image",
]


def open_source(spec: str, *, live: bool = False, stride: int = 1, **live_options) -> Source:
    """The one entry point: any spec to an opened Source (SourceError, naming the spec, when it fails).

    `live=True` (camrec webcam): a camera index, a stream URL, or a file replayed at its own frame rate,
    always the newest frame. Otherwise: an image file, a directory or a glob yields images; anything
    else is a video file, every `stride`-th frame in order.
    """
    if live:
        return open_live(spec, **live_options)
    path = Path(spec).expanduser()
    if path.is_dir() or is_glob(spec) or path.suffix.lower() in IMAGE_SUFFIXES:
        return open_images(spec)
    return open_video(spec, stride)
