"""Files: still images (a file, a directory, a glob; a PDF's pages) and video files, every frame in order.

A video file is decoded ahead by a reader thread into a small bounded queue, so that decoding and
recognition overlap on two cores; nothing is ever dropped.
"""

from __future__ import annotations

import glob
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from camrec.errors import SourceError, SourceLost
from camrec.native import stderr_captured
from camrec.sources.base import Frame, Source, VideoInfo, is_url, mask_credentials
from camrec.sources.ffmpeg import FFmpegCapture

HEIF_SUFFIXES = {".heic", ".heif"}  # what iPhones and many Android phones save photos as; OpenCV cannot read them
PDF_SUFFIX = ".pdf"  # what scanners and phone scanner apps save a worksheet as; each page is an image
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"} | HEIF_SUFFIXES
# JPEGs that a browser on Windows saves as .jfif (or .jpe), AVIF photos, JPEG 2000 scans: OpenCV reads them all.
IMAGE_SUFFIXES |= {".jfif", ".jpe", ".avif", ".jp2", PDF_SUFFIX}
# A video given to `camrec image`, or an image to `camrec video`, gets a line saying which command reads it:
# OpenCV reads a PNG or a PDF as a one-frame video, without the finer levels that find a page's small digits.
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts"}
# Pages are drawn at the resolution scanners store A4 at (2480x3508 px), where the finer detection levels
# read a worksheet's 6 mm digits, but never longer than a big phone photo (a poster-sized page).
PDF_DPI = 300
PDF_MAX_SIDE = 8000
ALPHA_SUFFIXES = {".png", ".webp", ".tif", ".tiff"}  # formats that may carry transparency
DECODE_AHEAD = 8  # frames buffered by the reader thread: enough to smooth decode jitter, little memory
SHORTFALL = 0.95  # a file whose frames end before this share of its declared count was cut short


class ImageSource(Source):
    """Still images: one file, every image in a directory (sorted), or a glob; each is frame 0 of itself,
    but for a PDF, whose pages are its frames 0, 1, ..."""

    def __init__(self, paths: list[Path], name: str) -> None:
        self.paths = paths
        self.name = name
        self.info = VideoInfo(0, 0, 0.0, len(paths))
        self.frame_counts: list[int] = []  # per path, once opened: 1, or a PDF's pages

    def open(self) -> ImageSource:
        self.frame_counts = []
        for path in self.paths:
            suffix = path.suffix.lower()
            if suffix == PDF_SUFFIX:
                self.frame_counts.append(count_pdf_pages(path))
                continue
            if suffix in VIDEO_SUFFIXES:
                raise SourceError(str(path), "a video, not an image", "use camrec video")
            if suffix in HEIF_SUFFIXES:
                check_heif(path)
            elif not cv2.haveImageReader(str(path)):
                raise SourceError(str(path), "not an image file OpenCV can read")
            self.frame_counts.append(1)
        self.info = VideoInfo(0, 0, 0.0, sum(self.frame_counts))
        self.opened = True
        return self

    def frame_keys(self) -> list[tuple[str, int]]:
        """(source, index) of every frame it will yield, as its `Frame`s name them; once opened."""
        return [(str(path), index) for path, count in zip(self.paths, self.frame_counts) for index in range(count)]

    def __iter__(self) -> Iterator[Frame]:
        for path in self.paths:
            if path.suffix.lower() == PDF_SUFFIX:
                for page, image in enumerate(read_pdf_pages(path)):
                    yield Frame(image, page, 0.0, str(path))
            else:
                yield Frame(read_image(path), 0, 0.0, str(path))


def read_image(path: str | Path) -> np.ndarray:
    """An image file as BGR uint8, EXIF orientation applied (as a phone photo is meant to be seen), and
    transparent pixels white (as a viewer shows them). A PDF of one page is that page."""
    suffix = Path(path).suffix.lower()
    if suffix in HEIF_SUFFIXES:
        return read_heif(Path(path))
    if suffix == PDF_SUFFIX:
        return read_pdf_page(Path(path))
    image = decoded(path, cv2.IMREAD_COLOR)
    if suffix in ALPHA_SUFFIXES:
        image = on_white(image, decoded(path, cv2.IMREAD_UNCHANGED))
    return image


def decoded(path: str | Path, flags: int) -> np.ndarray:
    """`cv2.imread`, its decoder's own warnings kept off stderr. libjpeg decodes a JPEG cut short (a copy
    that broke off) into an image whose missing part is flat grey, saying so only there: such a file is
    as corrupt as one that does not decode at all."""
    with stderr_captured() as said:
        image = cv2.imread(str(path), flags)
    if image is None:
        raise SourceError(str(path), "cannot decode this image (corrupt or unsupported)")
    if "Premature end of JPEG file" in said.text:
        raise SourceError(str(path), "cannot decode this image (cut short: only part of it is there)")
    return image


def on_white(image: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """`image` (BGR uint8) laid over white where `raw`, the same file read as stored, is transparent.

    Drawing apps export a digit as dark strokes on a transparent sheet whose hidden colour is black; OpenCV
    drops the alpha channel and the sheet turns as black as the strokes.
    """
    if raw.ndim != 3 or raw.shape[2] != 4 or raw.shape[:2] != image.shape[:2]:
        return image  # no alpha channel (or a rotated photo, which has none)
    alpha = raw[:, :, 3].astype(np.float32) / np.iinfo(raw.dtype).max if raw.dtype.kind == "u" else raw[:, :, 3]
    if alpha.min() >= 1:
        return image
    alpha = alpha[:, :, None]
    return (image * alpha + 255 * (1 - alpha) + 0.5).astype(np.uint8)


def pillow_heif_for(path: Path):
    """The pillow-heif module, imported only now: most runs never meet a HEIC file, and it adds to start-up."""
    try:
        import pillow_heif
    except ImportError:
        raise SourceError(str(path), "HEIC/HEIF photos need pillow-heif", "pip install pillow-heif") from None
    return pillow_heif


def check_heif(path: Path) -> None:
    """A HEIC/HEIF photo can be read: pillow-heif is installed and the file starts like one."""
    pillow_heif = pillow_heif_for(path)  # first: without it no HEIC file can be read, whatever this one is
    if not path.is_file() or not pillow_heif.is_supported(str(path)):
        raise SourceError(str(path), "not a HEIC/HEIF image")


def read_heif(path: Path) -> np.ndarray:
    """A HEIC/HEIF photo as BGR uint8, upright (libheif applies the rotation and mirroring the phone stored),
    transparent pixels white."""
    try:
        photo = pillow_heif_for(path).open_heif(str(path), convert_hdr_to_8bit=True, bgr_mode=True)
        image = np.asarray(photo)
    except (ValueError, RuntimeError, OSError):  # libheif's errors for a damaged, truncated or missing file
        raise SourceError(str(path), "cannot decode this image (corrupt or unsupported)") from None
    if image.ndim == 3 and image.shape[2] == 4:  # with an alpha channel: transparent is white, as for a PNG
        image = on_white(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), image)
    return np.ascontiguousarray(image)


def pypdfium2_for(path: Path):
    """The pypdfium2 module, imported only now, as pillow-heif is: most runs never meet a PDF."""
    try:
        import pypdfium2
    except ImportError:
        raise SourceError(str(path), "PDF files need pypdfium2", "pip install pypdfium2") from None
    return pypdfium2


def open_pdf(path: Path):
    """The PDF document (pypdfium2's), or SourceError: missing, damaged, password-protected."""
    pdfium = pypdfium2_for(path)
    if not path.is_file():
        raise SourceError(str(path), "no such file")
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:  # PDFium says which: a format error, a password wanted, ...
        raise SourceError(str(path), "cannot open this PDF (damaged, or protected by a password)") from None


def count_pdf_pages(path: Path) -> int:
    """How many pages a readable PDF has (at least one, else SourceError)."""
    document = open_pdf(path)
    try:
        pages = len(document)
    finally:
        document.close()
    if pages == 0:
        raise SourceError(str(path), "a PDF with no pages")
    return pages


def read_pdf_pages(path: Path) -> Iterator[np.ndarray]:
    """Each page of a PDF as BGR uint8, upright, on white paper, at PDF_DPI (or smaller for a huge page)."""
    document = open_pdf(path)
    try:
        for index in range(len(document)):
            yield draw_pdf_page(path, document, index)
    finally:
        document.close()


def read_pdf_page(path: Path) -> np.ndarray:
    """The page of a one-page PDF, as `read_pdf_pages` draws it; SourceError for a PDF of more pages."""
    document = open_pdf(path)
    try:
        if (pages := len(document)) != 1:
            raise SourceError(str(path), f"a PDF of {pages} pages, not one image", "camrec image reads every page")
        return draw_pdf_page(path, document, 0)
    finally:
        document.close()


def draw_pdf_page(path: Path, document, index: int) -> np.ndarray:
    """Page `index` of an open PDF document as BGR uint8, at PDF_DPI (or smaller for a huge page)."""
    pdfium = pypdfium2_for(path)
    page = document[index]
    try:
        width_pt, height_pt = page.get_size()  # 1/72 inch
        scale = min(PDF_DPI / 72, PDF_MAX_SIDE / max(width_pt, height_pt, 1.0))
        image = np.array(page.render(scale=scale, fill_color=(255, 255, 255, 255)).to_numpy())
    except pdfium.PdfiumError:
        raise SourceError(str(path), f"cannot draw page {index + 1} of this PDF (damaged?)") from None
    finally:
        page.close()
    return image if image.ndim == 3 and image.shape[2] == 3 else to_bgr(image)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """A gray or BGRA uint8 image as BGR."""
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR if image.ndim == 2 else cv2.COLOR_BGRA2BGR)


def open_capture(path: Path, decode_threads: int = 1) -> tuple[cv2.VideoCapture | FFmpegCapture, np.ndarray]:
    """A video file's capture and its first frame: OpenCV's, else the system ffmpeg's (`FFmpegCapture`) for
    a codec that OpenCV's own FFmpeg lacks (AV1); SourceError when neither gives a frame.

    `decode_threads` 0 leaves it to the decoder. `camrec video` decodes on one thread: the other core is
    busy recognising, and FFmpeg's frame threads would only add hand-over work (measured: 1.95 instead of
    2.2 ms of CPU per 640x480 H.264 frame). A file replayed like a camera keeps up with its own frame rate.
    """
    capture = cv2.VideoCapture(str(path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, decode_threads])
    if not capture.isOpened():  # a backend that does not take the setting
        capture = cv2.VideoCapture(str(path))
    ok, first = capture.read() if capture.isOpened() else (False, None)
    if ok:
        return capture, first
    codec = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("latin-1").lower()
    capture.release()
    fallback = FFmpegCapture.open(path, decode_threads)
    if fallback is not None:
        ok, first = fallback.read()
        if ok:
            return fallback, first
        fallback.release()
        raise SourceError(str(path), "not a video file OpenCV or ffmpeg can read")
    if codec == "av01":
        raise SourceError(str(path), "an AV1 video, which OpenCV cannot decode", "install ffmpeg; camrec then uses it")
    raise SourceError(str(path), "not a video file OpenCV can read")


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
        capture, first = open_capture(self.path)
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
    """A file, a directory (its images and PDFs, sorted) or a glob to a list of image paths."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if is_glob(spec):
        return sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    return [path]


def not_a_stream(spec: str) -> None:
    """SourceError for a stream URL given where files are read: it names the command that reads streams,
    rather than calling the URL a missing file."""
    if is_url(spec):
        raise SourceError(
            mask_credentials(spec), "a stream, not a file", "camrec webcam --source URL --no-show reads it headless"
        )


def open_video(spec: str, stride: int = 1) -> VideoFileSource:
    """A video file for `camrec video`; checks that it exists and opens (SourceError otherwise)."""
    not_a_stream(spec)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(spec, "no such file")
    if path.is_dir():
        raise SourceError(spec, "is a directory, not a video file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise SourceError(spec, "an image, not a video", "use camrec image")
    return VideoFileSource(path, stride).open()


def open_images(spec: str) -> ImageSource:
    """Images for `camrec image`: a file, a directory or a glob; every path checked before any is read."""
    not_a_stream(spec)
    paths = expand_image_spec(spec)
    if not paths:
        raise SourceError(spec, "no images found" if Path(spec).is_dir() else "matches no image files")
    if len(paths) == 1 and not paths[0].exists():
        raise SourceError(spec, "no such file")
    return ImageSource(paths, spec).open()
