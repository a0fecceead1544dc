"""Detections: the one dataclass of parallel arrays that flows from the pipeline to annotators and sinks."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Detections:
    """The digits found in one frame, in reading order.

    boxes: (N, 4) int32, x, y, w, h in frame pixels; digits: (N,) int64, 0-9; confidences: (N,) float32,
    probability of the chosen digit; probabilities: (N, 10) float32 or None; track_ids: (N,) int64 or None;
    cells: (N,) int64, which cell of a printed grid each digit was written in (-1: none), so that digits
    in two cells never read as one number (`camrec.numbers`); None in a frame without a grid.
    """

    boxes: np.ndarray
    digits: np.ndarray
    confidences: np.ndarray
    probabilities: np.ndarray | None = None
    track_ids: np.ndarray | None = None
    cells: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.boxes)
        _check("boxes", self.boxes, (n, 4), np.int32)
        _check("digits", self.digits, (n,), np.int64)
        _check("confidences", self.confidences, (n,), np.float32)
        if self.probabilities is not None:
            _check("probabilities", self.probabilities, (n, 10), np.float32)
        if self.track_ids is not None:
            _check("track_ids", self.track_ids, (n,), np.int64)
        if self.cells is not None:
            _check("cells", self.cells, (n,), np.int64)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.int32), np.zeros(0, np.int64), np.zeros(0, np.float32))

    @classmethod
    def merge(cls, parts: list[Detections]) -> Detections:
        """Concatenate; optional fields are kept only when every part has them."""
        if not parts:
            return cls.empty()
        values = {}
        for item in fields(cls):
            arrays = [getattr(part, item.name) for part in parts]
            values[item.name] = None if any(a is None for a in arrays) else np.concatenate(arrays)
        return cls(**values)

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: int | slice | np.ndarray | list) -> Detections:
        """An int gives a length-1 Detections; slices, index arrays and bool masks select several."""
        if isinstance(index, (int, np.integer)):
            index = slice(index, index + 1 if index != -1 else None)
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return Detections(**{name: None if a is None else a[index] for name, a in values.items()})

    def to_records(self) -> list[dict]:
        """The only serialisation of detections: one dict per detection, JSON-ready."""
        records = []
        for i in range(len(self)):
            record = {
                "digit": int(self.digits[i]),
                "confidence": round(float(self.confidences[i]), 4),
                "box": [int(v) for v in self.boxes[i]],
            }
            if self.track_ids is not None:
                record["track_id"] = int(self.track_ids[i])
            records.append(record)
        return records


def closest_first(pairs: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """A one-to-one matching: of (distance, a, b) pairs, the closest first, each a and each b taken once
    (a digit and its track, a digit and the next digit of its number)."""
    taken_a, taken_b, matched = set(), set(), []
    for _, a, b in sorted(pairs):
        if a not in taken_a and b not in taken_b:
            taken_a.add(a)
            taken_b.add(b)
            matched.append((a, b))
    return matched


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N, 4) against every box in b (M, 4), both x, y, w, h."""
    inter, area_a, area_b = _intersections(a, b)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def inside_share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M): the share of each box in a (N, 4) that lies inside each box in b (M, 4), both x, y, w, h."""
    inter, area_a, _ = _intersections(a, b)
    return inter / np.maximum(area_a[:, None], 1e-9)


def _intersections(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = a.astype(np.float64).reshape(-1, 4), b.astype(np.float64).reshape(-1, 4)
    (ax, ay, aw, ah), (bx, by, bw, bh) = a.T, b.T
    across = np.minimum.outer(ax + aw, bx + bw) - np.maximum.outer(ax, bx)
    down = np.minimum.outer(ay + ah, by + bh) - np.maximum.outer(ay, by)
    return np.maximum(across, 0) * np.maximum(down, 0), aw * ah, bw * bh


def _check(name: str, array: object, shape: tuple[int, ...], dtype: type) -> None:
    if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
        got = f"{array.shape} {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
        expected = (
            "(" + ", ".join("N" if i == 0 else str(d) for i, d in enumerate(shape)) + (",)" if len(shape) == 1 else ")")
        )
        raise ValueError(f"{name} must be {expected} {np.dtype(dtype).name}, got {got}")
