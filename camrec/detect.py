"""Detection: where the digits are. Grayscale frame in, digit boxes out, in reading order.

Adaptive threshold (it survives uneven light and shadows) on a frame scaled down to `work_width`,
long ruling and grid lines taken out, outer contours only (the holes of 0, 4, 6, 8 and 9 are not
digits), pieces of one digit merged (a 5 with a detached bar), then gates on size, aspect and ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camrec.config import DetectConfig

SPECK = 4  # components smaller than this many working pixels are noise, not even pieces of digits
LINE_SHARE = 0.35  # a horizontal run longer than this share of the frame width is ruling, not a stroke
LINE_STEP = 4  # lines are looked for on a copy this many times shorter along the line


@dataclass(frozen=True)
class Found:
    """What the detector saw in one frame.

    boxes: (N, 4) int32, x, y, w, h in frame pixels, reading order; binary: (h, w) uint8 ink mask and
    labels: (h, w) int32 component labels, both at working scale; members: per box, the (k,) int array
    of component labels it is made of; scale: working / frame; light_ink: whether ink was light on dark.
    """

    boxes: np.ndarray
    binary: np.ndarray
    labels: np.ndarray
    members: list[np.ndarray]
    scale: float
    light_ink: bool


def find_digit_boxes(gray: np.ndarray, cfg: DetectConfig) -> Found:
    """Find digit boxes in a grayscale frame.

    Args:
        gray: (H, W) uint8 grayscale frame.
        cfg: the `detect` section of the config.
    Returns:
        Found, whose `boxes` are (N, 4) int32 x, y, w, h in frame pixels, top-to-bottom then left-to-right.
    """
    scale = min(1.0, cfg.work_width / gray.shape[1])
    small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if cfg.ink != "auto":
        return find_in(small, gray.shape, scale, cfg, light_ink=cfg.ink == "light")
    # Ink of unknown polarity: read the frame both ways and keep the reading that finds more digits.
    dark, light = (find_in(small, gray.shape, scale, cfg, light_ink) for light_ink in (False, True))
    return light if len(light.boxes) > len(dark.boxes) else dark


def find_in(small: np.ndarray, shape: tuple[int, ...], scale: float, cfg: DetectConfig, light_ink: bool) -> Found:
    """`find_digit_boxes` for one ink polarity, on the working-scale frame `small`."""
    source, binary, darkness = threshold_ink(small, cfg, light_ink)
    _, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    min_h, max_h = cfg.min_height * small.shape[0], cfg.max_height * small.shape[0]
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    tall = (heights >= 0.6 * min_h) & (heights <= max_h)
    tall[0] = False  # label 0 is the background
    contrast, ink_levels = component_means(labels, stats, np.flatnonzero(tall), darkness, source)
    tall &= contrast >= cfg.min_contrast
    candidates = np.flatnonzero(tall)
    pieces = np.flatnonzero(~tall & (stats[:, cv2.CC_STAT_AREA] >= SPECK))
    pieces = pieces[pieces > 0]
    candidates = candidates[uncluttered(stats, centroids, candidates, pieces, cfg.max_clutter)]
    paper = cv2.integral(source)
    kept_boxes, kept_members = [], []
    for members in merge_pieces(stats, candidates, pieces, cfg.max_aspect):
        x, y, w, h = group_box(stats, members)
        ink = int(stats[members, cv2.CC_STAT_AREA].sum())
        # A box touching the frame's edge holds a digit cut in part: better unread than misread.
        inside = x > 0 and y > 0 and x + w < small.shape[1] and y + h < small.shape[0]
        if not (inside and min_h <= h <= max_h and w <= cfg.max_aspect * h and ink >= cfg.min_fill * w * h):
            continue
        ink_level = ink_levels[members[0]]  # the candidate itself; merged pieces are too small to matter
        if darkest_side(paper, (x, y, w, h)) - ink_level >= cfg.min_contrast:
            kept_boxes.append((x, y, w, h))
            kept_members.append(members)
    order = reading_order(np.array(kept_boxes, np.float64).reshape(-1, 4))[: cfg.max_boxes]
    boxes = np.array([kept_boxes[i] for i in order], np.float64).reshape(-1, 4)
    frame_boxes = to_frame_pixels(boxes, scale, shape)
    return Found(frame_boxes, binary, labels, [kept_members[i] for i in order], scale, light_ink)


def uncluttered(
    stats: np.ndarray, centroids: np.ndarray, candidates: np.ndarray, specks: np.ndarray, max_clutter: float
) -> np.ndarray:
    """Which candidates stand on clean paper: little speckle ink in a ring around their box.

    A digit on paper has blank paper around it; wood grain, fabric or a keyboard thresholds into a mass
    of small specks. Neighbouring digits are tall components, so they never count as clutter.
    """
    if len(candidates) == 0 or len(specks) == 0:
        return np.ones(len(candidates), bool)
    x, y, w, h = (stats[candidates, i][:, None].astype(np.float64) for i in range(4))
    pad = np.maximum(2.0, 0.3 * h)
    sx, sy = centroids[specks, 0][None, :], centroids[specks, 1][None, :]
    in_outer = (sx >= x - pad) & (sx < x + w + pad) & (sy >= y - pad) & (sy < y + h + pad)
    in_inner = (sx >= x) & (sx < x + w) & (sy >= y) & (sy < y + h)
    ring_ink = ((in_outer & ~in_inner) * stats[specks, cv2.CC_STAT_AREA][None, :]).sum(axis=1)
    ring_area = (w + 2 * pad) * (h + 2 * pad) - w * h
    return ring_ink / ring_area[:, 0] <= max_clutter


def threshold_ink(small: np.ndarray, cfg: DetectConfig, light_ink: bool) -> tuple[np.ndarray, ...]:
    """Ink as 255 on 0: pixels clearly darker (or, for light ink, lighter) than their neighbourhood.

    Returns the smoothed grey it worked on (ink dark, paper light, whatever the ink), the binary mask,
    and the darkness map (neighbourhood mean minus pixel, float32) that made it.
    """
    source = 255 - small if light_ink else small
    source = cv2.GaussianBlur(source, (3, 3), 0)  # sensor noise and JPEG blocks are not ink
    # The adaptive mean threshold, written out: the darkness map also measures each component's contrast.
    darkness = cv2.blur(source, (cfg.block_size, cfg.block_size)).astype(np.float32) - source
    binary = (darkness > cfg.offset).astype(np.uint8) * 255
    binary = remove_long_lines(binary)
    # Close hairline gaps in pen strokes so that one digit stays one component.
    return source, cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((2, 2), np.uint8)), darkness


def component_means(labels: np.ndarray, stats: np.ndarray, which: np.ndarray, *maps: np.ndarray) -> list:
    """For each map, its mean over the pixels of each component in `which`, (components,) float64 (0 elsewhere).

    Only the few tall components are measured, each inside its own box: far cheaper than the whole frame.
    """
    means = [np.zeros(len(stats)) for _ in maps]
    for c in which:
        x, y, w, h = stats[c, :4]
        own = labels[y : y + h, x : x + w] == c
        for mean, values in zip(means, maps):
            mean[c] = values[y : y + h, x : x + w][own].mean()
    return means


def darkest_side(integral: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The mean grey of the darkest of four bands just outside a box (left, right, above, below).

    A digit has paper on every side. The dark rim of a desk beside the sheet, or a shadow's edge, is
    darker than its neighbourhood only on one side: there the band over the desk is as dark as the "ink".
    """
    x, y, w, h = box
    pad = max(2, h // 6)
    height, width = integral.shape[0] - 1, integral.shape[1] - 1
    bands = (
        (x - pad, y, x, y + h),
        (x + w, y, x + w + pad, y + h),
        (x, y - pad, x + w, y),
        (x, y + h, x + w, y + h + pad),
    )
    means = []
    for x0, y0, x1, y1 in bands:
        x0, x1, y0, y1 = max(0, x0), min(width, x1), max(0, y0), min(height, y1)
        if x1 > x0 and y1 > y0:
            total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
            means.append(total / ((x1 - x0) * (y1 - y0)))
    return float(min(means)) if means else 0.0


def remove_long_lines(binary: np.ndarray) -> np.ndarray:
    """Take out ruling, grid lines and the sheet's edges: straight runs longer than a digit's strokes.

    Horizontal: over a third of the frame wide (a digit's bar is shorter). Vertical: over 60 % of the
    frame tall, which spares the stem of a 1 written as tall as a drawing canvas or held close to a camera.
    """
    height, width = binary.shape
    lines = cv2.bitwise_or(
        long_runs(binary, int(LINE_SHARE * width), axis=1), long_runs(binary, int(0.6 * height), axis=0)
    )
    lines = cv2.dilate(cv2.bitwise_and(lines, binary), np.ones((3, 3), np.uint8))
    return cv2.bitwise_and(binary, cv2.bitwise_not(lines))


def long_runs(binary: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Where straight runs of ink at least `length` long lie, along rows (axis 1) or columns (axis 0).

    Found on a copy squeezed LINE_STEP times along the run: a line stays a line, and the opening with a
    kernel that long costs a quarter as much.
    """
    height, width = binary.shape
    size = (max(1, width // LINE_STEP), height) if axis == 1 else (width, max(1, height // LINE_STEP))
    squeezed = cv2.resize(binary, size, interpolation=cv2.INTER_AREA)
    _, squeezed = cv2.threshold(squeezed, 127, 255, cv2.THRESH_BINARY)
    steps = max(3, length // LINE_STEP)
    kernel = np.ones((1, steps) if axis == 1 else (steps, 1), np.uint8)
    return cv2.resize(
        cv2.morphologyEx(squeezed, cv2.MORPH_OPEN, kernel), (width, height), interpolation=cv2.INTER_NEAREST
    )


def group_box(stats: np.ndarray, members: np.ndarray) -> tuple[int, int, int, int]:
    """The box around several components, x, y, w, h at working scale."""
    chosen = stats[members]
    x0, y0 = int(chosen[:, 0].min()), int(chosen[:, 1].min())
    x1, y1 = int((chosen[:, 0] + chosen[:, 2]).max()), int((chosen[:, 1] + chosen[:, 3]).max())
    return x0, y0, x1 - x0, y1 - y0


def merge_pieces(stats: np.ndarray, candidates: np.ndarray, pieces: np.ndarray, max_aspect: float) -> list[np.ndarray]:
    """Join shorter parts to the candidate they belong to (a 5's detached bar, a broken 4's stroke).

    A part (a small piece, or a shorter candidate too wide to be a digit) joins a candidate at least 1.6x
    its height that it overlaps horizontally and nearly touches vertically, and only when the union is no
    taller than 1.35x that candidate. Digits of one column are of similar height, so they never chain into one box.
    """
    # Shorter candidates may join only when too wide to be a digit themselves (a 5's bar, a 7's top).
    bars = candidates[stats[candidates, cv2.CC_STAT_WIDTH] > max_aspect * stats[candidates, cv2.CC_STAT_HEIGHT]]
    parts = np.union1d(pieces, bars)
    px, py, pw, ph = (stats[parts, i].astype(np.int64) for i in range(4))
    taken = np.zeros(len(parts), bool)
    groups = []
    joined: set[int] = set()
    for c in sorted(candidates, key=lambda c: -stats[c, cv2.CC_STAT_HEIGHT]):
        if c in joined:
            continue
        cx, cy, cw, ch = (int(v) for v in stats[c, :4])
        overlap = np.minimum(px + pw, cx + cw) - np.maximum(px, cx)
        gap = np.maximum(np.maximum(cy - (py + ph), py - (cy + ch)), 0)
        union = np.maximum(py + ph, cy + ch) - np.minimum(py, cy)
        joins = (
            ~taken & (ch >= 1.6 * ph) & (overlap >= 0.5 * np.minimum(pw, cw)) & (gap <= 0.2 * ch) & (union <= 1.35 * ch)
        )
        joins &= parts != c
        taken |= joins
        joined.update(int(p) for p in parts[joins])
        groups.append(np.concatenate([[c], parts[joins]]))
    return groups


def reading_order(boxes: np.ndarray) -> list[int]:
    """Indices of boxes top to bottom by line, then left to right within a line."""
    if len(boxes) == 0:
        return []
    centres = boxes[:, 1] + boxes[:, 3] / 2
    line_gap = 0.5 * float(np.median(boxes[:, 3]))
    order = np.argsort(centres, kind="stable")
    lines: list[list[int]] = []
    for i in order:
        if lines and centres[i] - np.mean([centres[j] for j in lines[-1]]) <= line_gap:
            lines[-1].append(int(i))
        else:
            lines.append([int(i)])
    return [i for line in lines for i in sorted(line, key=lambda j: boxes[j, 0])]


def to_frame_pixels(boxes: np.ndarray, scale: float, shape: tuple[int, ...]) -> np.ndarray:
    """Working-scale boxes to integer frame pixels, clipped to the frame."""
    if scale != 1.0:
        boxes = boxes / scale
    height, width = shape[:2]
    x0 = np.clip(np.floor(boxes[:, 0]), 0, width - 1)
    y0 = np.clip(np.floor(boxes[:, 1]), 0, height - 1)
    x1 = np.clip(np.ceil(boxes[:, 0] + boxes[:, 2]), x0 + 1, width)
    y1 = np.clip(np.ceil(boxes[:, 1] + boxes[:, 3]), y0 + 1, height)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1).astype(np.int32).reshape(-1, 4)
