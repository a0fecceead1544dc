"""Tracking: a digit keeps one id from frame to frame of a video or a camera, so that a script can follow
it (`track_id` in the JSON lines) rather than meet it anew in every frame.

Paper moves little between two frames, so a digit's box overlaps its box of the frame before: each box
takes the id of the box it overlaps most (IoU at least `track.min_iou`), the closest pairs first. A box
that overlaps none starts a new id. An id whose digit went unread for a few frames (a hand passing over
it, a frame of motion blur) waits `track.max_missed` frames for it before it ends. The digit read is not
part of the match: a digit misread in one frame stays on its track.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from camrec.detections import Detections, iou_matrix


@dataclass
class Tracker:
    """Ids for the detections of one source's frames, given in order to `update`."""

    min_iou: float = 0.3
    max_missed: int = 10

    def __post_init__(self) -> None:
        self.boxes = np.zeros((0, 4), np.int32)  # each live track's last box
        self.ids = np.zeros(0, np.int64)
        self.missed = np.zeros(0, np.int64)  # frames since each track's digit was last read
        self.next_id = 1

    def update(self, detections: Detections) -> Detections:
        """The frame's detections with `track_ids`; the tracks move on to this frame."""
        ids = np.full(len(detections), -1, np.int64)
        matched = np.zeros(len(self.ids), bool)
        if len(detections) and len(self.ids):
            overlap = iou_matrix(detections.boxes, self.boxes)
            boxes, tracks = np.nonzero(overlap >= self.min_iou)
            # The closest pairs first; each box and each track is taken once.
            order = np.argsort(-overlap[boxes, tracks], kind="stable")
            for box, track in zip(boxes[order].tolist(), tracks[order].tolist()):
                if ids[box] < 0 and not matched[track]:
                    ids[box], matched[track] = self.ids[track], True
        new = ids < 0
        ids[new] = np.arange(self.next_id, self.next_id + int(new.sum()))
        self.next_id += int(new.sum())
        # Tracks read in this frame move to their new boxes; the others wait, up to max_missed frames.
        waiting = ~matched & (self.missed < self.max_missed)
        self.boxes = np.concatenate([detections.boxes, self.boxes[waiting]])
        self.ids = np.concatenate([ids, self.ids[waiting]])
        self.missed = np.concatenate([np.zeros(len(detections), np.int64), self.missed[waiting] + 1])
        return replace(detections, track_ids=ids)
