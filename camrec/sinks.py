"""Outputs: JSON Lines and CSV sinks, context managers that write and flush one frame at a time.

Each sink checks its path in `__enter__` (fail fast, never overwrite without being told) and closes in
`__exit__`, so an exception, Ctrl-C or SIGTERM leaves every completed frame on disk.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from camrec.detections import Detections
from camrec.errors import OutputFailed, SinkError
from camrec.numbers import number_records

CSV_HEADER = ("source", "frame", "time_s", "digit", "confidence", "x", "y", "w", "h")


def check_writable(path: str | Path, overwrite: bool) -> Path:
    """Raise SinkError when `path` exists (without `overwrite`), its folder does not, or no file can be made
    there (a read-only folder, /proc): tried by opening it for appending and removing it if it was new, so
    that an output written only from its first frame on (a video through ffmpeg) fails before any frame."""
    path = Path(path)
    existed = path.exists()
    if existed and not overwrite:
        raise SinkError(str(path), "already exists", "use --overwrite to replace it")
    if not path.parent.is_dir():
        raise SinkError(str(path), "its folder does not exist")
    if path.is_dir():
        raise SinkError(str(path), "is a directory")
    if existed and not path.is_file():
        return path  # a device or a named pipe: opening it here would wait for a reader, or be its EOF
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise SinkError(str(path), f"cannot write ({exc.strerror or exc})") from None
    if not existed:
        path.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def writing_to(path: str) -> Iterator[None]:
    """A write that fails mid-run (a full disk) as OutputFailed naming the file. On stdout (`-`) a closed
    pipe stays a BrokenPipeError: `--json - | head` ends quietly (`cli.run_guarded`)."""
    try:
        yield
    except OSError as exc:
        if path == "-":
            raise
        raise OutputFailed(path, f"cannot write ({exc.strerror or exc})") from None


def check_each_once(outputs: dict[str, str | None]) -> None:
    """SinkError when two options (`{"--json": "out.txt", "--csv": "out.txt"}`) name one file, or both stdout:
    their lines would be interleaved, and the first would make the file that the second then finds existing."""
    named: dict[str, str] = {}
    for option, target in outputs.items():
        if not target:
            continue
        key = "-" if target == "-" else str(Path(target).expanduser().resolve())
        if key in named:
            subject = "stdout" if key == "-" else target
            raise SinkError(subject, f"named by both {named[key]} and {option}", "give each output its own place")
        named[key] = option


def written_paths(sinks: list) -> list[str]:
    """What sinks wrote, for the closing summary line: their files and folders, and "stdout" for `-`. A video
    that no frame reached (`--max-frames` ended the run before its input) was never made."""
    written = [sink for sink in sinks if getattr(sink, "made", True)]
    return ["stdout" if str(sink.path) == "-" else str(sink.path) for sink in written]


def frame_record(frame: Any, detections: Detections) -> dict:
    """One JSON Lines object: where the frame came from, the digits found in it and the numbers they make."""
    return {
        "source": frame.source,
        "frame": frame.index,
        "time_s": round(frame.time_s, 3),
        "detections": detections.to_records(),
        "numbers": number_records(detections),
    }


class _TextSink:
    """A text file or stdout (`-`), opened in `__enter__`, closed (never stdout) in `__exit__`."""

    def __init__(self, path: str | Path, overwrite: bool = False) -> None:
        self.path = str(path)
        self.overwrite = overwrite
        self._file: IO[str] | None = None

    def check(self) -> None:
        """Fail before any frame is processed when the output cannot be written."""
        if self.path != "-":
            check_writable(self.path, self.overwrite)

    def __enter__(self):
        self.check()
        if self.path == "-":
            self._file = sys.stdout
        else:
            try:
                self._file = open(self.path, "w", newline="", encoding="utf-8")
            except OSError as exc:
                raise SinkError(self.path, f"cannot write ({exc.strerror})") from None
        self._started()
        return self

    def _started(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None and self._file is not sys.stdout:
            # Closing flushes what a failed write left behind, and fails again: the first error is the one to tell.
            with writing_to(self.path) if exc_info[0] is None else contextlib.suppress(OSError):
                self._file.close()
        self._file = None


class JsonlSink(_TextSink):
    """JSON Lines: one object per frame (CONTRACT.md), flushed as written."""

    def write(self, frame: Any, detections: Detections, image: Any = None) -> None:
        self.write_record(frame_record(frame, detections))

    def write_record(self, record: dict) -> None:
        assert self._file is not None, "write outside 'with'"
        with writing_to(self.path):
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()


class CsvSink(_TextSink):
    """CSV: one row per detection under a fixed header; a frame with nothing found writes no row."""

    def _started(self) -> None:
        self._writer = csv.writer(self._file)
        with writing_to(self.path):
            self._writer.writerow(CSV_HEADER)
            self._file.flush()

    def write(self, frame: Any, detections: Detections, image: Any = None) -> None:
        with writing_to(self.path):
            for record in detections.to_records():
                self._writer.writerow(
                    [
                        frame.source,
                        frame.index,
                        round(frame.time_s, 3),
                        record["digit"],
                        record["confidence"],
                        *record["box"],
                    ]
                )
            self._file.flush()


VIDEO_CODECS = {".avi": "MJPG", ".mp4": "mp4v", ".mov": "mp4v", ".mkv": "MJPG"}
H264_SUFFIXES = {".mp4", ".mov"}  # written as H.264 when a system ffmpeg is there (`.mov`: what Macs play)


def h264_encoder(path: str | Path, width: int, height: int, fps: float, crf: int = 23):
    """A system `ffmpeg` reading BGR frames on stdin and writing H.264 `path` (OpenCV's wheels cannot).

    Its own session, so that Ctrl-C reaches camrec only and camrec closes the file properly.
    """
    import subprocess

    command = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}",
               "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
               "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)]  # fmt: skip
    return subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)


class VideoSink:
    """An annotated video. `.mp4` and `.mov` are H.264 through the system ffmpeg when there is one (OpenCV's
    wheels cannot encode H.264), else MPEG-4 Part 2; `.avi` is MJPEG, which survives a hard kill frame by frame.
    The writer opens at the first image, whose size is the truth."""

    def __init__(self, path: str | Path, fps: float, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.fps = fps if fps and fps > 0 else 30.0
        self.overwrite = overwrite
        self._writer: Any = None
        self._ffmpeg: Any = None
        self.frames = 0

    def check(self) -> None:
        if self.path.suffix.lower() not in VIDEO_CODECS:
            raise SinkError(str(self.path), "unknown video type", f"use one of {', '.join(sorted(VIDEO_CODECS))}")
        check_writable(self.path, self.overwrite)

    def __enter__(self) -> VideoSink:
        self.check()
        return self

    def write(self, frame: Any, detections: Detections, image: Any = None) -> None:
        if image is None:
            return
        if self._writer is None and self._ffmpeg is None:
            self._open(image.shape[1], image.shape[0])
        if self._ffmpeg is not None:
            try:
                self._ffmpeg.stdin.write(image.tobytes())
            except OSError:  # ffmpeg ended: a full disk, or it could not write the file
                status = self._ffmpeg.wait()
                raise OutputFailed(str(self.path), f"ffmpeg stopped writing it (exit status {status})") from None
        else:
            self._writer.write(image)
        self.frames += 1

    @property
    def made(self) -> bool:
        """Whether the file was made: it opens at the first frame."""
        return self.frames > 0

    def _open(self, width: int, height: int) -> None:
        import shutil

        if self.path.suffix.lower() in H264_SUFFIXES and shutil.which("ffmpeg"):
            self._ffmpeg = h264_encoder(self.path, width, height, self.fps)
            return
        import cv2

        fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[self.path.suffix.lower()])
        self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (width, height))
        if not self._writer.isOpened():
            raise SinkError(str(self.path), "OpenCV cannot write this video")

    def __exit__(self, *exc_info: object) -> None:
        ffmpeg, self._ffmpeg = self._ffmpeg, None
        if self._writer is not None:
            self._writer.release()
        self._writer = None
        if ffmpeg is None:
            return
        with contextlib.suppress(OSError):  # it may have ended already (OutputFailed says so)
            ffmpeg.stdin.close()
        # A run that ended well but whose video did not (a full disk while ffmpeg wrote its last frames) fails.
        if ffmpeg.wait() and exc_info[0] is None:
            raise OutputFailed(str(self.path), f"ffmpeg could not finish it (exit status {ffmpeg.returncode})")


PHOTO_SUFFIXES = {".jpg", ".jpeg", ".jfif", ".jpe", ".heic", ".heif", ".avif"}  # what cameras and phones save photos as
PHOTO_QUALITY = 95  # JPEG quality of an annotated photo: its labels' edges stay crisp
# `camrec image PAGE --save NAME` with one of these: NAME is the annotated image itself, not a directory.
IMAGE_FILE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def write_image(target: Path, image: Any) -> None:
    """One annotated image, over whatever its sink's check let stand there; a JPEG at PHOTO_QUALITY."""
    import cv2

    jpeg = target.suffix.lower() in (".jpg", ".jpeg")
    if not cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, PHOTO_QUALITY] if jpeg else []):
        # Checked before the first frame, so it stopped taking writes mid-run: a full disk, a folder gone.
        reason = "its folder is gone" if not target.parent.is_dir() else "cannot write this image"
        raise OutputFailed(str(target), reason)


def annotated_name(source: str, index: int) -> str:
    """The file name of an image's annotated copy: `NAME_out.jpg` for a photo (JPEG, HEIC), `NAME_out.png`
    for anything else (a drawing, a scan), `NAME_pageK_out.png` for a PDF's page K (index K - 1)."""
    path = Path(source)
    page = f"_page{index + 1}" if path.suffix.lower() == ".pdf" else ""
    # A photo's annotated copy is a JPEG too: as PNG, a 12-megapixel one takes 14 MB and 0.35 s to write.
    suffix = ".jpg" if path.suffix.lower() in PHOTO_SUFFIXES else ".png"
    return f"{path.stem}{page}_out{suffix}"


class ImageDirSink:
    """Annotated images into a directory, one file per input image (per page of a PDF), named after it
    (`annotated_name`). `frames`: the (source, index) of every image to save. An existing file among them
    (without `overwrite`), or two inputs that would be saved under one name (`a/page.png` and `b/page.png`),
    fail before any is read."""

    def __init__(self, folder: str | Path, frames: list[tuple[str, int]], overwrite: bool = False) -> None:
        self.folder = self.path = Path(folder)
        self.overwrite = overwrite
        self.frames = list(frames)

    def check(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise SinkError(str(self.folder), "is a file, not a directory")
        named: dict[str, str] = {}
        for source, index in self.frames:
            name = annotated_name(source, index)
            if named.setdefault(name, source) != source:
                raise SinkError(str(self.folder / name), f"both {named[name]} and {source} would be saved as it")
            if (self.folder / name).is_dir():
                raise SinkError(str(self.folder / name), "is a directory, where its annotated copy would go")
            if not self.overwrite and (self.folder / name).exists():
                raise SinkError(str(self.folder / name), "already exists", "use --overwrite to replace it")

    def __enter__(self) -> ImageDirSink:
        self.check()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(str(self.folder), f"cannot make this folder ({exc.strerror or exc})") from None
        return self

    def write(self, frame: Any, detections: Detections, image: Any = None) -> None:
        if image is not None:
            # Checked before the first frame, so a file found there now is this run's own: the same image given
            # twice (by name and by a glob) is saved once, over itself.
            write_image(self.folder / annotated_name(frame.source, frame.index), image)

    def __exit__(self, *exc_info: object) -> None:
        pass


class ImageFileSink:
    """The annotated image of `camrec image PAGE --save NAME.png` (or .jpg, ...): that file itself."""

    def __init__(self, path: str | Path, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.overwrite = overwrite

    def check(self) -> None:
        check_writable(self.path, self.overwrite)

    def __enter__(self) -> ImageFileSink:
        self.check()
        return self

    def write(self, frame: Any, detections: Detections, image: Any = None) -> None:
        if image is not None:
            write_image(self.path, image)  # checked before the first frame

    def __exit__(self, *exc_info: object) -> None:
        pass
