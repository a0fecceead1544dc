"""Normalisation the MNIST way: fit the ink into 20x20 keeping its aspect, pad to 28x28, centre of mass
in the middle, white ink on black, float32 in [0, 1].

MNIST's own digits were made exactly like this, so a crop that goes through `fit_mnist` looks to the CNN
like the digits it was trained on, whatever its size in the frame.

No deskewing: shearing each crop upright by its second moments (mu11 / mu02, about the centre of mass),
with MNIST's own images deskewed the same way for training, was measured and did not help. The model
retrained that way by the same recipe read MNIST test 99.70 % (shipped 99.67 %) but read 15 test digits
as not-a-digit by argmax, as `models/metrics.json` counts them (shipped 5). End to end (`accuracy.py
--pool train`, seeds 1 and 3) it was better in some groups and worse in others: moderate 0.987 / 0.986
(shipped 0.982 / 0.991), hard 0.972 / 0.967 (0.970 / 0.966), numbers 0.897 / 0.906 (0.901 / 0.906), a
digit held close 0.983 / 0.966 (1.000 / 0.983). It would also cost 15 microseconds a crop.
"""

from __future__ import annotations

import cv2
import numpy as np

MNIST_SIZE = 28
FIT_SIZE = 20  # MNIST fits each digit's bounding box into 20x20 before padding to 28x28
INK_FLOOR = 0.05  # ink weaker than this (after scaling to [0, 1]) does not count for the bounding box
NEIGHBOURS = np.ones((3, 3), np.uint8)  # a digit's mask takes in the anti-aliased rim around its strokes
POSITIONS = np.arange(FIT_SIZE, dtype=np.float32)  # pixel indices of a fitted crop's rows or columns


def fit_mnist(ink: np.ndarray) -> np.ndarray:
    """One crop of ink, any size, to the MNIST form.

    Args:
        ink: (H, W) float32 or uint8, ink bright on dark (0 = paper); any range.
    Returns:
        (28, 28) float32 in [0, 1]; all zeros when there is no ink.
    """
    ink = ink.astype(np.float32, copy=False)
    peak = float(ink.max()) if ink.size else 0.0
    if peak <= 0:
        return np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    x, y, width, height = cv2.boundingRect(cv2.compare(ink, INK_FLOOR * peak, cv2.CMP_GT))
    ink = ink[y : y + height, x : x + width]
    scale = FIT_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA anti-aliases when shrinking; enlarging a tiny crop wants interpolation instead.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    fitted = cv2.resize(ink, size, interpolation=interpolation)
    columns, rows = fitted.sum(axis=0), fitted.sum(axis=1)
    mass = float(columns.sum())
    if mass <= 0:
        return np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    # Weighted sums rather than `@`: a dot product would wake OpenBLAS's spinning thread pool.
    com_x = float((columns * POSITIONS[: len(columns)]).sum()) / mass
    com_y = float((rows * POSITIONS[: len(rows)]).sum()) / mass
    # Sub-pixel shift so that the centre of mass lands on the centre of the 28x28 field.
    shift = np.float32([[1, 0, MNIST_SIZE / 2 - 0.5 - com_x], [0, 1, MNIST_SIZE / 2 - 0.5 - com_y]])
    out = cv2.warpAffine(fitted, shift, (MNIST_SIZE, MNIST_SIZE), flags=cv2.INTER_LINEAR, borderValue=0)
    out *= 1.0 / peak  # interpolating non-negative ink never overshoots its peak: only rounding to clip
    return np.minimum(out, 1.0, out=out)


def to_model_input(crops: np.ndarray) -> np.ndarray:
    """Stack of 28x28 crops (uint8 0-255 or float 0-1) to the model's (N, 28, 28, 1) float32 in [0, 1]."""
    crops = np.asarray(crops)
    if crops.dtype == np.uint8:
        crops = crops.astype(np.float32) / 255.0
    return crops.astype(np.float32, copy=False).reshape(-1, MNIST_SIZE, MNIST_SIZE, 1)


def normalize_crops(gray: np.ndarray, found) -> np.ndarray:
    """Cut every detected digit out of the full-resolution frame and bring it to the MNIST form.

    Ink strength comes from the gray frame (anti-aliased edges, like MNIST's scanned strokes); the
    detector's components say which ink belongs to the digit, so a neighbour's stroke inside the margin
    is left out.

    Args:
        gray: (H, W) uint8 frame; found: `detect.Found` for it.
    Returns:
        (N, 28, 28, 1) float32 in [0, 1], white ink on black.
    """
    crops = np.zeros((len(found.boxes), MNIST_SIZE, MNIST_SIZE, 1), np.float32)
    for i, (box, members) in enumerate(zip(found.boxes, found.members)):
        crops[i, :, :, 0] = fit_mnist(cut_ink(gray, box, members, found))
    return crops


def cut_ink(gray: np.ndarray, box: np.ndarray, members: np.ndarray, found) -> np.ndarray:
    """The ink of one digit, (h, w) float32, 0 where there is paper or someone else's ink."""
    x, y, w, h = (int(v) for v in box)
    patch = gray[y : y + h, x : x + w]
    if found.light_ink:
        patch = 255 - patch  # chalk on a board: make the ink dark, like pen on paper
    # Ink strength against this crop's own paper (its 90th percentile), so uneven light cancels out.
    rank = max(0, int(np.ceil(0.9 * patch.size)) - 1)
    paper = int(np.partition(patch, rank, axis=None)[rank])
    peak = paper - int(patch.min())
    if peak <= 0:
        return np.zeros((h, w), np.float32)
    # Paper grain and noise stay below a fifth of the stroke: ink is what is darker than that level.
    ink = np.subtract(paper - 0.2 * peak, patch, dtype=np.float32)
    np.maximum(ink, 0, out=ink)
    scale, (left, top) = found.scale, found.offset
    x0, y0 = int(x * scale) + left, int(y * scale) + top
    x1, y1 = max(x0 + 1, int(np.ceil((x + w) * scale)) + left), max(y0 + 1, int(np.ceil((y + h) * scale)) + top)
    labels = found.labels[y0:y1, x0:x1]
    own = (labels == members[0] if len(members) == 1 else np.isin(labels, members)).view(np.uint8)
    # Filled outlines: an adaptive threshold leaves bold strokes hollow, but all their ink is the digit's.
    outlines, _ = cv2.findContours(own, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(own, outlines, -1, 1, thickness=-1)
    own = cv2.dilate(own, NEIGHBOURS)
    if own.shape == (h, w):  # detection ran at full resolution
        return ink * own
    return ink * cv2.resize(own.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
