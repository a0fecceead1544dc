"""Videos that OpenCV's own FFmpeg cannot decode, decoded by the system's `ffmpeg` through a pipe.

The opencv-python wheels carry an FFmpeg without a software AV1 decoder: an AV1 video (what YouTube serves,
what screen recorders and some phones write) opens, but no frame comes out ("Your platform doesn't
support hardware accelerated AV1 decoding", opencv/opencv-python#908). A system ffmpeg decodes it, and
whatever else it was built for. `FFmpegCapture` stands in for the part of `cv2.VideoCapture` that the
video sources use: `read`, `grab`, `get` (frames per second, frame count) and `release`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

PROBE_TIMEOUT_S = 10.0  # ffprobe reads the header only; a file it hangs on is not worth waiting for


class FFmpegCapture:
    """The frames of `path` as BGR uint8, upright (ffmpeg turns them as the file's rotation says, as OpenCV
    does), from an `ffmpeg` process writing raw frames to a pipe. Its own session, so that Ctrl-C reaches
    camrec only and camrec ends it."""

    def __init__(self, path: Path, stream: tuple[int, int, float, int], threads: int = 1) -> None:
        """`stream` as `probe` finds it; `threads` 0 leaves the count to ffmpeg."""
        self.width, self.height, self.fps, self.frame_count = stream
        command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-threads", str(threads), "-i", str(path),
                   "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._scratch = np.empty((self.height, self.width, 3), np.uint8)  # where `grab` reads the frames it skips

    @classmethod
    def open(cls, path: Path, threads: int = 1) -> FFmpegCapture | None:
        """The capture, or None: no ffmpeg and ffprobe on PATH, or no video stream they can read."""
        if shutil.which("ffmpeg") is None or (stream := probe(path)) is None:
            return None
        try:
            return cls(path, stream, threads)
        except OSError:  # an ffmpeg on PATH that cannot run
            return None

    def read(self) -> tuple[bool, np.ndarray | None]:
        image = np.empty((self.height, self.width, 3), np.uint8)
        return (True, image) if self._fill(image) else (False, None)

    def grab(self) -> bool:
        return self._fill(self._scratch)

    def _fill(self, image: np.ndarray) -> bool:
        """Read one whole frame into `image`; False at the end of the stream (or of a frame cut short)."""
        if self._process.stdout is None:
            return False
        return self._process.stdout.readinto(memoryview(image).cast("B")) == image.nbytes

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_FRAME_COUNT: self.frame_count}.get(prop, 0.0)

    def release(self) -> None:
        if self._process.stdout is None:
            return
        self._process.kill()
        self._process.stdout.close()
        self._process.stdout = None
        self._process.wait()


def probe(path: Path) -> tuple[int, int, float, int] | None:
    """The first video stream's upright width and height, frames per second and frame count (0 when the
    file does not say), from `ffprobe`; None when there is no ffprobe or no video stream."""
    if shutil.which("ffprobe") is None:
        return None
    command = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-of", "json", "-show_entries",
               "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames:stream_side_data=rotation"
               ":format=duration", str(path)]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
        found = json.loads(done.stdout or "{}")
    except (subprocess.TimeoutExpired, OSError, ValueError):
        return None
    streams = found.get("streams") or [{}]
    stream = streams[0]
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        return None
    rotation = next((int(side["rotation"]) for side in stream.get("side_data_list", []) if "rotation" in side), 0)
    if rotation % 180:  # a phone held upright: stored on its side
        width, height = height, width
    fps = rate(stream.get("avg_frame_rate")) or rate(stream.get("r_frame_rate")) or 30.0
    frames = int(stream.get("nb_frames") or 0)
    if not frames:  # Matroska and WebM do not count their frames: the duration says how many there are
        frames = round(float(found.get("format", {}).get("duration") or 0) * fps)
    return width, height, fps, frames


def rate(text: str | None) -> float:
    """ffprobe's "30000/1001" as frames per second; 0 for "0/0" or nothing."""
    try:
        return float(Fraction(text)) if text else 0.0
    except (ValueError, ZeroDivisionError):
        return 0.0
