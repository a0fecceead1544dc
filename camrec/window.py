"""A plain OpenCV window for `--show`: shows each annotated frame; q or Esc (or closing it) ends the run."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from camrec.errors import DisplayError

QUIT_KEYS = {27, ord("q")}


def check_display() -> None:
    """Exit-2 error when a window cannot open: no X display on Linux."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise DisplayError("window", "no display", "use --no-show")


class Viewer:
    """One named window; `show(frame, result, image)` returns False when the user asked to stop."""

    def __init__(self, title: str) -> None:
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)

    def show(self, _frame, _result, image: np.ndarray | None) -> bool:
        if image is not None:
            cv2.imshow(self.title, image)
        key = cv2.waitKey(1) & 0xFF
        return key not in QUIT_KEYS and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)
