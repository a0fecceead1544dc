"""Digits drawn with the mouse, read as the drawing window reads its canvas (`Canvas.read`), without a window:
the ten digits in two rows of five, as a hand places them (sizes, places and a jitter of the pen drawn from
a seed), and each digit drawn against each edge of the canvas.

    python benchmarks/drawing.py --layouts 40 --seed 0
    python benchmarks/drawing.py --model other.onnx --json out.json

A digit is read right when its cell holds exactly one detection, of that digit. The strokes are those of
the window tests (`tests/strokes.py`); `benchmarks/live.py` times the real window.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import exit_with, publish  # noqa: E402
from camrec.apps.draw import Canvas  # noqa: E402
from camrec.config import for_live, load_config  # noqa: E402
from camrec.pipeline import load_recognizer  # noqa: E402
from tests.strokes import against_edge, drawn_canvas  # noqa: E402

CELL_W, CELL_H = 160, 135  # two rows of five cells on the 840 x 280 canvas


def read_right(canvas: Canvas, recognize, cells: list[tuple[int, int, int]]) -> int:
    """How many (digit, cell x, cell y) cells hold exactly one detection, of their digit."""
    found = canvas.read(recognize)
    centres = found.boxes[:, :2] + found.boxes[:, 2:] / 2
    right = 0
    for digit, x, y in cells:
        inside = (np.abs(centres[:, 0] - x - CELL_W / 2) < CELL_W / 2) & (
            np.abs(centres[:, 1] - y - CELL_H / 2) < CELL_H / 2
        )
        right += found.digits[inside].tolist() == [digit]
    return right


def two_rows(recognize, layouts: int, seed: int) -> dict:
    """Ten digits in two rows, shuffled, 70-124 px tall, placed anywhere in their cells, pen jitter 2 px."""
    right = whole = 0
    for layout in range(layouts):
        rng = np.random.default_rng([seed, layout])
        height, order = int(rng.integers(70, 125)), rng.permutation(10)
        digits, cells = [], []
        for i, digit in enumerate(order.tolist()):
            x, y = 20 + (i % 5) * CELL_W, 5 + (i // 5) * CELL_H
            digits.append((digit, x + int(rng.integers(0, 30)), y + int(rng.integers(0, 130 - height + 1)), height))
            cells.append((digit, x - 10, y))
        count = read_right(drawn_canvas(digits, rng, 2.0), recognize, cells)
        right, whole = right + count, whole + (count == 10)
    return {"digits": 10 * layouts, "read_right": right, "layouts_all_right": whole, "layouts": layouts}


def against_edges(recognize) -> dict:
    """Each digit, 110 px tall, drawn against each edge: its pen's stroke 0, 4 or 8 px past it."""
    right = total = 0
    for past in (0, 4, 8):
        for edge in ("top", "bottom", "left", "right"):
            for digit in range(10):
                x, y = against_edge(edge, past)
                found = drawn_canvas([(digit, x, y, 110)], np.random.default_rng(0)).read(recognize)
                right, total = right + (found.digits.tolist() == [digit]), total + 1
    return {"digits": total, "read_right": right}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layouts", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", help="model file (default: the shipped one)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    recognizer = load_recognizer(for_live(load_config()), args.model)

    def recognize(image: np.ndarray):
        return recognizer(image).detections

    publish(
        {"two_rows": two_rows(recognize, args.layouts, args.seed), "against_edges": against_edges(recognize)}, args.json
    )
    return 0


if __name__ == "__main__":
    exit_with(main)
