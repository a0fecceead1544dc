"""Tracking: a digit keeps one id from frame to frame."""

from __future__ import annotations

import numpy as np

from camrec.detections import Detections, iou_matrix
from camrec.track import Tracker


def frame(boxes: list[list[int]]) -> Detections:
    return Detections(
        np.array(boxes, np.int32).reshape(-1, 4), np.zeros(len(boxes), np.int64), np.ones(len(boxes), np.float32)
    )


def test_moving_digits_keep_their_ids_whatever_their_order():
    tracker = Tracker(min_iou=0.3, max_missed=10)
    assert tracker.update(frame([[100, 100, 30, 40], [200, 100, 30, 40]])).track_ids.tolist() == [1, 2]
    # Both moved 6 px right; the pipeline lists them the other way round (reading order of a tilted line).
    assert tracker.update(frame([[206, 101, 30, 40], [106, 100, 30, 40]])).track_ids.tolist() == [2, 1]
    # A third digit comes into view, far from both.
    assert tracker.update(frame([[112, 100, 30, 40], [400, 300, 30, 40], [212, 101, 30, 40]])).track_ids.tolist() == [
        1,
        3,
        2,
    ]
    assert len(tracker.update(Detections.empty()).track_ids) == 0


def test_a_digit_unread_for_a_few_frames_comes_back_on_its_track_but_not_after_max_missed():
    tracker = Tracker(min_iou=0.3, max_missed=3)
    digit = [100, 100, 30, 40]
    assert tracker.update(frame([digit])).track_ids.tolist() == [1]
    for _ in range(3):  # a hand over it
        tracker.update(Detections.empty())
    assert tracker.update(frame([digit])).track_ids.tolist() == [1]
    for _ in range(4):
        tracker.update(Detections.empty())
    assert tracker.update(frame([digit])).track_ids.tolist() == [2]


def test_a_box_that_overlaps_too_little_starts_a_new_track():
    tracker = Tracker(min_iou=0.3, max_missed=10)
    tracker.update(frame([[100, 100, 30, 40]]))
    # Moved by most of its width: IoU 0.18.
    assert tracker.update(frame([[120, 100, 30, 40]])).track_ids.tolist() == [2]
    assert iou_matrix(np.array([[100, 100, 30, 40]]), np.array([[120, 100, 30, 40]]))[0, 0] < 0.3
