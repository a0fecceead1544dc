"""camrec draw: draw digits with the mouse and camrec reads them as you draw.

A white canvas wide enough for several digits; every digit on it gets a box and its label, the side
panel shows the top-3 probabilities of the digit drawn last and the digits read left to right. The same
detection, normalisation and classifier as the camera path read it (dark ink on white, like paper).
Recognition runs after each stroke on a copy of the canvas, in a thread of its own: the window's loop goes on
taking the mouse's moves meanwhile, and the pen never waits (Qt merges the moves that come while the loop is
busy, so a stroke begun during a slow reading in the loop was drawn as a chord or two).

Mouse: left button draws, right button erases.
Keys:
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from camrec.annotate import annotate, draw_hud, draw_probability_bars
from camrec.apps.keys import DRAW_KEYS, action_for, describe
from camrec.detections import Detections
from camrec.sinks import frame_record
from camrec.sources import Frame

log = logging.getLogger(__name__)

KEYS = DRAW_KEYS
__doc__ += "\n".join("    " + line for line in describe(KEYS)) + "\n"
TITLE = "camrec draw"
CANVAS_W, CANVAS_H, PANEL_W = 840, 280, 240
INK, PAPER = 0, 255
# The pen, as a share of the canvas's height (11 px): thin enough for three rows of digits 45-75 px tall, whose
# loops a bolder pen fills in. `benchmarks/drawing.py`, tuning seeds 0 and 1, 1/14 (20 px) -> 1/25: three rows
# of small digits 517 / 525 -> 843 / 845 of 960 read right, two rows 383 / 381 -> 399 / 394 of 400, one row of
# big digits (150-260 px) 160 / 160 -> 159 / 159 (10 px: 155 there; 12 px: 836 / 815 for three rows).
PEN_SHARE = 1 / 25


@dataclass
class Stroke:
    points: list[tuple[int, int]]
    erase: bool


@dataclass
class Canvas:
    """The drawing as a list of strokes (so that undo is exact) and its rendered image."""

    width: int = CANVAS_W
    height: int = CANVAS_H
    strokes: list[Stroke] = field(default_factory=list)
    pen: int = 0  # px; 0: PEN_SHARE of the canvas's height

    def __post_init__(self) -> None:
        self.pen = self.pen or max(4, round(PEN_SHARE * self.height))  # as a marker scales with its paper
        self.image = np.full((self.height, self.width), PAPER, np.uint8)

    def begin(self, x: int, y: int, erase: bool) -> None:
        self.strokes.append(Stroke([(x, y)], erase))
        self._paint(self.strokes[-1], len(self.strokes[-1].points) - 1)

    def extend(self, x: int, y: int) -> None:
        self.strokes[-1].points.append((x, y))
        self._paint(self.strokes[-1], len(self.strokes[-1].points) - 1)

    def _paint(self, stroke: Stroke, start: int) -> None:
        color, width = (PAPER, self.pen * 3) if stroke.erase else (INK, self.pen)
        points = stroke.points[max(0, start - 1) : start + 1]
        cv2.line(self.image, points[0], points[-1], color, width, cv2.LINE_AA)

    def undo(self) -> None:
        if self.strokes:
            self.strokes.pop()
            self.redraw()

    def clear(self) -> None:
        self.strokes.clear()
        self.redraw()

    def redraw(self) -> None:
        self.image[:] = PAPER
        for stroke in self.strokes:
            for i in range(len(stroke.points)):
                self._paint(stroke, i)

    def read(self, recognize: Callable[[np.ndarray], Detections], image: np.ndarray | None = None) -> Detections:
        """The digits on the canvas (or on `image`, a copy of it), read with a pen's width of paper around it.
        The canvas's edge cuts no digit: a digit drawn against it is whole but for the pen's round end, where
        a camera frame's edge cuts a digit in two, and the pipeline drops a box that touches it. Measured
        (`benchmarks/drawing.py`): of 120 digits drawn against an edge, 0-8 px past it, 19 read right without
        the margin, 120 with."""
        margin = self.pen
        image = self.image if image is None else image
        found = recognize(cv2.copyMakeBorder(image, *[margin] * 4, cv2.BORDER_CONSTANT, value=PAPER))
        size = [self.width, self.height]
        starts = found.boxes[:, :2] - margin
        ends = np.clip(starts + found.boxes[:, 2:], 0, size)
        starts = np.clip(starts, 0, size)
        return replace(found, boxes=np.hstack([starts, ends - starts]).astype(np.int32))

    def last_stroke_box(self) -> tuple[int, int, int, int] | None:
        drawn = [s for s in self.strokes if not s.erase]
        if not drawn:
            return None
        points = np.array(drawn[-1].points)
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        return int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)


class DrawWindow:
    """The mouse canvas plus side panel; `run()` is the event loop, returns when the user quits."""

    def __init__(
        self,
        recognize: Callable[[np.ndarray], Detections],
        sink=None,
        say: Callable[[str], None] = print,
        runs_dir: Path = Path("runs"),
    ) -> None:
        self.recognize, self.sink, self.say, self.runs_dir = recognize, sink, say, runs_dir
        self.canvas = Canvas()
        self.detections = Detections.empty()
        self.updates = 0
        self.help = False
        self._dirty_since: float | None = None  # mouse-up time of a stroke not yet recognised
        self._shown: float | None = None  # mouse-up time of the update being drawn (for the latency log)
        self._started = time.monotonic()
        # One reading at a time, of the canvas as it was at its start; strokes drawn meanwhile wait for the next.
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camrec-draw")
        self._reading: Future | None = None
        self._changed = True  # something to show: the window is composed anew only then
        cv2.namedWindow(TITLE, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)  # no toolbar: canvas at the origin
        cv2.moveWindow(TITLE, 0, 0)
        cv2.setMouseCallback(TITLE, self.on_mouse)

    def on_mouse(self, event: int, x: int, y: int, flags: int, _param: object) -> None:
        """Only paints: the heavy work waits for the main loop."""
        if x >= self.canvas.width:
            return
        if event in (cv2.EVENT_LBUTTONDOWN, cv2.EVENT_RBUTTONDOWN):
            self.canvas.begin(x, y, erase=event == cv2.EVENT_RBUTTONDOWN)
            self._changed = True
        elif event == cv2.EVENT_MOUSEMOVE and flags & (cv2.EVENT_FLAG_LBUTTON | cv2.EVENT_FLAG_RBUTTON):
            if self.canvas.strokes:
                self.canvas.extend(x, y)
                self._changed = True
        elif event in (cv2.EVENT_LBUTTONUP, cv2.EVENT_RBUTTONUP):
            self._dirty_since = time.perf_counter()

    def run(self) -> None:
        while True:
            if self._reading is not None and self._reading.done():
                self.adopt(self._reading)
            if self._reading is None and self._dirty_since is not None:
                self.start_reading()
            if self._changed:  # composing an unchanged window would only take the reading thread's turns
                cv2.imshow(TITLE, self.compose())
                self._changed = False
            if self._shown is not None:
                log.debug("pen-to-label %.1f ms", (time.perf_counter() - self._shown) * 1000)
                self._shown = None
            # While a reading runs, its end is looked for every millisecond: the label waits no longer.
            action = action_for(KEYS, cv2.waitKey(10 if self._reading is None else 1) & 0xFF)
            if action == "quit" or cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) < 1:
                self.update()  # the last strokes' reading is the last JSON line
                return
            if action:
                self.act(action)

    def start_reading(self) -> None:
        """Read the whole canvas as it is now, in the reading thread."""
        drawn_at, self._dirty_since = self._dirty_since, None
        frame = Frame(self.canvas.image.copy(), self.updates, time.monotonic() - self._started, "draw")
        self._reading = self._reader.submit(lambda: (frame, drawn_at, self.canvas.read(self.recognize, frame.image)))

    def adopt(self, reading: Future) -> None:
        """Show a finished reading; write one JSON line per update."""
        self._reading = None
        frame, self._shown, self.detections = reading.result()  # the reading's exception, if any, is raised here
        self._changed = True
        if self.sink is not None:
            self.sink.write(frame, self.detections)
        self.updates += 1

    def update(self) -> None:
        """Wait for the reading under way, then read what was drawn since, if anything."""
        if self._reading is not None:
            self.adopt(self._reading)
        if self._dirty_since is not None:
            self.start_reading()
            self.adopt(self._reading)

    def act(self, action: str) -> None:
        self._changed = True
        if action == "clear":
            self.canvas.clear()
        elif action == "undo":
            self.canvas.undo()
        elif action == "help":
            self.help = not self.help
        elif action == "save":
            self.update()  # the saved reading is of the saved drawing
            self.save()
        if action in ("clear", "undo"):
            self._dirty_since = time.perf_counter()

    def reading(self) -> str:
        """The digits left to right (top to bottom by line): the detections' reading order."""
        return "".join(str(int(d)) for d in self.detections.digits)

    def last_digit(self) -> int | None:
        """Index of the detection that holds the last stroke drawn."""
        box = self.canvas.last_stroke_box()
        if box is None or not len(self.detections):
            return None
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        b = self.detections.boxes
        inside = (b[:, 0] <= cx) & (cx <= b[:, 0] + b[:, 2]) & (b[:, 1] <= cy) & (cy <= b[:, 1] + b[:, 3])
        return int(np.flatnonzero(inside)[0]) if inside.any() else None

    def compose(self) -> np.ndarray:
        shown = annotate(self.canvas.image, self.detections)
        draw_hud(shown, describe(KEYS) if self.help else ["h: keys"])
        panel = np.full((self.canvas.height, PANEL_W, 3), 235, np.uint8)
        cv2.putText(panel, self.reading() or "-", (10, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2, cv2.LINE_AA)
        last = self.last_digit()
        if last is not None and self.detections.probabilities is not None:
            draw_probability_bars(panel, self.detections.probabilities[last])
        return np.hstack([shown, panel])

    def save(self) -> None:
        stem = self.runs_dir / f"draw-{datetime.now():%Y%m%d-%H%M%S}"
        stem.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(f"{stem}.png", self.canvas.image)
        frame = Frame(self.canvas.image, self.updates, 0.0, "draw")
        Path(f"{stem}.json").write_text(json.dumps(frame_record(frame, self.detections)) + "\n")
        self.say(f"saved {stem}.png and {stem}.json")

    def close(self) -> None:
        self._reader.shutdown(cancel_futures=True)
        cv2.destroyWindow(TITLE)
        cv2.waitKey(1)
