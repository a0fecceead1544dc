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
GAP = 1  # blank pixels around each crop on a `Sheet`
# A thin pen (`thickened`): a crop whose fitted ink weighs under THIN_MASS full pixels (the lightest of 60,000
# MNIST training digits, a 1, weighs 20; a 2-px line drawn 400 px tall, 8) and whose strokes are all under
# THIN_LIMIT fitted pixels wide (MNIST's are 1.6 or more) has them redrawn THIN_WIDTH wide (MNIST's median is
# 2.2), at THICKEN_DETAIL times the fitted size, where the pen's line is still whole. Tuned on train seeds
# 1 and 3: at 0.5 a few more thin digits were lost, at any limit a few broken printed boxes read as 7s.
THIN_MASS = 40.0
THIN_LIMIT = 0.75
THIN_WIDTH = 2.0
THICKEN_DETAIL = 4


def fit_mnist(ink: np.ndarray, thin_pens: bool = False) -> np.ndarray:
    """One crop of ink, any size, to the MNIST form.

    Args:
        ink: (H, W) float32 or uint8, ink bright on dark (0 = paper); any range.
        thin_pens: redraw a thin pen's strokes as wide as MNIST's (`thickened`), as the pipeline does for
            its candidates with `detect.thin_pens`. Not for the pieces that `segment` tries (the sides of a
            printed box's broken outline read as 1s and 7s: forms, train seed 3, 8 more false digits in 150
            photos), nor in training, whose crops are made as the shipped model's were.
    Returns:
        (28, 28) float32 in [0, 1]; all zeros when there is no ink.
    """
    ink = ink.astype(np.float32, copy=False)
    peak = float(ink.max()) if ink.size else 0.0
    if peak <= 0:
        return np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    # numpy's comparison: OpenCV's `compare` with a scalar took 0.1-0.3 ms a crop (opencv-python 4.13 on an
    # AVX2 host; opencv/opencv#28251 reports it 4x slower since 4.12 through IPP), numpy's 3 microseconds.
    x, y, width, height = cv2.boundingRect((ink > INK_FLOOR * peak).view(np.uint8))
    ink = ink[y : y + height, x : x + width]
    scale = FIT_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA anti-aliases when shrinking; enlarging a tiny crop wants interpolation instead.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    fitted = cv2.resize(ink, size, interpolation=interpolation)
    columns, rows = fitted.sum(axis=0), fitted.sum(axis=1)
    mass = float(columns.sum())
    thick = thickened(ink, size, peak) if thin_pens and 0 < mass < THIN_MASS * peak else None
    if thick is not None:
        fitted = thick * peak
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


def thickened(ink: np.ndarray, size: tuple[int, int], peak: float) -> np.ndarray | None:
    """A thin pen's ink (cropped to its box, brightest `peak`) fitted to `size` with its strokes THIN_WIDTH
    fitted pixels wide, peak 1; None unless its strokes would be under THIN_LIMIT fitted pixels wide. A fine
    pen's digit written large, or one drawn in a paint program with a 1-px brush, shrunk straight to 20x20,
    is a faint trace a tenth of a pixel wide, which the CNN reads as not a digit."""
    line = (ink >= 0.5 * peak).view(np.uint8)
    # A line one or two pixels wide measures 2, so a crop under 53 px (2 px at 0.75 fitted px) is never thin.
    width = stroke_width(line) * size[1] / ink.shape[0]  # in fitted pixels
    # And every stroke thin: none survives an erosion as wide as the limit. A digit inside the thin outline of
    # its printed box, read as one, keeps its own bold strokes.
    reach = int(THIN_LIMIT * ink.shape[0] / size[1]) // 2 + 1
    if width > THIN_LIMIT or cv2.erode(line, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).any():
        return None
    detail = (size[0] * THICKEN_DETAIL, size[1] * THICKEN_DETAIL)
    larger = detail[0] > ink.shape[1] or detail[1] > ink.shape[0]
    fine = cv2.resize(ink, detail, interpolation=cv2.INTER_LINEAR if larger else cv2.INTER_AREA)
    # Here the line is a pixel or two wide, fainter where it crosses between pixels: its brightest half
    # counts as the whole line, and is widened to THIN_WIDTH fitted pixels.
    fine = np.minimum(fine * (2.0 / float(fine.max())), 1.0)
    grow = max(2, round((THIN_WIDTH - width) * THICKEN_DETAIL))
    fine = cv2.dilate(fine, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow + 1, grow + 1)))
    return cv2.resize(fine, size, interpolation=cv2.INTER_AREA)


def stroke_width(mask: np.ndarray) -> float:
    """The mean width of a mask's strokes, (h, w) uint8 0/1: twice its area over its outline (a band of width
    w and length L has area wL and an outline of 2L), the outline being what a 3x3 erosion takes off,
    the mask's edge included."""
    area = int(mask.sum())
    inner = int(cv2.erode(mask, NEIGHBOURS, borderType=cv2.BORDER_CONSTANT, borderValue=0).sum())
    return 2 * area / max(area - inner, 1)


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
    return fit_crops(cut_inks(gray, found, found.boxes, found.members))


def fit_crops(inks: list[np.ndarray], thin_pens: bool = False) -> np.ndarray:
    """`fit_mnist` for each crop's ink: (N, 28, 28, 1) float32, the classifier's input."""
    crops = np.zeros((len(inks), MNIST_SIZE, MNIST_SIZE, 1), np.float32)
    for i, ink in enumerate(inks):
        crops[i, :, :, 0] = fit_mnist(ink, thin_pens)
    return crops


def cut_inks(gray: np.ndarray, found, boxes, members: list[np.ndarray]) -> list[np.ndarray]:
    """The ink of each digit, (h, w) float32 per box: 0 where there is paper or someone else's ink.

    Each digit's ink is measured against its own paper (the crop's 90th percentile grey), so that uneven
    light cancels out; paper grain and noise stay below a fifth of the stroke. Its mask is its components
    with their outlines filled (an adaptive threshold leaves bold strokes hollow, but all their ink is the
    digit's) and one pixel of the anti-aliased rim around them.

    All crops of a frame are laid out on one sheet (`Sheet`), so that most steps are one call for them all:
    call by call, a crop of 50x40 pixels costs more in Python than in OpenCV (a throughput-clip frame's
    9 crops: 0.65 ms one by one, 0.4 on a sheet, with the same ink to the last bit).

    Args:
        gray: (H, W) uint8 frame; found: `detect.Found` for it; boxes: (N, 4) x, y, w, h in frame pixels;
        members: per box, the labels of its components in `found.labels`.
    """
    boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
    if not len(boxes):
        return []
    on_paper = Sheet(boxes)
    grey = on_paper.paste(gray, 255)
    if found.light_ink:
        grey = 255 - grey  # chalk on a board: make the ink dark, like pen on paper
    # Each crop's grey levels, counted in one pass: its paper (90th percentile) and its darkest ink.
    counts = np.bincount((on_paper.numbers() * 256 + grey).ravel(), minlength=(len(boxes) + 1) * 256)
    counts = counts.reshape(-1, 256)[1:]
    rank = np.maximum(np.ceil(0.9 * (boxes[:, 2] * boxes[:, 3])).astype(np.int64) - 1, 0)
    paper = (counts.cumsum(axis=1) <= rank[:, None]).sum(axis=1)
    peak = paper - (counts > 0).argmax(axis=1)
    ink = np.zeros(on_paper.shape, np.float32)
    levels = (paper - 0.2 * peak).astype(np.float32)  # peak 0: nothing is darker than the paper, no ink
    for place, level in zip(on_paper.places, levels):
        np.subtract(level, grey[place], out=ink[place], dtype=np.float32)
    np.maximum(ink, 0, out=ink)
    on_masks, masks = digit_masks(found, boxes, members, on_paper)
    if on_masks is on_paper:  # detection ran at full resolution
        ink *= masks
        return on_paper.crops(ink)
    return [
        crop * cv2.resize(mask.astype(np.float32), crop.shape[::-1], interpolation=cv2.INTER_LINEAR)
        for crop, mask in zip(on_paper.crops(ink), on_masks.crops(masks))
    ]


def digit_masks(found, boxes: np.ndarray, members: list[np.ndarray], sheet: Sheet) -> tuple[Sheet, np.ndarray]:
    """Each box's mask at working scale: its own components, holes filled, plus a 1-pixel rim. Returns the
    sheet of the masks (`sheet` itself when detection ran at full resolution) and the masks on it (uint8 0/1)."""
    scale, (left, top) = found.scale, found.offset
    height, width = found.labels.shape
    x, y, w, h = boxes.T
    x0, y0 = np.floor(x * scale).astype(np.int64) + left, np.floor(y * scale).astype(np.int64) + top
    x1 = np.minimum(np.maximum(x0 + 1, np.ceil((x + w) * scale).astype(np.int64) + left), width)
    y1 = np.minimum(np.maximum(y0 + 1, np.ceil((y + h) * scale).astype(np.int64) + top), height)
    working = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    on_sheet = sheet if np.array_equal(working, boxes) else Sheet(working)
    own = np.zeros(on_sheet.shape, bool)
    for place, (x, y, w, h), parts in zip(on_sheet.places, working.tolist(), members):
        labels = found.labels[y : y + h, x : x + w]
        np.equal(labels, int(parts[0]), out=own[place])  # a Python int: no cast of the labels to int64
        for part in parts[1:].tolist():
            own[place] |= labels == part
    # Filled outlines: an adaptive threshold leaves bold strokes hollow, but all their ink is the digit's.
    # The margins between the boxes join up with the sheet's edge: what the paper outside cannot reach is
    # ink, or a hole in it.
    outside = own.view(np.uint8).copy()
    cv2.floodFill(outside, None, (0, 0), 2)
    return on_sheet, cv2.dilate((outside != 2).view(np.uint8), NEIGHBOURS)


class Sheet:
    """Boxes of a frame laid out side by side on one image, GAP apart, so that one call works on all of
    them: no outline and no 3x3 neighbourhood reaches from one box into another.
    """

    def __init__(self, boxes: np.ndarray) -> None:
        """boxes: (N, 4) int x, y, w, h in the image that `paste` will cut them from."""
        self.boxes = boxes
        at = shelves(boxes[:, 2], boxes[:, 3])
        self.shape = (int((at[:, 1] + boxes[:, 3]).max()) + GAP, int((at[:, 0] + boxes[:, 2]).max()) + GAP)
        # Where each box lies on the sheet, as (rows, cols) slices.
        self.places = [
            (slice(top, top + h), slice(left, left + w))
            for (left, top), (_, _, w, h) in zip(at.tolist(), boxes.tolist())
        ]

    def paste(self, image: np.ndarray, blank: int) -> np.ndarray:
        """The boxes' pixels of `image` on a sheet of `blank`."""
        sheet = np.full(self.shape, blank, image.dtype)
        for place, (x, y, w, h) in zip(self.places, self.boxes.tolist()):
            sheet[place] = image[y : y + h, x : x + w]
        return sheet

    def numbers(self) -> np.ndarray:
        """(rows, cols) int32: which box each pixel of the sheet shows, counting from 1; 0 in the margins."""
        numbers = np.zeros(self.shape, np.int32)
        for number, place in enumerate(self.places, start=1):
            numbers[place] = number
        return numbers

    def crops(self, sheet: np.ndarray) -> list[np.ndarray]:
        """Each box's part of a sheet (views)."""
        return [sheet[place] for place in self.places]


def shelves(widths: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """(N, 2) int64 left, top of each box on a sheet: in rows, tallest boxes first, GAP apart, the rows
    about twice as long as the sheet is tall."""
    limit = max(int(widths.max()), int(np.sqrt(2 * ((widths + GAP) * (heights + GAP)).sum())))
    at = np.zeros((len(widths), 2), np.int64)
    left, top, row = GAP, GAP, 0
    for i in np.argsort(-heights, kind="stable").tolist():
        width, height = int(widths[i]), int(heights[i])
        if left > GAP and left + width > limit + GAP:
            left, top, row = GAP, top + row + GAP, 0
        at[i] = left, top
        left, row = left + width + GAP, max(row, height)
    return at
