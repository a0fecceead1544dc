"""Digits drawn with the mouse, read as the drawing window reads its canvas (`Canvas.read`), without a window:
rows of digits as a hand places them (sizes, places and a jitter of the pen drawn from a seed), one row of
four big digits, two rows of five, three rows of eight small ones; and each digit drawn against each edge.

    python benchmarks/drawing.py --layouts 40 --seed 0
    python benchmarks/drawing.py --model other.onnx --json out.json

A digit is read right when its cell holds exactly one detection (by its box's centre), of that digit. The
strokes are those of the window tests (`tests/strokes.py`); `benchmarks/live.py` times the real window.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import exit_with, publish  # noqa: E402
from camrec.apps.draw import CANVAS_H, CANVAS_W, Canvas  # noqa: E402
from camrec.config import for_drawing, load_config  # noqa: E402
from camrec.pipeline import load_recognizer  # noqa: E402
from tests.strokes import STROKE_ASPECT, against_edge, drawn_canvas  # noqa: E402

# name: rows, digits a row, least and greatest height (px) on the 840 x 280 canvas
LAYOUTS = {"one_row": (1, 4, 150, 260), "two_rows": (2, 5, 70, 124), "three_rows": (3, 8, 45, 75)}
SIDE = 10  # px of paper left and right of the cells
JITTER = 2.0  # px (sd) that the hand moves each point of a stroke


def read_right(canvas: Canvas, recognize, cells: list[tuple[int, float, float, float, float]]) -> int:
    """How many (digit, x, y, w, h) cells hold exactly one detection (by its box's centre), of their digit."""
    found = canvas.read(recognize)
    centres = found.boxes[:, :2] + found.boxes[:, 2:] / 2
    right = 0
    for digit, x, y, w, h in cells:
        inside = (centres[:, 0] >= x) & (centres[:, 0] < x + w) & (centres[:, 1] >= y) & (centres[:, 1] < y + h)
        right += found.digits[inside].tolist() == [digit]
    return right


def in_rows(recognize, name: str, layouts: int, seed: int, pen: int = 0) -> dict:
    """`layouts` canvases of one kind (LAYOUTS): each a height drawn for all its digits, the digits in a
    shuffled order (every digit before one repeats), each anywhere in its cell."""
    rows, per_row, low, high = LAYOUTS[name]
    cell_w, cell_h = (CANVAS_W - 2 * SIDE) / per_row, CANVAS_H / rows
    right = whole = 0
    for layout in range(layouts):
        rng = np.random.default_rng([seed, rows, layout])
        height = int(rng.integers(low, high + 1))
        width = round(STROKE_ASPECT * height)
        order = np.concatenate([rng.permutation(10) for _ in range(-(-rows * per_row // 10))])
        digits, cells = [], []
        for i, digit in enumerate(order[: rows * per_row].tolist()):
            x, y = SIDE + (i % per_row) * cell_w, (i // per_row) * cell_h
            left, top = x + rng.integers(0, max(1, cell_w - width)), y + rng.integers(0, max(1, cell_h - height))
            digits.append((digit, int(left), int(top), height))
            cells.append((digit, x, y, cell_w, cell_h))
        count = read_right(drawn_canvas(digits, rng, JITTER, pen), recognize, cells)
        right, whole = right + count, whole + (count == len(cells))
    return {"digits": rows * per_row * layouts, "read_right": right, "layouts_all_right": whole, "layouts": layouts}


def against_edges(recognize, pen: int = 0) -> dict:
    """Each digit, 110 px tall, drawn against each edge: its pen's stroke 0, 4 or 8 px past it."""
    right = total = 0
    for past in (0, 4, 8):
        for edge in ("top", "bottom", "left", "right"):
            for digit in range(10):
                x, y = against_edge(edge, past)
                found = drawn_canvas([(digit, x, y, 110)], np.random.default_rng(0), pen=pen).read(recognize)
                right, total = right + (found.digits.tolist() == [digit]), total + 1
    return {"digits": total, "read_right": right}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layouts", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", help="model file (default: the shipped one)")
    parser.add_argument("--pen", type=int, default=0, help="pen width in px (default: the window's)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", help="config key=value")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    recognizer = load_recognizer(for_drawing(load_config(None, args.overrides)), args.model)

    def recognize(image: np.ndarray):
        return recognizer(image).detections

    figures = {name: in_rows(recognize, name, args.layouts, args.seed, args.pen) for name in LAYOUTS}
    publish({**figures, "against_edges": against_edges(recognize, args.pen)}, args.json)
    return 0


if __name__ == "__main__":
    exit_with(main)
