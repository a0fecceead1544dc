"""A sheet held turned: its rows of digits lean, and each digit leans with them.

MNIST's digits stand upright, and the CNN reads a digit turned 20 degrees or more as no digit: a sheet held
up to a webcam at an angle, or photographed on a desk from the side, loses its digits. The digits of a
sheet share its turn, and a row of them shows it: the line from one digit's middle to the next one's in
its row leans as the sheet does. `row_angle` measures that lean; the pipeline then also reads each
candidate's ink turned back by it (`turned`), and keeps whichever reading finds more digits, so that
upright digits written in a staircase read as they are. A single digit has no lean to measure, and is
read as it is.
"""

from __future__ import annotations

import math
import statistics

import cv2
import numpy as np

NEIGHBOUR_REACH = 2.5  # a digit's row neighbour has its middle within this many of their heights
ALIKE_HEIGHTS = 1.5  # ... and a height within this factor of its own
STEEPEST_ROW = 45.0  # degrees: a steeper step to the next digit is no row (one written under another)
STEEPEST_SLOPE = math.tan(math.radians(STEEPEST_ROW))
AGREE = 6.0  # degrees: the pairs that agree with the median lean within this
LEAST_PAIRS = 2  # neighbour pairs that must agree, and at least half of all
LEAST_TURN = 8.0  # degrees: the CNN reads a digit turned less than this as well as an upright one


def row_angle(boxes: np.ndarray) -> float:
    """The lean of the rows of digits whose boxes (N, 4) x, y, w, h these are, in degrees, positive when
    a row falls to the right (clockwise in the image); 0 when fewer than LEAST_PAIRS neighbour pairs agree,
    or not half of them. Each box's neighbour is the nearest one to its right, within NEIGHBOUR_REACH of their
    heights, as tall as it within ALIKE_HEIGHTS, and no steeper than STEEPEST_ROW.

    Plain Python over the middles sorted left to right, each box's search ending where the boxes lie out of
    reach: a frame's ten boxes in 14 microseconds (numpy's every pair: 45), a page's 500 in 2 ms (9)."""
    if len(boxes) < LEAST_PAIRS + 1:
        return 0.0
    middles = sorted((x + w / 2, y + h / 2, h) for x, y, w, h in boxes.tolist())
    farthest = NEIGHBOUR_REACH * max(h for _, _, h in middles)
    leans = []
    for i, (x, y, h) in enumerate(middles):
        nearest, step = math.inf, (0.0, 0.0)
        for other_x, other_y, other_h in middles[i + 1 :]:
            dx, dy = other_x - x, other_y - y
            if dx > farthest or dx * dx >= nearest:
                break  # every box from here on lies further to the right
            taller, squared = max(h, other_h), dx * dx + dy * dy
            in_row = dx > 0 and abs(dy) <= STEEPEST_SLOPE * dx and taller <= ALIKE_HEIGHTS * min(h, other_h)
            if in_row and squared < nearest and squared <= (NEIGHBOUR_REACH * taller) ** 2:
                nearest, step = squared, (dy, dx)
        if nearest < math.inf:
            leans.append(math.degrees(math.atan2(*step)))
    if len(leans) < LEAST_PAIRS:
        return 0.0
    lean = statistics.median(leans)
    agreeing = [angle for angle in leans if abs(angle - lean) <= AGREE]
    if len(agreeing) < max(LEAST_PAIRS, len(leans) / 2):
        return 0.0
    return sum(agreeing) / len(agreeing)


def turn_of(boxes: np.ndarray) -> float:
    """`row_angle`, or 0 under LEAST_TURN degrees either way."""
    angle = row_angle(boxes)
    return angle if abs(angle) >= LEAST_TURN else 0.0


def turned(ink: np.ndarray, angle: float) -> np.ndarray:
    """A crop's ink (h, w) float32 turned by `angle` degrees (counter-clockwise in the image), on a canvas
    large enough to hold all of it."""
    height, width = ink.shape
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(rotation[0, 0]), abs(rotation[0, 1])
    new_width, new_height = int(np.ceil(width * cos + height * sin)), int(np.ceil(width * sin + height * cos))
    rotation[0, 2] += (new_width - width) / 2
    rotation[1, 2] += (new_height - height) / 2
    return cv2.warpAffine(ink, rotation, (new_width, new_height), flags=cv2.INTER_LINEAR, borderValue=0)
