"""Live sources: a camera, a stream URL, or a video file replayed like a camera; always the newest frame."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from camrec.errors import SourceError, SourceLost
from camrec.sources.base import Frame, Source, VideoInfo, is_url, mask_credentials
from camrec.sources.files import open_capture, open_video


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
    return LiveSource(spec, str(path), lambda: open_capture(path, decode_threads=0), pace_fps=fps).open()


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
