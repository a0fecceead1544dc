"""The frame and the source interface that every source implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One frame: `image` (H, W, 3) uint8 BGR; `index` 0-based in the source; `time_s` from its start."""

    image: np.ndarray
    index: int
    time_s: float
    source: str


@dataclass(frozen=True)
class VideoInfo:
    """Read once from the source: frame size, frames per second, declared frame count (None if unknown)."""

    width: int
    height: int
    fps: float
    frame_count: int | None


class Source:
    """Base of all sources: `with source:` opens and closes; iterating yields Frames."""

    info: VideoInfo
    name: str
    opened = False

    def open(self) -> Source:
        self.opened = True
        return self

    def close(self) -> None:
        pass

    def __enter__(self) -> Source:
        return self if self.opened else self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://", "rtsp://", "rtsps://"))


def mask_credentials(url: str) -> str:
    """`rtsp://user:pass@host/x` -> `rtsp://***@host/x`: passwords never reach outputs or logs."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"
