"""The Detections dataclass: validation, indexing, merging, serialisation."""

from __future__ import annotations

import numpy as np
import pytest

from camrec.detections import Detections


def make(n: int) -> Detections:
    return Detections(
        np.arange(n * 4, dtype=np.int32).reshape(n, 4),
        np.arange(n, dtype=np.int64) % 10,
        np.linspace(0.5, 1, n).astype(np.float32),
    )


def test_shapes_and_dtypes_are_checked_with_a_clear_message():
    with pytest.raises(ValueError, match=r"boxes must be \(N, 4\) int32, got \(3, 5\) float64"):
        Detections(np.zeros((3, 5)), np.zeros(3, np.int64), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="digits must be"):
        Detections(np.zeros((2, 4), np.int32), np.zeros(3, np.int64), np.zeros(2, np.float32))


def test_indexing_by_int_slice_array_and_mask():
    detections = make(5)
    assert len(detections[2]) == 1 and detections[2].digits[0] == 2
    assert len(detections[-1]) == 1 and detections[-1].digits[0] == 4
    assert detections[1:3].digits.tolist() == [1, 2]
    assert detections[np.array([0, 4])].digits.tolist() == [0, 4]
    assert detections[detections.digits > 2].digits.tolist() == [3, 4]


def test_merge_and_empty():
    merged = Detections.merge([make(2), Detections.empty(), make(3)])
    assert len(merged) == 5 and merged.probabilities is None
    assert len(Detections.merge([])) == 0


def test_to_records_is_the_json_shape_of_the_contract():
    records = make(2).to_records()
    assert records[1] == {"digit": 1, "confidence": 1.0, "box": [4, 5, 6, 7]}
    assert all(isinstance(v, int) for v in records[0]["box"])
