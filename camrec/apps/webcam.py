"""camrec webcam: live recognition of paper digits held up to a camera, a stream or a replayed file.

The capture runs in its own thread and the window always shows the newest frame, so latency never builds
up whatever the recognition speed. Trackbars tune the detection; `w` writes them to an overlay file
under runs/ that `--config` accepts (config.yaml itself is never rewritten).

Keys:
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import cv2
import imutils
import numpy as np

from camrec.annotate import annotate, draw_hud, draw_patches, mirror
from camrec.apps.keys import WEBCAM_KEYS, action_for, describe
from camrec.config import Config
from camrec.pipeline import FrameResult
from camrec.sinks import frame_record
from camrec.sources import Frame

KEYS = WEBCAM_KEYS
__doc__ += "\n".join("    " + line for line in describe(KEYS)) + "\n"
TITLE = "camrec webcam"
TRACKBARS = {  # name: (config section, key, maximum, from slider position, to slider position)
    "block size": ("detect", "block_size", 101, lambda v: max(3, v | 1), lambda v: v),
    "offset": ("detect", "offset", 60, float, int),
    "min height %": ("detect", "min_height", 30, lambda v: max(1, v) / 100, lambda v: round(v * 100)),
}


class WebcamWindow:
    """The window: `on_frame` is the runner's per-frame hook; returns False when the user quits."""

    def __init__(self, config: Config, say: Callable[[str], None], runs_dir: Path = Path("runs")) -> None:
        self.config, self.say, self.runs_dir = config, say, runs_dir
        self.debug = self.paused = self.help = False
        self.mirrored = config.webcam.mirror
        self.fps, self._last = 0.0, None
        cv2.namedWindow(TITLE, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)  # no toolbar: canvas at the origin
        for name, (section, key, maximum, _, to_slider) in TRACKBARS.items():
            value = to_slider(getattr(getattr(config, section), key))
            cv2.createTrackbar(name, TITLE, min(maximum, value), maximum, self._on_trackbar(name))

    def _on_trackbar(self, name: str):
        section, key, _, from_slider, _ = TRACKBARS[name]
        return lambda position: setattr(getattr(self.config, section), key, from_slider(position))

    def on_frame(self, frame: Frame, result: FrameResult, _image: np.ndarray | None) -> bool:
        now = time.perf_counter()
        if self._last is not None:  # a smoothed readout: one slow frame should not make it jump
            self.fps = 0.9 * self.fps + 0.1 / max(now - self._last, 1e-6)
        self._last = now
        cv2.imshow(TITLE, self.compose(frame, result))
        while True:
            action = action_for(KEYS, cv2.waitKey(1 if not self.paused else 30) & 0xFF)
            if action == "quit" or cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) < 1:
                return False
            if action:
                self.act(action, frame, result)
                cv2.imshow(TITLE, self.compose(frame, result))
            if not self.paused:
                return True

    def act(self, action: str, frame: Frame, result: FrameResult) -> None:
        toggles = {"pause": "paused", "debug": "debug", "help": "help", "mirror": "mirrored"}
        if action in toggles:
            setattr(self, toggles[action], not getattr(self, toggles[action]))
        elif action in ("more", "less"):
            step = 0.05 if action == "more" else -0.05
            self.config.classify.min_confidence = round(
                min(1.0, max(0.0, self.config.classify.min_confidence + step)), 2
            )
        elif action == "snapshot":
            self.snapshot(frame, result)
        elif action == "write":
            self.write_settings()

    def compose(self, frame: Frame, result: FrameResult) -> np.ndarray:
        """The preview: annotated frame (mirrored if asked), HUD, and the debug panel when on."""
        detections = result.detections
        image = frame.image
        if self.mirrored:
            image, detections = cv2.flip(image, 1), mirror(detections, image.shape[1])
        shown = annotate(image, detections)
        status = f"{self.fps:4.1f} fps  {len(detections)} digits  threshold {self.config.classify.min_confidence:.2f}"
        lines = [status + ("  PAUSED" if self.paused else ""), "h: keys"]
        if self.help:
            lines += describe(KEYS)
        draw_hud(shown, lines)
        if self.debug:
            mask = cv2.cvtColor(imutils.resize(result.found.binary, height=shown.shape[0] // 2), cv2.COLOR_GRAY2BGR)
            side = np.zeros((shown.shape[0], mask.shape[1], 3), np.uint8)
            side[: mask.shape[0]] = mask
            shown = np.hstack([shown, side])
            shown = draw_patches(shown, result.crops, result.candidate_probabilities, result.kept)
        return shown

    def snapshot(self, frame: Frame, result: FrameResult) -> None:
        stem = self.runs_dir / f"snapshot-{datetime.now():%Y%m%d-%H%M%S}-{frame.index}"
        stem.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(f"{stem}.png", frame.image)
        Path(f"{stem}.json").write_text(json.dumps(frame_record(frame, result.detections)) + "\n")
        self.say(f"snapshot: {stem}.png")

    def write_settings(self) -> None:
        path = self.runs_dir / f"webcam-settings-{datetime.now():%Y%m%d-%H%M%S}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        detect, classify = self.config.detect, self.config.classify
        path.write_text(
            f"# written by camrec webcam (key w); use with --config {path}\ndetect:\n"
            f"  block_size: {detect.block_size}\n  offset: {detect.offset}\n"
            f"  min_height: {detect.min_height}\nclassify:\n  min_confidence: {classify.min_confidence}\n"
        )
        self.say(f"settings written to {path} (use --config {path})")

    def close(self) -> None:
        cv2.destroyWindow(TITLE)
        cv2.waitKey(1)
