"""Worker processes: frames of a video or an image set recognised side by side, each worker with its own
interpreter, GIL and model.

Why processes: with two worker threads the Python parts of two frames queue on one GIL, and the two cores
were only 83 % busy (`camrec video`, 600 frames: 10.1 s of CPU in 6.1 s). In processes nothing queues:
`benchmarks/throughput.py` in the same hour, 0.223 times bare decoding with threads (15 runs), 0.257 with
processes (25 runs), the same JSON lines.

How, without pickle: a worker is `python -m camrec.workers`. It reads its setup as one JSON line on stdin
(the config, the model path, its frame slots), loads the model and says it is ready. The frames travel
through shared memory in gray, all the pipeline reads (a third of a colour frame: 48 MB a slot rather than
144 for a 48-megapixel photo): a few slots (`memfd`s, or unlinked temporary files where there is
none), handed to every worker as file descriptors when it starts. A frame's request on the worker's stdin
names its slot and size; the worker answers on its stdout with the detections as raw arrays. Each worker
answers in the order it was asked, so the results come back in frame order.

A worker runs in a session of its own, so that Ctrl-C at the terminal reaches the main process only, which
decides how the run ends; a worker ends when its stdin closes, so it also ends when the main process is
killed. A worker that answers nothing for `process.stall_s` seconds (stopped, or stuck in a library) is
killed and the run ends with its one line: a script never waits on it for ever.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from camrec import errors
from camrec.config import Config, as_dict, from_dict
from camrec.detections import Detections
from camrec.errors import CamrecError
from camrec.pipeline import FrameResult, load_recognizer, to_gray
from camrec.sources import Frame

REQUEST = struct.Struct("<III")  # slot, height, width of a gray frame
COUNT = struct.Struct("<i")  # detections that follow; -1: an error, as a length and a JSON object
LENGTH = struct.Struct("<I")
# Box int32 x4, digit int64, confidence float32, 10 probabilities, the grid cell it was written in (int64).
BYTES_PER_DETECTION = 4 * 4 + 8 + 4 + 10 * 4 + 8
# In flight per worker: one being read, two waiting, so that a worker never idles while the main process is
# held up (a slow frame to decode, the host's other work). Paired runs of `camrec video`, 1,000 frames,
# 16 pairs: 3 read 6 % more frames/s than 2 in the median (12 pairs of 16 faster); 4 no more than 3.
FRAMES_PER_WORKER = 3
FIRST_SLOT_BYTES = 640 * 480  # slots grow when a frame is bigger
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])

log = logging.getLogger(__name__)


class WorkerError(CamrecError):
    """A worker process ended without finishing its frames."""

    exit_code = 1


def can_start() -> bool:
    """Worker processes need file descriptors that children can inherit (not on Windows), and a Python
    interpreter to start them with (not in an embedded one)."""
    return os.name == "posix" and bool(sys.executable)


class Slot:
    """One gray frame's worth of shared memory, mapped in this process; grows when a frame does not fit."""

    def __init__(self, size: int) -> None:
        self.fd = _anonymous_file()
        os.ftruncate(self.fd, size)
        self.map = mmap.mmap(self.fd, size)

    def put(self, image: np.ndarray) -> None:
        """The frame in gray, converted straight into the slot (no copy of the colour frame)."""
        if image.dtype != np.uint8:  # what every source yields, and all a worker reads
            raise ValueError(f"frames must be uint8, got {image.dtype}")
        height, width = image.shape[:2]
        if height * width > len(self.map):
            os.ftruncate(self.fd, height * width)
            self.map.close()
            self.map = mmap.mmap(self.fd, height * width)
        to_gray(image, out=np.ndarray((height, width), np.uint8, self.map))

    def close(self) -> None:
        self.map.close()
        os.close(self.fd)


def _anonymous_file() -> int:
    """A file descriptor of memory with no name: nothing is left behind, however the run ends."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("camrec-frame")
    handle, path = tempfile.mkstemp(prefix="camrec-frame-")
    os.unlink(path)
    return handle


class Worker:
    """The main process's end of one worker process: send a frame, read back its detections, in order."""

    def __init__(self, setup: dict, slots: list[Slot], debug: bool, stall_s: float) -> None:
        """`stall_s` (`process.stall_s`): how long to wait for any byte of an answer before the worker counts
        as stuck."""
        env = dict(os.environ)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")  # read when numpy loads, before the worker's own settings
        # The worker imports camrec from where this process did, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "camrec.workers", *(["--debug"] if debug else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,  # answers are read with a deadline (`_read`): no bytes may wait unseen in a buffer
            pass_fds=[slot.fd for slot in slots],
            env=env,
            start_new_session=True,  # out of the terminal's process group: Ctrl-C reaches the main process only
        )
        self.asked, self.stall_s = 0, stall_s
        self._send(json.dumps(setup).encode() + b"\n")

    def ask(self, slot: int, image: np.ndarray) -> None:
        self._send(REQUEST.pack(slot, *image.shape[:2]))
        self.asked += 1

    def answer(self) -> Detections:
        """The detections of the oldest frame asked for; raises the worker's own error, or WorkerError."""
        detections = self._reply()
        self.asked -= 1
        return detections

    def ready(self) -> None:
        """Wait until the worker has loaded its model; raises its error (a bad model file) if it could not."""
        self._reply()  # an empty answer to no request

    def _reply(self) -> Detections:
        (count,) = COUNT.unpack(self._read(COUNT.size))
        if count < 0:
            raise _error_from(json.loads(self._read(LENGTH.unpack(self._read(LENGTH.size))[0])))
        return _detections_from(self._read(count * BYTES_PER_DETECTION), count)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # the worker's signal to finish
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:  # unbuffered: a write may take only part of it
                view = view[self.process.stdin.write(view) :]
        except (BrokenPipeError, OSError):
            raise self._ended() from None

    def _read(self, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            ready, _, _ = select.select([self.process.stdout], [], [], self.stall_s)
            if not ready:
                self.process.kill()
                raise WorkerError(
                    "worker process",
                    f"answered nothing for {self.stall_s:g} s and was stopped",
                    "a frame that takes longer needs a higher --set process.stall_s",
                )
            chunk = self.process.stdout.read(size - len(data))
            if not chunk:
                raise self._ended()
            data += chunk
        return bytes(data)

    def _ended(self) -> WorkerError:
        code = self.process.wait()
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        return WorkerError(
            "worker process",
            f"ended unexpectedly ({how})",
            "--set process.parallel=threads reads frames in one process",
        )


class WorkerPool:
    """`workers` processes, each with the pipeline of `config` and the model at `model_path`.

    `with WorkerPool(...) as pool: for frame, result in pool.processed(frames)`: results in frame order;
    a result holds the detections only (`FrameResult.found` and the other debug parts are None).
    """

    def __init__(self, config: Config, model_path: str | os.PathLike, workers: int, debug: bool = False) -> None:
        """`debug`: the workers print their tracebacks and library logs on stderr, as `--debug` asks."""
        self.config, self.model_path, self.count, self.debug = config, str(model_path), workers, debug
        self.slots: list[Slot] = []
        self.workers: list[Worker] = []

    def __enter__(self) -> WorkerPool:
        try:
            self.slots = [Slot(FIRST_SLOT_BYTES) for _ in range(FRAMES_PER_WORKER * self.count)]
            setup = {"config": as_dict(self.config), "model": self.model_path, "slots": [s.fd for s in self.slots]}
            stall_s = self.config.process.stall_s
            self.workers = [Worker(setup, self.slots, self.debug, stall_s) for _ in range(self.count)]
            for worker in self.workers:
                worker.ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        for worker in self.workers:
            worker.close()
        for slot in self.slots:
            slot.close()
        self.workers, self.slots = [], []

    def processed(self, frames: Iterable[Frame]) -> Iterator[tuple[Frame, FrameResult]]:
        """(frame, result) in frame order; a source that fails mid-run first yields the frames it gave."""
        pending: deque[tuple[Frame, Worker, int]] = deque()
        free = list(range(len(self.slots)))
        ended: CamrecError | None = None
        frames = iter(frames)
        try:
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except CamrecError as exc:  # a source lost mid-run: the frames it gave still count
                    ended = exc
                    break
                if not free:
                    yield self._collect(pending, free)
                slot = free.pop()
                self.slots[slot].put(frame.image)
                worker = min(self.workers, key=lambda w: w.asked)  # the least busy, so that none idles
                worker.ask(slot, frame.image)
                pending.append((frame, worker, slot))
            while pending:
                yield self._collect(pending, free)
        except GeneratorExit:
            # The reader stopped early (`--max-frames`): take the answers still owed, so that the next
            # source's first answer is its own. A worker that failed meanwhile owes none, and the run is
            # ending anyway: its error must not mask why.
            with contextlib.suppress(CamrecError):
                while pending:
                    self._collect(pending, free)
            raise
        if ended is not None:
            raise ended

    def _collect(self, pending: deque, free: list[int]) -> tuple[Frame, FrameResult]:
        frame, worker, slot = pending.popleft()
        detections = worker.answer()
        free.append(slot)
        return frame, FrameResult(detections)


def _detections_from(data: bytes, count: int) -> Detections:
    """The arrays `_detections_bytes` wrote, one after another (copied: writable, as the pipeline's own are)."""
    arrays, offset = [], 0
    for dtype, shape in (
        ("<i4", (count, 4)),
        ("<i8", (count,)),
        ("<f4", (count,)),
        ("<f4", (count, 10)),
        ("<i8", (count,)),
    ):
        array = np.frombuffer(data, dtype, math.prod(shape), offset).reshape(shape)
        arrays.append(array.astype(dtype[1:]))
        offset += array.nbytes
    boxes, digits, confidences, probabilities, cells = arrays
    return Detections(boxes, digits, confidences, probabilities, cells=cells)


def _detections_bytes(detections: Detections) -> bytes:
    arrays = (
        detections.boxes.astype("<i4"),
        detections.digits.astype("<i8"),
        detections.confidences.astype("<f4"),
        detections.probabilities.astype("<f4"),
        np.full(len(detections), -1, "<i8") if detections.cells is None else detections.cells.astype("<i8"),
    )
    return COUNT.pack(len(detections)) + b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


def _error_from(record: dict) -> CamrecError:
    """The worker's error as the same CamrecError class, so that the run ends with its line and exit code."""
    kind = getattr(errors, record.get("kind", ""), None)
    if not (isinstance(kind, type) and issubclass(kind, CamrecError)):
        kind = WorkerError
    return kind(record["subject"], record["problem"], record.get("hint"))


def _error_bytes(exc: BaseException) -> bytes:
    log.debug("worker %d failed", os.getpid(), exc_info=exc)  # the traceback, with --debug
    if isinstance(exc, CamrecError):
        record = {"kind": type(exc).__name__, "subject": exc.subject, "problem": exc.problem, "hint": exc.hint}
    else:
        record = {"kind": "WorkerError", "subject": "worker process", "problem": f"{type(exc).__name__}: {exc}"}
    text = json.dumps(record).encode()
    return COUNT.pack(-1) + LENGTH.pack(len(text)) + text


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The worker's loop: setup, then one answer per request until stdin closes."""
    try:
        setup = json.loads(requests.readline())
        slots = setup["slots"]
        maps = {fd: mmap.mmap(fd, 0) for fd in slots}
        recognize = load_recognizer(from_dict(setup["config"]), setup["model"])
        answers.write(COUNT.pack(0))
    except Exception as exc:
        answers.write(_error_bytes(exc))
        return
    finally:
        answers.flush()
    while header := requests.read(REQUEST.size):
        slot, height, width = REQUEST.unpack(header)
        fd = slots[slot]
        if len(maps[fd]) < height * width:  # the main process grew this slot for a bigger frame
            maps[fd] = mmap.mmap(fd, 0)
        try:
            image = np.ndarray((height, width), np.uint8, maps[fd])
            answers.write(_detections_bytes(recognize(image).detections))
        except Exception as exc:
            answers.write(_error_bytes(exc))
        answers.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process ends the run; stdin closing ends a worker
    from camrec.cli import quiet_libraries, tune_process

    quiet_libraries(debug="--debug" in sys.argv)
    tune_process()
    import cv2

    cv2.setNumThreads(1)  # the workers share the cores out among themselves
    # Answers go on a private copy of stdout; anything a library prints goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with contextlib.suppress(BrokenPipeError):
        serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
