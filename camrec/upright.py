"""A sheet held turned: its rows of digits lean, and each digit leans with them.

MNIST's digits stand upright, and the CNN reads a digit turned 20 degrees or more as no digit: a sheet held
up to a webcam at an angle, or photographed on a desk from the side, loses its digits. The digits of a
sheet share its turn, and a row of them shows it: the line from one digit's middle to the next one's in
its row leans as the sheet does. `row_angle` measures that lean. The pipeline then also reads each
candidate's ink turned back by it (`turned`), keeping whichever reading finds more digits, so that
upright digits written in a staircase read as they are; and where candidates are still unread (two
digits touching make one box that a turned sheet does not show as too wide), the whole frame turned
upright, its boxes taken back to the frame (`boxes_back`). One digit alone has no row to measure, and is
read as it stands: reading it turned each way as well read more letters held close as digits.
"""

from __future__ import annotations

import math
import statistics

import cv2
import numpy as np

from camrec.detect import Found

NEIGHBOUR_REACH = 2.5  # a digit's row neighbour has its middle within this many of their heights
ALIKE_HEIGHTS = 1.5  # ... and a height within this factor of its own
# Degrees: a steeper step to the next box is no row (a digit written under another; pieces of one bold stroke
# at 44 degrees, turned upright, read as three 1s).
STEEPEST_ROW = 40.0
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


def turning(shape: tuple[int, ...], angle: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The 2x3 matrix that turns an image of `shape` by `angle` degrees (counter-clockwise in the image)
    about its middle onto a canvas large enough to hold all of it, and that canvas's (width, height)."""
    height, width = shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos))
    matrix[:, 2] += (size[0] - width) / 2, (size[1] - height) / 2
    return matrix, size


def turned(image: np.ndarray, angle: float, border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """`image` turned by `angle` degrees (counter-clockwise in the image), all of it (`turning`); what the
    turn brings into view is 0 (`border` constant: a crop's ink) or the image's edge carried on (replicate:
    a frame, whose paper or desk goes on without a new edge)."""
    matrix, size = turning(image.shape, angle)
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=border, borderValue=0)


def boxes_back(boxes: np.ndarray, found: Found, matrix: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Boxes (N, 4) x, y, w, h found in a frame turned by `matrix` (`turning`), as the boxes of the same
    ink in the frame before the turn (of `shape`): the ink inside each box (`found.binary`, at its working
    scale) taken back pixel by pixel, since a turned box's corners would make a box too big for its digit."""
    back = cv2.invertAffineTransform(matrix)
    left, top = found.offset
    out = np.zeros((len(boxes), 4), np.int32)
    for k, (x, y, w, h) in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4).tolist()):
        x0, y0 = math.floor(x * found.scale) + left, math.floor(y * found.scale) + top
        x1, y1 = math.ceil((x + w) * found.scale) + left, math.ceil((y + h) * found.scale) + top
        rows, columns = np.nonzero(found.binary[y0:y1, x0:x1])
        if len(rows):  # pixel middles, in the turned frame's pixels
            points = np.stack([columns + x0 - left + 0.5, rows + y0 - top + 0.5], axis=1) / found.scale
        else:
            points = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]])
        taken = points @ back[:, :2].T + back[:, 2]
        x0, y0 = np.maximum(np.floor(taken.min(axis=0)), 0)
        x1, y1 = np.minimum(np.ceil(taken.max(axis=0)), (shape[1], shape[0]))
        out[k] = x0, y0, max(1, x1 - x0), max(1, y1 - y0)
    return out
