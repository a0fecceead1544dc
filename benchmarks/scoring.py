"""Scoring detections against synthetic truth: a hit is IoU >= 0.5 with the right digit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from camrec.detections import iou_matrix

IOU_HIT = 0.5


@dataclass
class Tally:
    """Counts over many frames; `f1` is the end-to-end score of the benchmark."""

    hits: int = 0
    false: int = 0
    missed: int = 0
    frames: int = 0
    lookalike_reads: int = 0

    def add(self, other: Tally) -> None:
        for name in ("hits", "false", "missed", "frames", "lookalike_reads"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def f1(self) -> float:
        denominator = 2 * self.hits + self.false + self.missed
        return 2 * self.hits / denominator if denominator else 1.0

    @property
    def false_per_frame(self) -> float:
        return self.false / self.frames if self.frames else 0.0


def score_frame(
    boxes: np.ndarray,
    digits: np.ndarray | None,
    truth_boxes: np.ndarray,
    truth_digits: np.ndarray,
    lookalikes: np.ndarray | None = None,
) -> Tally:
    """Greedy one-to-one matching by IoU; `digits=None` scores boxes only. Detections on digit-shaped
    letters count neither way (they are tallied as `lookalike_reads`)."""
    tally = Tally(frames=1)
    ious = iou_matrix(boxes, truth_boxes) if len(boxes) and len(truth_boxes) else np.zeros((len(boxes), 0))
    used = set()
    for i in np.argsort(-ious.max(axis=1) if ious.shape[1] else np.zeros(len(boxes))):
        j = int(ious[i].argmax()) if ious.shape[1] else -1
        if j >= 0 and j not in used and ious[i, j] >= IOU_HIT and (digits is None or digits[i] == truth_digits[j]):
            used.add(j)
            tally.hits += 1
        elif lookalikes is not None and len(lookalikes) and iou_matrix(boxes[i : i + 1], lookalikes).max() >= 0.3:
            tally.lookalike_reads += 1
        else:
            tally.false += 1
    tally.missed = len(truth_boxes) - len(used)
    return tally


def score_whole_numbers(records: list[dict], boxes: np.ndarray, digits: np.ndarray, numbers: np.ndarray) -> Tally:
    """Numbers read against the numbers written (`Scene.numbers`): a hit is a number record (`camrec.numbers`)
    with the written value whose box overlaps the written number's (the box around its digits) with IoU >=
    0.5. A number the frame cuts (-1) counts neither way, nor does a record over one of its digits."""
    tally = Tally(frames=1)
    written = [np.flatnonzero(numbers == n) for n in np.unique(numbers[numbers >= 0])]
    truth = np.array([union_box(boxes[members]) for members in written], np.int64).reshape(-1, 4)
    values = ["".join(str(int(d)) for d in digits[members]) for members in written]
    cut = boxes[numbers < 0]
    used = set()
    for record in records:
        box = np.array([record["box"]])
        ious = iou_matrix(box, truth)[0] if len(truth) else np.zeros(0)
        j = int(ious.argmax()) if len(ious) else -1
        if j >= 0 and j not in used and ious[j] >= IOU_HIT and record["value"] == values[j]:
            used.add(j)
            tally.hits += 1
        elif not (len(cut) and iou_matrix(box, cut).max() > 0):
            tally.false += 1
    tally.missed = len(truth) - len(used)
    return tally


def union_box(boxes: np.ndarray) -> list[int]:
    """The box (x, y, w, h) around boxes (N, 4)."""
    x0, y0 = boxes[:, :2].min(axis=0)
    x1, y1 = (boxes[:, :2] + boxes[:, 2:]).max(axis=0)
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]
