"""Crops that are not digits, for the model's not-a-digit class.

A softmax over ten digits is confident about anything, so the detector's mistakes (scribbles, letters,
pieces of ruled or squared paper, dots, a finger's edge) need a class of their own. Each kind is drawn on
a small canvas and then normalised exactly like a digit crop (`fit_mnist`). Some kinds are kept out of
training (`HELD_OUT_KINDS`) so that benchmarks can measure rejection of things the model never saw.
"""

from __future__ import annotations

import cv2
import numpy as np

from camrec.normalize import fit_mnist

CANVAS = 64
TRAIN_KINDS = ("scribble", "cross", "blob", "letter", "ruling", "grid", "hatch", "finger", "dots")
HELD_OUT_KINDS = ("spiral", "star")
# Printed letters that are not digit-shaped, capital and small: a worksheet's printed text. O, D, Q, I, i,
# l, S, s, Z, z, B, b, G, g, q, Y and y read as digits once normalised (`synth.TEXT_DIGIT_LIKE`).
TRAIN_LETTERS = "AEMXHNV#%&@" + "CFJLPRTU" + "acdefhmnprtuvx"
HELD_OUT_LETTERS = "KWkw"
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX)


def make_nondigits(count: int, seed: int, kinds: tuple[str, ...] = TRAIN_KINDS) -> np.ndarray:
    """`count` not-a-digit crops, (count, 28, 28) float32 in [0, 1], white ink on black; deterministic."""
    rng = np.random.default_rng(seed)
    letters = TRAIN_LETTERS if kinds == TRAIN_KINDS else TRAIN_LETTERS + HELD_OUT_LETTERS
    out = np.zeros((count, 28, 28), np.float32)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        canvas = np.zeros((CANVAS, CANVAS), np.uint8)
        DRAW[kind](canvas, rng, letters)
        out[i] = fit_mnist(canvas)
    return out


def _thickness(rng: np.random.Generator) -> int:
    return int(rng.integers(2, 7))


def _scribble(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    # A dense random walk: many sharp turns, unlike any digit's few smooth strokes.
    steps = rng.normal(0, 9, size=(int(rng.integers(10, 22)), 2)).cumsum(axis=0)
    points = steps - steps.mean(axis=0) + CANVAS / 2
    cv2.polylines(canvas, [points.astype(np.int32)], False, 255, _thickness(rng), cv2.LINE_AA)


def _cross(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    angle = rng.uniform(0, np.pi)
    centre = np.array([CANVAS / 2, CANVAS / 2]) + rng.normal(0, 4, 2)
    for extra in (0.0, np.pi / 2 + rng.normal(0, 0.2)):
        direction = np.array([np.cos(angle + extra), np.sin(angle + extra)]) * rng.uniform(14, 28)
        a, b = (centre - direction).astype(int), (centre + direction).astype(int)
        cv2.line(canvas, tuple(map(int, a)), tuple(map(int, b)), 255, _thickness(rng), cv2.LINE_AA)


def _blob(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    axes = (int(rng.integers(6, 28)), int(rng.integers(6, 28)))
    cv2.ellipse(canvas, (32, 32), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
    noise = rng.integers(0, 2, size=canvas.shape).astype(np.uint8) * 255
    canvas[:] = np.where(canvas > 0, np.maximum(canvas, noise // 2), 0)


def _letter(canvas: np.ndarray, rng: np.random.Generator, letters: str) -> None:
    font = int(rng.choice(FONTS))
    text = str(rng.choice(list(letters)))
    cv2.putText(canvas, text, (8, 52), font, 1.7, 255, int(rng.integers(2, 6)), cv2.LINE_AA)


def _ruling(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    # A piece of a printed line, never near vertical: a vertical bar is a perfectly good "1".
    angle = rng.uniform(-0.5, 0.5)
    y = CANVAS / 2 + rng.normal(0, 3)
    dx, dy = 40 * np.cos(angle), 40 * np.sin(angle)
    cv2.line(canvas, (int(32 - dx), int(y - dy)), (int(32 + dx), int(y + dy)), 255, _thickness(rng), cv2.LINE_AA)
    if rng.random() < 0.5:  # a stroke touching the line, as handwriting on ruled paper does
        x = int(rng.integers(12, 52))
        cv2.line(canvas, (x, int(y)), (x + int(rng.integers(-8, 8)), int(y) - int(rng.integers(3, 10))), 255, 2)


def _grid(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    pitch = int(rng.integers(12, 30))
    offset = int(rng.integers(0, pitch))
    thickness = int(rng.integers(1, 3))
    for pos in range(offset, CANVAS, pitch):
        cv2.line(canvas, (pos, 0), (pos, CANVAS), 255, thickness)
        cv2.line(canvas, (0, pos), (CANVAS, pos), 255, thickness)


def _hatch(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    slope = rng.uniform(-1.5, 1.5)
    for x in range(4, CANVAS - 4, int(rng.integers(5, 10))):
        cv2.line(canvas, (x, 50), (int(x + 30 * slope / 2), 14), 255, int(rng.integers(1, 3)), cv2.LINE_AA)


def _finger(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    # The rounded edge of a finger or a shadow entering the crop from one side.
    cx = int(rng.integers(-10, 20))
    cv2.ellipse(canvas, (cx, 32), (int(rng.integers(20, 40)), int(rng.integers(12, 26))), 0, 0, 360, 255, -1)
    cv2.GaussianBlur(canvas, (9, 9), 3, dst=canvas)


def _dots(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    for _ in range(int(rng.integers(2, 9))):
        centre = tuple(int(v) for v in rng.integers(8, 56, 2))
        cv2.circle(canvas, centre, int(rng.integers(1, 5)), 255, -1, cv2.LINE_AA)


def _spiral(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    turns = rng.uniform(2.0, 4.0)
    t = np.linspace(0, turns * 2 * np.pi, 200)
    radius = 3 + t * rng.uniform(2.5, 4.0) / (2 * np.pi)
    points = np.stack([32 + radius * np.cos(t), 32 + radius * np.sin(t)], axis=1)
    cv2.polylines(canvas, [points.astype(np.int32)], False, 255, _thickness(rng), cv2.LINE_AA)


def _star(canvas: np.ndarray, rng: np.random.Generator, _letters: str) -> None:
    angles = np.linspace(0, 4 * np.pi, 6) + rng.uniform(0, np.pi)
    points = np.stack([32 + 26 * np.cos(angles), 32 + 26 * np.sin(angles)], axis=1)
    cv2.polylines(canvas, [points.astype(np.int32)], False, 255, _thickness(rng), cv2.LINE_AA)


DRAW = {
    "scribble": _scribble,
    "cross": _cross,
    "blob": _blob,
    "letter": _letter,
    "ruling": _ruling,
    "grid": _grid,
    "hatch": _hatch,
    "finger": _finger,
    "dots": _dots,
    "spiral": _spiral,
    "star": _star,
}
