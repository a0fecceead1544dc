"""A small HTTP MJPEG server on 127.0.0.1 standing in for an IP camera (tests and benchmarks).

Serves `multipart/x-mixed-replace` JPEG frames at a fixed rate, looping over the frames it is given, the
way phone IP-camera apps do. `stop()` drops the connection mid-stream; `start()` again on the same port
brings the camera back. Each frame may carry a stamp (its send time) drawn in by `stamp_frame`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = "camrecframe"


class MjpegServer:
    """`MjpegServer(frames, fps).start()`; the URL is `server.url`. Binds to 127.0.0.1 only."""

    def __init__(
        self,
        frames: list[np.ndarray] | Callable[[int], np.ndarray],
        fps: float = 30.0,
        port: int = 0,
        quality: int = 85,
        max_seconds: float = 600.0,
    ) -> None:
        self.frames, self.fps, self.quality, self.max_seconds = frames, fps, quality, max_seconds
        self.port = port or free_port()
        self.sent = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video"

    def frame(self, i: int) -> np.ndarray:
        return self.frames(i) if callable(self.frames) else self.frames[i % len(self.frames)]

    def start(self) -> MjpegServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                started, i = time.monotonic(), 0
                try:
                    while server._running.is_set() and time.monotonic() - started < server.max_seconds:
                        due = started + i / server.fps
                        time.sleep(max(0.0, due - time.monotonic()))
                        _, jpeg = cv2.imencode(
                            ".jpg", server.frame(server.sent), [cv2.IMWRITE_JPEG_QUALITY, server.quality]
                        )
                        data = jpeg.tobytes()
                        self.wfile.write(
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                            + data
                            + b"\r\n"
                        )
                        server.sent += 1
                        i += 1
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._running.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._server.allow_reuse_address = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending and close the port (open connections end at their next frame)."""
        self._running.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stamp_frame(image: np.ndarray, counter: int) -> np.ndarray:
    """Encode a frame counter as 16 black/white blocks in the top-left corner (robust to JPEG)."""
    out = image.copy()
    for bit in range(16):
        value = 255 if counter >> bit & 1 else 0
        out[0:8, bit * 8 : bit * 8 + 8] = value
    return out


def read_stamp(image: np.ndarray) -> int:
    """The counter `stamp_frame` drew into a frame."""
    gray = image[0:8, 0:128].mean(axis=2) if image.ndim == 3 else image[0:8, 0:128]
    return sum(1 << bit for bit in range(16) if gray[2:6, bit * 8 + 2 : bit * 8 + 6].mean() > 127)
