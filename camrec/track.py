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

from camrec.detections import Detections, closest_first


@dataclass
class Tracker:
    """Ids for the detections of one source's frames, given in order to `update`.

    Plain Python: a frame has a few dozen digits at most, and numpy's call overhead on arrays that small
    cost 0.064 ms a throughput-clip frame, against 0.023 (the best of 15 passes over 100 frames), in the
    thread that writes every frame's JSON line while the others work on the next frames."""

    min_iou: float = 0.3
    max_missed: int = 10

    def __post_init__(self) -> None:
        self.tracks: list[tuple[list[int], int, int]] = []  # each live track's last box, id, frames missed
        self.next_id = 1

    def update(self, detections: Detections) -> Detections:
        """The frame's detections with `track_ids`; the tracks move on to this frame."""
        boxes = detections.boxes.tolist()
        pairs = []
        for box, (x, y, w, h) in enumerate(boxes):
            for track, ((tx, ty, tw, th), _, _) in enumerate(self.tracks):
                if tx >= x + w or x >= tx + tw:
                    continue  # most pairs, at the cost of two comparisons
                across = min(x + w, tx + tw) - max(x, tx)
                down = min(y + h, ty + th) - max(y, ty)
                if across > 0 and down > 0:
                    inter = across * down
                    overlap = inter / (w * h + tw * th - inter)  # IoU
                    if overlap >= self.min_iou:
                        pairs.append((-overlap, box, track))
        ids, matched = [0] * len(boxes), [False] * len(self.tracks)
        for box, track in closest_first(pairs):  # the most overlap first
            ids[box], matched[track] = self.tracks[track][1], True
        for box in range(len(boxes)):
            if not ids[box]:
                ids[box], self.next_id = self.next_id, self.next_id + 1
        # Tracks read in this frame move to their new boxes; the others wait, up to max_missed frames.
        self.tracks = [(box, track_id, 0) for box, track_id in zip(boxes, ids)] + [
            (box, track_id, missed + 1)
            for (box, track_id, missed), taken in zip(self.tracks, matched)
            if not taken and missed < self.max_missed
        ]
        return replace(detections, track_ids=np.array(ids, np.int64))
