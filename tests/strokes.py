"""Mouse strokes for the ten digits, as a person would draw them: straight and round strokes, in a box
100 wide and 140 tall (scaled to the cell they are drawn in)."""

from __future__ import annotations

import numpy as np

STROKE_ASPECT = 100 / 140  # the box the strokes are drawn in, width / height


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float, n: int = 14) -> list:
    """Points on an ellipse from start to end angle (degrees, 0 = right, 90 = down), either direction."""
    angles = np.deg2rad(np.linspace(start_deg, end_deg, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def line(x0: float, y0: float, x1: float, y1: float, n: int = 6) -> list:
    return [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in np.linspace(0, 1, n)]


DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [arc(50, 70, 34, 60, -90, 270, 28)],
    1: [line(55, 8, 48, 132, 10)],
    2: [
        arc(50, 42, 34, 32, 200, 360, 12)
        + arc(50, 42, 34, 32, 0, 50, 5)[1:]
        + line(70, 70, 14, 130, 8)[1:]
        + line(14, 130, 90, 128, 6)[1:]
    ],
    3: [arc(48, 38, 32, 30, 210, 450, 18) + arc(48, 100, 36, 34, 270, 510, 18)[1:]],
    4: [line(58, 8, 14, 90, 8) + line(14, 90, 90, 90, 6)[1:], line(66, 40, 66, 135, 8)],
    5: [line(82, 10, 26, 10, 5) + line(26, 10, 20, 62, 5)[1:] + arc(50, 92, 34, 38, 225, 500, 20)[1:]],
    6: [arc(62, 70, 40, 62, 290, 180, 10) + arc(50, 102, 32, 32, 180, 540, 22)[1:]],
    7: [line(12, 14, 88, 14, 6) + line(88, 14, 42, 134, 10)[1:]],
    8: [arc(50, 36, 28, 28, 0, -360, 20) + arc(50, 98, 34, 34, -90, 270, 22)[1:]],
    9: [arc(50, 40, 32, 30, 0, -360, 22) + line(82, 40, 76, 134, 9)[1:]],
}


def digit_path(digit: int, x: float, y: float, height: float) -> list[list[tuple[int, int]]]:
    """The strokes of `digit` scaled to `height` px with the box's top-left at (x, y), in pixels."""
    scale = height / 140
    return [[(round(x + px * scale), round(y + py * scale)) for px, py in stroke] for stroke in DIGIT_STROKES[digit]]


def drawn_canvas(digits: list[tuple[int, int, int, int]], rng: np.random.Generator, jitter: float = 0.0, pen: int = 0):
    """The drawing window's canvas (`camrec.apps.draw.Canvas`) with each (digit, x, y, height) drawn as the
    mouse draws it, every point of the strokes moved by `jitter` px (sd; drawn from `rng` either way), with
    a pen `pen` px wide (0: the window's)."""
    from camrec.apps.draw import Canvas

    canvas = Canvas(pen=pen)
    for digit, x, y, height in digits:
        for stroke in digit_path(digit, x, y, height):
            points = [(int(px + rng.normal(0, jitter)), int(py + rng.normal(0, jitter))) for px, py in stroke]
            canvas.begin(*points[0], erase=False)
            for point in points[1:]:
                canvas.extend(*point)
    return canvas


def against_edge(edge: str, past: int = 0) -> tuple[int, int]:
    """Where a digit 110 px tall sits on the canvas (840 x 280) so that its pen's stroke reaches `past` px
    beyond the `edge` ("top", "bottom", "left" or "right")."""
    return {"top": (300, -past), "bottom": (300, 170 + past), "left": (-past, 80), "right": (761 + past, 80)}[edge]
