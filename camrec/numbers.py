"""Numbers: the digits of one line written close together read as one number ("42"), from the detections
alone.

People write a number's digits closer together than the numbers beside it: within a number the gap is a
fraction of a digit's height (or none at all, when the digits touch), between two numbers about a digit's
height or more. So a digit follows the nearest digit to its left that stands on its line, is about as
tall and is less than GAP of the taller one's height away, and a number is a chain of such digits.
"""

from __future__ import annotations

from bisect import bisect_right

from camrec.detections import Detections, closest_first

# The widest gap within a number, as a share of the taller digit's height. Chosen on 40 frames of numbers
# of train digits (`synth.make_numbers`, whose numbers stand 0.6-1.0 of a digit's height apart), grouping
# their true boxes: numbers read whole (F1) 0.996 at 0.3, 1.000 at 0.4, 0.952 at 0.5. Taking neighbours in
# reading order instead of `follows` read 0.979 at 0.4: a tilted line's reading order splits numbers.
GAP = 0.4
SAME_LINE = 0.5  # two digits share at least this much of the shorter one's height
SIMILAR_HEIGHT = 1.6  # the taller digit is at most this many times as tall as the shorter one


def group_numbers(boxes: list[list[int]], cells: list[int] | None = None) -> list[list[int]]:
    """Which boxes (x, y, w, h, in reading order) make up each number: their indices, left to right, one
    list per number, in the reading order of their first digits (a lone digit is a number of one digit).
    With `cells` (per box, the printed grid's cell it was written in, `Detections.cells`), the digits of
    one number share a cell: a sudoku's neighbours written against the line between them are two numbers.

    Each digit is followed by the nearest digit that `follows` it, so that a number stays whole even where
    a tilted line's reading order takes one of its digits for a line of its own.

    Plain Python: a frame has a few dozen digits at most, and numpy's call overhead on arrays that small
    cost 0.060 ms a throughput-clip frame for its numbers, against 0.030 (the best of 15 passes over 100
    frames), in the thread that writes every frame's JSON line while the others work on the next frames."""
    # Only boxes that start a little way to the right of a box can follow it: found by their left edges.
    by_left = sorted(range(len(boxes)), key=lambda i: boxes[i][0])
    lefts = [boxes[i][0] for i in by_left]
    reach = GAP * max((box[3] for box in boxes), default=0)
    links = [
        (boxes[j][0] - (left[0] + left[2]), i, j)
        for i, left in enumerate(boxes)
        for j in by_left[bisect_right(lefts, left[0]) : bisect_right(lefts, left[0] + left[2] + reach)]
        if follows(left, boxes[j]) and (cells is None or cells[i] == cells[j])
    ]
    following, preceded = [-1] * len(boxes), [False] * len(boxes)
    for left, right in closest_first(links):  # a digit that two could follow goes to the nearer
        following[left], preceded[right] = right, True
    numbers = []
    for first in range(len(boxes)):  # in reading order
        if not preceded[first]:
            number = [first]
            while following[number[-1]] >= 0:
                number.append(following[number[-1]])
            numbers.append(number)
    return numbers


def follows(left: list[int], right: list[int]) -> bool:
    """Whether the digit in box `right` (x, y, w, h) may be the next digit of a number after the digit in
    box `left`: to its right and close behind it (touching digits cut apart may overlap), about as tall,
    and on its line."""
    if right[0] <= left[0]:
        return False
    taller, shorter = max(left[3], right[3]), min(left[3], right[3])
    shared = min(left[1] + left[3], right[1] + right[3]) - max(left[1], right[1])
    return (
        right[0] - (left[0] + left[2]) <= GAP * taller
        and taller <= SIMILAR_HEIGHT * shorter
        and shared >= SAME_LINE * shorter
    )


def number_records(detections: Detections) -> list[dict]:
    """The frame's numbers, JSON-ready: value (its digits as a string), box around them, the indices of its
    digits in the frame's `detections`, and its confidence (its least sure digit's)."""
    boxes, digits = detections.boxes.tolist(), detections.digits.tolist()
    confidences = detections.confidences.tolist()
    cells = None if detections.cells is None else detections.cells.tolist()
    records = []
    for members in group_numbers(boxes, cells):
        x0 = min(boxes[i][0] for i in members)
        y0 = min(boxes[i][1] for i in members)
        x1 = max(boxes[i][0] + boxes[i][2] for i in members)
        y1 = max(boxes[i][1] + boxes[i][3] for i in members)
        records.append(
            {
                "value": "".join(str(digits[i]) for i in members),
                "confidence": round(min(confidences[i] for i in members), 4),
                "box": [x0, y0, x1 - x0, y1 - y0],
                "digits": members,
            }
        )
    return records
