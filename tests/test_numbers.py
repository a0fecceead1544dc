"""Numbers: neighbouring digits of one line read as one number."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np

from camrec.detect import reading_order
from camrec.detections import Detections
from camrec.numbers import group_numbers, number_records


def detections_of(boxes: list[list[int]], digits: list[int]) -> Detections:
    """Detections in reading order, as the pipeline hands them out."""
    boxes_array = np.array(boxes, np.int32)
    order = reading_order(boxes_array.astype(np.float64))
    return Detections(boxes_array[order], np.array(digits, np.int64)[order], np.full(len(boxes), 0.9, np.float32))


def test_close_digits_of_a_line_are_one_number_and_far_ones_another():
    # 4 and 2 written 8 px apart (a fifth of their height), the 7 a digit's width after them; 1 and 3 on
    # the next line, touching; a small 5 beside the 3 is no digit of that number (a third of its height).
    found = detections_of(
        [
            [100, 100, 25, 40],
            [133, 102, 24, 40],
            [190, 101, 25, 40],
            [100, 200, 20, 40],
            [118, 198, 26, 42],
            [150, 225, 8, 13],
        ],
        [4, 2, 7, 1, 3, 5],
    )
    records = number_records(found)
    assert [r["value"] for r in records] == ["42", "7", "13", "5"]
    assert records[0]["box"] == [100, 100, 57, 42] and records[0]["digits"] == [0, 1]
    assert records[0]["confidence"] == 0.9
    # Every digit is in exactly one number.
    assert sorted(i for r in records for i in r["digits"]) == list(range(len(found)))


def test_a_number_on_a_tilted_line_stays_whole():
    # The line climbs to the right: reading order takes the first digit, lower than the others, for a line
    # of its own after them. The digits still follow one another.
    found = detections_of([[100, 118, 25, 40], [130, 104, 25, 40], [160, 90, 25, 40]], [2, 6, 8])
    assert [r["value"] for r in number_records(found)] == ["268"]
    assert group_numbers([]) == [] and number_records(Detections.empty()) == []


def test_camrec_image_writes_the_numbers_it_reads(tmp_path):
    # Printed digits: 2026 in one number, 7 far to its right.
    page = np.full((480, 640, 3), 235, np.uint8)
    for text, x in (("2", 60), ("0", 115), ("2", 170), ("6", 225), ("7", 470)):
        cv2.putText(page, text, (x, 290), cv2.FONT_HERSHEY_SIMPLEX, 3, (30, 30, 30), 8, cv2.LINE_AA)
    cv2.imwrite(str(tmp_path / "page.png"), page)
    result = subprocess.run(
        [sys.executable, "-m", "camrec", "image", str(tmp_path / "page.png"), "--json", "-", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    )
    record = json.loads(result.stdout)
    assert [d["digit"] for d in record["detections"]] == [2, 0, 2, 6, 7]
    assert [n["value"] for n in record["numbers"]] == ["2026", "7"]
