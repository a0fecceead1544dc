"""Marks drawn on a digit that touch it: a line under it, a ring around it. Mark and digit are then one
component, whose crop reads as no digit, or as a 0 (a ring around a digit); `without_underline` and
`without_ring` take the mark out, and what is left is read again (`pipeline.read_marked`). A number
underlined is cut into digits above its line (`segment.Cutter`). Crops that read as a digit are not
tried: a 1's foot or a 2's base runs under it as a line does, and such a digit reads as itself.

A line: when it runs past the digit on both sides, its two ends stand alone in the crop, columns with only
a thin stroke, low in the box; the line is followed, straight, from one end to the other. A ring: the
digit's outline is then a thin closed stroke around mostly blank paper, and the digit stands inside it.
"""

from __future__ import annotations

import cv2
import numpy as np

from camrec.normalize import INK_FLOOR, NEIGHBOURS, stroke_width

# The line's ends: columns whose ink is one stroke at most LINE_THICKNESS of the box's height thick,
# below LINE_LOW of its height, running in from both sides at least REACH of the digit's height.
LINE_THICKNESS = 0.25
LINE_LOW = 0.6
REACH = 0.05
MAX_LINES = 2  # a double underline
LINE_BOW = 3  # pixels: how far a line's lower edge may stray from straight (or half its width)
LINE_WHOLE = 0.95  # the straight band from one end to the other holds ink in this share of its columns
DIGIT_TALL = 0.5  # what is left of the crop is at least this share of its height
# A ring: inside its outline (the outline's stroke width in from the edge), paper is at least RING_PAPER of
# what the outline holds, and the ink there is DIGIT_TALL of the box tall.
RING_PAPER = 0.5


def without_underline(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The ink (h, w float32, as `normalize.cut_inks` makes it) with the lines under its digit taken out,
    and the digit's box (x, y, w, h) in the ink's pixels; None when no line runs under it past both sides."""
    peak = float(ink.max())
    if peak <= 0:
        return None
    mask = ink > INK_FLOOR * peak
    stripped = False
    for _ in range(MAX_LINES):
        band = line_under(mask)
        if band is None:
            break
        mask &= ~band
        stripped = True
    box = digit_box(mask) if stripped else None
    return None if box is None else (np.where(mask, ink, np.float32(0)), box)


def line_under(mask: np.ndarray) -> np.ndarray | None:
    """(h, w) bool: the band of the lowest line in `mask` that runs past the ink above it on both sides,
    or None. The line is taken as straight from the middle of its left end to the middle of its right end."""
    height, width = mask.shape
    inked = mask.any(axis=0)
    ends = np.flatnonzero(inked)[[0, -1]]
    if not all(thin_and_low(mask[:, end], height) for end in ends.tolist()):
        return None  # most crops: their first or last column is no line's end
    counts = mask.sum(axis=0)
    rows = np.arange(height)[:, None]
    top = np.where(mask, rows, height).min(axis=0)
    bottom = np.where(mask, rows, -1).max(axis=0)
    # A column of the line's end: one thin stroke (its ink as tall as its extent), low in the box.
    thin = inked & (bottom - top + 1 <= LINE_THICKNESS * height) & (counts >= bottom - top + 1)
    thin &= (top + bottom) / 2 >= LINE_LOW * height
    left, right = run_from(thin, inked), width - 1 - run_from(thin[::-1], inked[::-1])
    if min(len(left), len(right)) < 2:
        return None
    middles = (top + bottom) / 2
    x0, x1 = left.mean(), right.mean()
    y0, y1 = float(np.median(middles[left])), float(np.median(middles[right]))
    half = max(np.median(counts[left]), np.median(counts[right])) / 2 + 1
    along = y0 + (y1 - y0) * (np.arange(width) - x0) / max(x1 - x0, 1)
    band = np.abs(rows - along[None, :]) <= half
    span = slice(left[0], right[0] + 1)
    if (band & mask)[:, span].any(axis=0).mean() < LINE_WHOLE:
        return None  # no line from end to end
    # A line's lower edge is straight; the curve of a 3's foot, as thick as a line, bows below its ends.
    low0, low1 = float(np.median(bottom[left])), float(np.median(bottom[right]))
    edge = low0 + (low1 - low0) * (np.arange(width) - x0) / max(x1 - x0, 1)
    if np.abs(bottom[span] - edge[span]).max() > max(LINE_BOW, half / 2):
        return None
    above = mask & ~band & (rows < along[None, :])
    columns = np.flatnonzero(above.any(axis=0))
    if not len(columns):
        return None
    digit_rows = np.flatnonzero(above.any(axis=1))
    reach = REACH * (digit_rows[-1] - digit_rows[0] + 1)
    first, last = int(np.flatnonzero(inked)[0]), int(np.flatnonzero(inked)[-1])
    if columns[0] - first < reach or last - columns[-1] < reach:
        return None
    return band & mask


def thin_and_low(column: np.ndarray, height: int) -> bool:
    """Whether a column's ink is one thin stroke low in the box, as at a line's end."""
    rows = np.flatnonzero(column)
    extent = int(rows[-1] - rows[0] + 1)
    return extent == len(rows) and extent <= LINE_THICKNESS * height and rows[0] + rows[-1] >= 2 * LINE_LOW * height


def run_from(flags: np.ndarray, inked: np.ndarray) -> np.ndarray:
    """The columns, from the first inked one on, that are `flags` in a row."""
    start = int(np.argmax(inked))
    rest = flags[start:]
    return start + np.arange(len(rest) if rest.all() else int(np.argmin(rest)))


def without_ring(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The ink (as `without_underline`) with a ring drawn around its digit taken out, and the digit's box in
    the ink's pixels; None when its outline is no ring around a digit."""
    peak = float(ink.max())
    if peak <= 0:
        return None
    mask = (ink > INK_FLOOR * peak).view(np.uint8)
    height, width = mask.shape
    if not mask[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].any():
        return None  # its middle is blank: a 0, or no ring around a digit
    if not (crossed_twice(mask[height // 2]) and crossed_twice(mask[:, width // 2])):
        return None  # most crops: the middle row or column meets no ring's stroke at either end
    outside = np.pad(mask, 1)
    cv2.floodFill(outside, None, (0, 0), 2)
    held = (outside[1:-1, 1:-1] != 2).view(np.uint8)  # the ink and all it encloses
    if mask.sum() > (1 - RING_PAPER / 2) * held.sum():
        return None  # most crops: too much ink for a thin ring around paper
    depth = int(np.ceil(stroke_width(mask))) + 1
    inside = cv2.erode(held, NEIGHBOURS, iterations=depth, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    if inside.sum() < RING_PAPER * held.sum() or (inside & mask).sum() > (1 - RING_PAPER) * inside.sum():
        return None
    digit = (mask & inside).view(bool)
    box = digit_box(digit)
    return None if box is None else (np.where(digit, ink, np.float32(0)), box)


def digit_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box (x, y, w, h) of what is left of a crop's ink once its mark is out, (h, w) bool; None when
    that is less than DIGIT_TALL of the crop tall: no digit."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows) or rows[-1] - rows[0] + 1 < DIGIT_TALL * mask.shape[0]:
        return None
    return int(columns[0]), int(rows[0]), int(columns[-1] - columns[0] + 1), int(rows[-1] - rows[0] + 1)


def crossed_twice(line: np.ndarray) -> bool:
    """Whether a row or column through a ring's middle (uint8 0/1) meets its stroke at both ends: ink
    from each end (within a tenth of its length) that gives way to paper before the middle."""
    half = len(line) // 2
    return all(
        side[: max(1, len(line) // 10)].any() and not side[int(np.argmax(side)) : half].all()
        for side in (line, line[::-1])
    )
