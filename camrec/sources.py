"""Sources: one interface for every place frames come from: video file, image, directory or glob,
camera index, stream URL, or a file replayed like a live camera.

`open_source(spec)` parses the spec (all parsing lives here) and returns a `Source`: a context manager
that opens eagerly and checks its first frame in `open()` (raising `SourceError` naming the spec), then
yields `Frame`s. Files yield every frame in order, decoded ahead by a reader thread into a small bounded
queue so that decoding and recognition overlap on two cores; nothing is ever dropped. Live sources
(`open_live`) keep only the newest frame instead, so that latency never builds up.
"""

from __future__ import annotations

import glob
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camrec.errors import SourceError, SourceLost

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
DECODE_AHEAD = 8  # frames buffered by the reader thread: enough to smooth decode jitter, little memory
SHORTFALL = 0.95  # a file whose frames end before this share of its declared count was cut short


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


class ImageSource(Source):
    """Still images: one file, every image in a directory (sorted), or a glob; each is frame 0 of itself."""

    def __init__(self, paths: list[Path], name: str) -> None:
        self.paths = paths
        self.name = name
        self.info = VideoInfo(0, 0, 0.0, len(paths))

    def open(self) -> ImageSource:
        for path in self.paths:
            if not cv2.haveImageReader(str(path)):
                raise SourceError(str(path), "not an image file OpenCV can read")
        self.opened = True
        return self

    def __iter__(self) -> Iterator[Frame]:
        for path in self.paths:
            yield Frame(read_image(path), 0, 0.0, str(path))


def read_image(path: str | Path) -> np.ndarray:
    """An image file as BGR uint8, EXIF orientation applied (as a phone photo is meant to be seen)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(str(path), "cannot decode this image (corrupt or unsupported)")
    return image


class VideoFileSource(Source):
    """Every frame of a video file in order (every `stride`-th one), decoded ahead in a reader thread."""

    def __init__(self, path: Path, stride: int = 1) -> None:
        self.path = path
        self.name = str(path)
        self.stride = stride
        self._capture: cv2.VideoCapture | None = None
        self._first: np.ndarray | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frames_seen = 0

    def open(self) -> VideoFileSource:
        # One decoding thread: the other core is busy recognising, and FFmpeg's frame threads would
        # only add hand-over work (measured: 1.95 instead of 2.2 ms of CPU per 640x480 H.264 frame).
        capture = cv2.VideoCapture(str(self.path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
        if not capture.isOpened():  # a backend that does not take the setting
            capture = cv2.VideoCapture(str(self.path))
        ok, first = capture.read() if capture.isOpened() else (False, None)
        if not ok:
            capture.release()
            raise SourceError(self.name, "not a video file OpenCV can read")
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.info = VideoInfo(
            first.shape[1], first.shape[0], fps if 0 < fps < 1000 else 30.0, count if count > 0 else None
        )
        self._capture, self._first = capture, first
        self.opened = True
        return self

    def __iter__(self) -> Iterator[Frame]:
        if not self.opened:
            self.open()
        frames: queue.Queue = queue.Queue(maxsize=DECODE_AHEAD)
        self._thread = threading.Thread(target=self._decode, args=(frames,), daemon=True, name="decode")
        self._thread.start()
        while (item := frames.get()) is not None:
            index, image = item
            yield Frame(image, index, index / self.info.fps, self.name)
        self._check_complete()

    def _decode(self, frames: queue.Queue) -> None:
        capture, image, index = self._capture, self._first, 0
        try:
            while not self._stop.is_set():
                if index % self.stride == 0:
                    _put(frames, (index, image), self._stop)
                index += 1
                if index % self.stride == 0:
                    ok, image = capture.read()
                else:  # a frame we skip is only grabbed, not converted: striding costs less than decoding
                    ok = capture.grab()
                if not ok:
                    break
            self._frames_seen = index
        finally:
            capture.release()
            _put(frames, None, self._stop)

    def _check_complete(self) -> None:
        declared = self.info.frame_count
        seen = self._frames_seen
        if declared and seen < SHORTFALL * declared - 1:
            raise SourceLost(self.name, f"frames end at {seen} of the {declared} the file declares (truncated?)")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        elif self._capture is not None:
            self._capture.release()
        self._capture = None


def _put(frames: queue.Queue, item: object, stop: threading.Event) -> None:
    """Block while the queue is full, but give up when the consumer has gone away."""
    while not stop.is_set():
        try:
            frames.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def is_glob(spec: str) -> bool:
    return any(ch in spec for ch in "*?[")


def expand_image_spec(spec: str) -> list[Path]:
    """A file, a directory (its images, sorted) or a glob to a list of image paths."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if is_glob(spec):
        return sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    return [path]


def open_video(spec: str, stride: int = 1) -> VideoFileSource:
    """A video file for `camrec video`; checks that it exists and opens (SourceError otherwise)."""
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(spec, "no such file")
    if path.is_dir():
        raise SourceError(spec, "is a directory, not a video file")
    return VideoFileSource(path, stride).open()


def open_images(spec: str) -> ImageSource:
    """Images for `camrec image`: a file, a directory or a glob; every path checked before any is read."""
    paths = expand_image_spec(spec)
    if not paths:
        raise SourceError(spec, "no images found" if Path(spec).is_dir() else "matches no image files")
    if len(paths) == 1 and not paths[0].exists():
        raise SourceError(spec, "no such file")
    return ImageSource(paths, spec).open()


class LiveSource(Source):
    """A camera, a stream URL, or a file replayed at its own frame rate, like a live camera.

    A reader thread reads continuously and keeps only the newest frame (a one-slot buffer under a
    Condition): when recognition is slower than the camera, stale frames are dropped, never queued, so
    the latency stays bounded. `index` is the capture counter (every frame read, dropped ones included),
    carried on across reconnects; `time_s` is the time since capture started. A stream that stops
    sending is reopened with back-off for up to `reconnect_s`; then iteration raises SourceLost.
    """

    def __init__(
        self, spec: str, name: str, opener, *, reconnect_s: float = 0.0, pace_fps: float | None = None
    ) -> None:
        self.spec = spec
        self.name = name
        self._opener = opener
        self._reconnect_s = reconnect_s
        self._pace_fps = pace_fps
        self._slot: tuple[int, float, np.ndarray] | None = None
        self._condition = threading.Condition()
        self._stop = threading.Event()
        self._ended: Exception | None = None
        self._finished = False
        self._thread: threading.Thread | None = None
        self._capture: cv2.VideoCapture | None = None
        self.reconnects = 0

    def open(self) -> LiveSource:
        self._capture, first = self._opener()
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.info = VideoInfo(first.shape[1], first.shape[0], fps if 0 < fps < 1000 else 30.0, None)
        self._started = time.monotonic()
        self._slot = (0, 0.0, first)
        self._thread = threading.Thread(target=self._read_forever, daemon=True, name=f"capture {self.name}")
        self._thread.start()
        self.opened = True
        return self

    def _read_forever(self) -> None:
        index = 0
        next_due = time.monotonic()
        try:
            while not self._stop.is_set():
                ok, image = self._capture.read()
                if not ok:
                    if self._pace_fps is not None:  # a replayed file that reached its end
                        return
                    self._capture = self._reconnect()
                    continue
                index += 1
                if self._pace_fps:
                    next_due += 1.0 / self._pace_fps
                    self._stop.wait(max(0.0, next_due - time.monotonic()))
                with self._condition:
                    self._slot = (index, time.monotonic() - self._started, image)
                    self._condition.notify_all()
        except Exception as exc:  # handed to the consumer, which raises it in the main thread
            self._ended = exc
        finally:
            if self._capture is not None:
                self._capture.release()
            with self._condition:
                self._finished = True
                self._condition.notify_all()

    def _reconnect(self) -> cv2.VideoCapture:
        self._capture.release()
        deadline = time.monotonic() + self._reconnect_s
        delay = 0.1
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                capture, first = self._opener()
            except SourceError:
                self._stop.wait(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 2.0)
                continue
            self.reconnects += 1
            with self._condition:
                index = self._slot[0] + 1 if self._slot else 0
                self._slot = (index, time.monotonic() - self._started, first)
                self._condition.notify_all()
            return capture
        raise SourceLost(self.name, f"stopped sending and did not come back within {self._reconnect_s:g} s")

    def __iter__(self) -> Iterator[Frame]:
        last = -1
        while True:
            with self._condition:
                while not self._finished and (self._slot is None or self._slot[0] == last):
                    self._condition.wait(timeout=0.5)
                slot = self._slot
                if slot is None or slot[0] == last:
                    break
            last = slot[0]
            yield Frame(slot[2], slot[0], slot[1], self.name)
        if self._ended is not None:
            raise self._ended

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://", "rtsp://", "rtsps://"))


def mask_credentials(url: str) -> str:
    """`rtsp://user:pass@host/x` -> `rtsp://***@host/x`: passwords never reach outputs or logs."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


def open_live(
    spec: str,
    *,
    open_timeout_s: float = 5.0,
    reconnect_s: float = 10.0,
    width: int | None = None,
    height: int | None = None,
) -> LiveSource:
    """`--source` of `camrec webcam`: a camera index, a stream URL, or a video file replayed in real time.

    URLs are never split on ':'. Raises SourceError (exit 2) when nothing opens.
    """
    spec = str(spec).strip()
    if spec.isdigit():
        index = int(spec)
        return LiveSource(spec, f"camera:{index}", lambda: _open_camera(index, width, height)).open()
    if is_url(spec):
        name = mask_credentials(spec)
        return LiveSource(spec, name, lambda: _open_stream(spec, name, open_timeout_s), reconnect_s=reconnect_s).open()
    path = Path(spec).expanduser()
    if not path.is_file():
        raise SourceError(spec, "no such camera, file or URL", "use a camera index like 0, a video file, or a URL")
    probe = open_video(spec)
    fps = probe.info.fps
    probe.close()
    return LiveSource(spec, str(path), lambda: _open_file(path), pace_fps=fps).open()


def _first_frame(capture: cv2.VideoCapture) -> np.ndarray | None:
    ok, image = capture.read() if capture.isOpened() else (False, None)
    if not ok:
        capture.release()
        return None
    return image


def _open_camera(index: int, width: int | None, height: int | None) -> tuple[cv2.VideoCapture, np.ndarray]:
    capture = cv2.VideoCapture(index)
    if capture.isOpened() and width and height:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    first = _first_frame(capture)
    if first is None:
        raise SourceError(f"camera {index}", "no such device", "try --source 0, or camrec draw")
    return capture, first


def _open_stream(url: str, name: str, timeout_s: float) -> tuple[cv2.VideoCapture, np.ndarray]:
    milliseconds = int(timeout_s * 1000)
    # Explicit timeouts: the FFmpeg backend's own default is 30 s, far too long for "is it there?".
    capture = cv2.VideoCapture(
        url,
        cv2.CAP_FFMPEG,
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, milliseconds, cv2.CAP_PROP_READ_TIMEOUT_MSEC, milliseconds],
    )
    first = _first_frame(capture)
    if first is None:
        raise SourceError(
            name,
            f"stream unreachable or not sending video (waited at most {timeout_s:g} s)",
            "check the URL and that the camera app is running",
        )
    return capture, first


def _open_file(path: Path) -> tuple[cv2.VideoCapture, np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    first = _first_frame(capture)
    if first is None:
        raise SourceError(str(path), "not a video file OpenCV can read")
    return capture, first


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
