"""Detection: where the digits are. Grayscale frame in, digit boxes out, in reading order.

Adaptive threshold (it survives uneven light) that also asks ink to be darker than the lightest paper
around it (so a hard shadow's edge is no ink), on a frame scaled down to `work_width`; long ruling and
grid lines taken out, outer contours only (the holes of 0, 4, 6, 8 and 9 are not digits), printed boxes
taken out (a form's answer boxes), pieces of one digit merged (a 5 with a detached bar), then gates on
size, aspect and ink.
"""

from __future__ import annotations

import statistics
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import NamedTuple

import cv2
import numpy as np

from camrec.config import DetectConfig
from camrec.cores import beside
from camrec.detections import iou_matrix
from camrec.normalize import NEIGHBOURS, stroke_width

SPECK = 4  # components smaller than this many working pixels are noise, not even pieces of digits
LINE_SHARE = 0.35  # a horizontal run longer than this share of the frame width is ruling, not a stroke
LINE_STEP = 4  # lines are looked for on a copy this many times shorter along the line
LEVEL_OVERLAP = 1.25  # a finer level also admits digits this much over the floor of the level before
# A finer level asks ink to stand out this much more: at four times a squared sheet's resolution, bits of
# its grid pass as small 7s and 1s. Tuned on train digits: photo-sized hard scenes get 11 more false digits
# in 90 frames than with one level at 1x, none more at 1.25x; a faint pencil worksheet keeps F1 0.985
# (0.990 at 1x, 0.903 at 1.5x).
FINER_CONTRAST = 1.25
# A close-up reading sees the frame shrunk to a third of its size in the middle of a sheet of its own paper,
# so that a digit as tall as the frame, or a 7 whose bar spans it, looks like a camera frame's digit: under
# the height gate (80 %), and with a bar shorter than a ruling line (35 % of the width).
CLOSE_UP = 3
CLOSE_UP_FLOOR = 0.35  # the close-up reads digits at least this share of the frame's height
# At the frame's own scale a digit held close reads as a few pieces of its strokes, each under the close-up's
# floor (1 to 5 boxes in 200 tuning frames); a sheet of digits shows more (8 or more in every frame of the
# throughput clip). So a video frame with fewer boxes is read as a close-up too. Tuned on those 200 frames
# (train digits): as video reads them, F1 0.679 -> 0.980 (0.975 from 5 boxes, the same from 8), with the
# close-up thresholded as the frame is (0.987 with CLOSE_UP_CONTRAST).
FEW_BOXES = 6
# The canvas is 480 px wide rather than the work width: there a bold marker's strokes stay thinner than the
# threshold's block. Tuning seeds 1 and 3, train digits, 120 images each: digits cropped from a photo
# 0.945 / 0.847 -> 0.992 / 0.954, drawn 0.954 / 0.953 -> 0.987 / 0.992; 320 px lost held-close frames.
CLOSE_UP_CANVAS = 0.75
# The close-up asks ink to stand out twice as much as the frame's reading does, each pixel (the threshold's
# offset) and each digit (its contrast). Shrunk to a third, a soft shadow's band is as narrow as a stroke
# and its edge as steep: the close-up read the band as a 1, or a digit and the shadow beside it as one
# taller digit, which then took the place of the frame's own reading. A digit held close is inked, far
# darker than a shadow. Tuning seed 1 (`--pool train`), with FEW_BOXES: the held-close frames 0.992 ->
# 1.000 (live and as video reads them), every other group the same, and at 1x a ruled frame and a clip
# frame each had such a false digit. 30 more tuning clips (1,800 frames): 3 frames read worse with the
# close-up than without it when only the contrast was doubled, 4 when only the offset was, none with both.
CLOSE_UP_CONTRAST = 2.0
EDGE_MARGIN = 0.01  # in a close-up, a box this near the frame's edge (share of its size) touches it
# An image this small on its longer side is a digit's own image (MNIST's 28x28, USPS's 16x16, a 32x32 crop),
# never a camera's view: its digit is whole, even where a stroke runs to its edge (MNIST centres each
# digit's mass, which takes a 7's foot down to the last row).
DIGIT_IMAGE_SIDE = 64
# A box wider than a digit may hold several digits whose ink joined (a number written fast); up to this
# width / height it is kept aside for `segment` to cut.
MAX_RUN_ASPECT = 4.5
# A group under the fill gate drawn with a thin pen (`drawn_thin`): its strokes at most THIN_STROKE of its height
# wide, its fill measured as if drawn with MNIST's pen, MNIST_PEN of its height (2.2 of a digit's 20 px).
THIN_STROKE = 0.04
MNIST_PEN = 0.11
# Printed boxes (`find_printed_boxes`): a component is one when its convex hull fills at least BOX_SQUARENESS
# of the smallest rectangle around it and its ink is at most BOX_INK of the hull; neither side is under
# BOX_ASPECT of the other (a row of up to ten answer boxes whose lines touch is one component). A digit
# written against a box's edge keeps its ink BOX_BAND of the box's shorter side inside it.
BOX_SQUARENESS = 0.95
BOX_INK = 0.5
BOX_ASPECT = 0.1
BOX_BAND = 0.08
SIDE_DEPTH = 0.12  # `sides_inked`
# A grid (`read_grid`: a sudoku, a table) is a printed box with at least GRID_CELLS cells, holes at least
# GRID_SQUARE of their box (an empty cell is a rectangle; a box that a 1 split has two pieces, a 3 makes
# ragged ones); its lines run on for GRID_RUN of a cell's median size (a digit's stroke is shorter than a
# cell), or GRID_SPAN of the grid in a grid one cell tall or wide. At GRID_RUN 0.8 a tall 1's or 6's stem
# was a line: 40 tuning grids of train digits as camera frames read 0.784, 0.848 at 1.5 (with the rows
# thickened 5 px rather than 3, and the lines cut back to their own ink).
GRID_CELLS = 3
GRID_SQUARE = 0.75
# A grid of more cells than a sudoku and a times table hold is squared paper, whose cells part no numbers.
GRID_MOST_CELLS = 150
GRID_RUN, GRID_SPAN = 1.5, 0.9
# A level grid's long lines go as ruling (`remove_long_lines`) before `find_printed_boxes` can see it whole,
# and are put back (`level_grid_region`) where lines across them pass through them, or run from one to the
# next, at LEVEL_GRID_CROSSINGS places or more: lines across that run on for LEVEL_GRID_RUN of the narrowest
# gap between the lines found (a cell), counting gaps of at least LEVEL_GRID_GAP digit floors (nearer lines
# are a line's two edges, or the desk's clutter along the sheet's edge). More than LEVEL_GRID_LINES lines
# found is ruled or squared paper: its lines go. Grids seen square on (`grid:level_camera`), train seeds 1
# and 3: 0.726 -> 0.871 and 0.715 -> 0.915.
LEVEL_GRID_LINES = 16
LEVEL_GRID_GAP = 2.0
LEVEL_GRID_RUN = 1.5
LEVEL_GRID_CROSSINGS = 3
# An outline BOX_ROW times as wide as tall is a row of boxes; inside it, a piece at least DIVIDER_HEIGHT as
# tall as the inside and at most DIVIDER_WIDTH as wide as tall is a line between two boxes (`dividers`).
BOX_ROW = 1.6
DIVIDER_HEIGHT = 0.85
DIVIDER_WIDTH = 0.25
# A comb too wide for that, whose lines are taken out as ruling (`comb_sides`): at least COMB_SIDES thin boxes
# as tall as each other (within COMB_HEIGHTS), each from a line taken out to a line taken out, LINE_REACH
# pixels away at most (the lines' mask reaches a pixel past the line's ink).
COMB_SIDES = 3
COMB_HEIGHTS = 0.15
LINE_REACH = 3
# A line under a digit that runs past it by UNDERLINE_REACH of its height on both sides is no piece of it
# (`merge_pieces`).
UNDERLINE_REACH = 0.05
RING_MARGIN, RING_HOLDS, RING_RAYS = 0.05, 0.3, 16  # `rings_around`
LINE_FLAT = 4  # a piece this many times as wide as tall, and a digit's least height long, is a line: no speck
# Ruling that the long-runs search misses: lines that lean (a sheet held a little turned), or that break
# beside dark digits (where the neighbourhood's mean is as dark as the line). A frame with RULED_LINES or
# more lines one way standing alone (components LINE_SHARE of the width long, or 60 % of the height, and at most
# RULING_THICK pixels thick on average) is ruled paper, and its lines are taken out where they run through
# digits too (`without_ruling`): followed straight on from each piece RULING_PIECE of a line's length long
# that is thin across (under RULING_THICK), with crossings of strokes under RULING_GAP wide bridged. Beside
# a dark digit, a line is looked for also where it is darker than the lightest paper around it by
# RULING_CONTRAST times the threshold's offset (at the offset itself, paper grain joins the lines up and
# down, and nothing is thin across). Hard scenes on bold ruling (`accuracy.py --pool train`, seeds 1 and 3,
# `ruling:` groups): ruled 0.418 -> 0.911 and 0.442 -> 0.929, squared 0.481 -> 0.876 and 0.500 -> 0.831;
# every other group the same but two (seed 3: photos of moderate scenes 0.940 -> 0.950, pencil 0.877 -> 0.874).
RULED_LINES = 3
RULING_THICK = 7
RULING_GAP = 15
RULING_STRAIGHT = 2.0
RULING_PIECE = 0.5
RULING_CONTRAST = 2.0
# A line that runs through a row of digits written on it may have no piece that long clear of them: pieces
# at least RULING_SHORT long that lean as the long pieces do (within RULING_LEAN radians) and lie on one
# line (each one's middle within RULING_OFFSET pixels of the line through the other's) make one line when
# they are as long as a long piece between them (`collinear_rows`). Train seeds 1 and 3 (`ruling:` groups):
# bold ruled 0.911 -> 0.948 and 0.929 -> 0.977, bold squared 0.876 -> 0.946 and 0.831 -> 0.945, every other
# group the same but pencil (seed 3, 0.874 -> 0.870: a 4's bar and a 9's loop on lines went with them).
# Pieces from 45 px read the same, from 20 px 7 digits fewer on squared; offsets of 2 to 4.5 px the same;
# leans of 0.015 to 0.06 within a digit. A piece that is not straight is fitted again to its pixels within
# half a track of its first fit, if they are RULING_INLIERS of it (`piece_moments`): lines that run off the
# sheet into the desk's grain. Squared 0.946 -> 0.957 and 0.945 -> 0.964, ruled 0.948 -> 0.950 and the
# same, pencil (seed 3) 0.870 -> 0.867 (a 6's loop); shares from 0.7 to 0.9 and half-widths from 2.5 to
# 5 px within 0.015.
RULING_SHORT = 30
RULING_LEAN = 0.05
RULING_OFFSET = 3.0
RULING_INLIERS = 0.8
# Squared paper's lines cross, and make one component (a lattice): a sheet's worth of it, LATTICE_INK of its
# box, with more than SQUARED_LINES straight pieces of line one way or the other (a sudoku has 10, a table a
# few more).
LATTICE_INK = (0.1, 0.4)
SQUARED_LINES = 16


@dataclass(frozen=True)
class Found:
    """What the detector saw in one frame.

    boxes: (N, 4) int32, x, y, w, h in frame pixels, reading order; binary: (h, w) uint8 ink mask and
    labels: (h, w) uint16 (int32 past 65,535) component labels, both at working scale; members: per box,
    the (k,) int array of component labels it is made of; scale: working / frame; light_ink: whether ink
    was light on dark; level: 0 at the work width, k at 2**k times it, -1 for the close-up (`ink_readings`);
    offset: where the frame's top-left corner lies in the working image (x, y), (0, 0) but in a close-up;
    runs, run_members: boxes too wide for one digit (up to MAX_RUN_ASPECT) and their components, which
    may hold several digits whose ink joined (`segment`); cells: (h, w) int32 at working scale, which
    grid cell each pixel lies in (1, 2, ...; 0 in none), or None in a frame without a grid (`grid_cells`).
    """

    boxes: np.ndarray
    binary: np.ndarray
    labels: np.ndarray
    members: list[np.ndarray]
    scale: float
    light_ink: bool
    level: int = 0
    offset: tuple[int, int] = (0, 0)
    runs: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    run_members: list[np.ndarray] = field(default_factory=list)
    cells: np.ndarray | None = None


def find_digit_boxes(gray: np.ndarray, cfg: DetectConfig) -> Found:
    """Find digit boxes in a grayscale frame; with `ink: auto`, the ink polarity that finds more boxes.

    Args:
        gray: (H, W) uint8 grayscale frame.
        cfg: the `detect` section of the config.
    Returns:
        Found, whose `boxes` are (N, 4) int32 x, y, w, h in frame pixels, top-to-bottom then left-to-right.
    """
    # Other levels, and the close-up, join a frame's digits after classification.
    first_level = replace(cfg, levels=1, close_up=False, close_up_when_big=False)
    return max(ink_readings(gray, first_level), key=lambda found: len(found.boxes))  # the first on a tie: dark


def ink_readings(gray: np.ndarray, cfg: DetectConfig) -> list[Found]:
    """The frame read for dark ink, for light ink, or (`ink: auto`) both ways, dark first; coarsest level
    first, then the close-up.

    A frame wider than the work width is also read at finer levels, up to `levels`: at twice the working
    width, then four times (never past the frame's own width). Each finer level looks only for digits too
    small for the level before, half as tall relative to the frame, so that such a digit looks to its
    threshold and gates as a camera frame's digits look to the first level. A scanned worksheet's 6 mm
    digits are 2 % of the page's height, under the floor that keeps a camera frame's specks out (3 % of the
    shorter side, `floor_side`: 2.1 % of an A4 page's height).

    With `close_up`, the frame is also read as a close-up (`close_up_view`), for digits too big for its
    own gates: a digit held close to a camera, an image of one digit drawn or cropped to fill it.
    """
    polarities = {"dark": [False], "light": [True], "auto": [False, True]}[cfg.ink]
    widths = []
    for level in range(cfg.levels):
        width = min(cfg.work_width * 2**level, gray.shape[1])
        if level and width <= widths[-1]:
            break  # the last level already read the frame at full resolution
        widths.append(width)
    images = shrunk(gray, widths)
    readings = []
    for level, (width, small) in enumerate(zip(widths, images)):
        gates = level_config(cfg, level, width, gray.shape)
        readings += [find_in(small, gray.shape, width_scale(gray, width), gates, ink, level) for ink in polarities]
    if cfg.close_up or (cfg.close_up_when_big and may_show_a_digit_held_close(readings, gray.shape[0])):
        canvas, scale, offset = close_up_view(gray, round(CLOSE_UP_CANVAS * cfg.work_width), images[0])
        gates = replace(
            cfg,
            min_height=CLOSE_UP_FLOOR / CLOSE_UP / portrait_share(canvas.shape),  # a share of the height here
            max_height=1 / CLOSE_UP,
            offset=cfg.offset * CLOSE_UP_CONTRAST,
            min_contrast=cfg.min_contrast * CLOSE_UP_CONTRAST,
        )
        readings += [find_in(canvas, gray.shape, scale, gates, light, -1, offset) for light in polarities]
    return readings


def may_show_a_digit_held_close(readings: list[Found], height: int) -> bool:
    """Whether the readings found a box (a digit's, or touching digits') as tall as the close-up's smallest
    digit (CLOSE_UP_FLOOR of the frame's height), or fewer than FEW_BOXES boxes: a digit held close, read in
    a few pieces or not at all. A sheet's digits, up to 140 px of a 480-px frame, are smaller, and more."""
    heights = np.concatenate([found.boxes[:, 3] for found in readings] + [found.runs[:, 3] for found in readings])
    return len(heights) < FEW_BOXES or int(heights.max()) >= CLOSE_UP_FLOOR * height


def floor_side(shape: tuple[int, ...]) -> int:
    """The side that a digit's least height (`min_height`) is a share of: the shorter one. A phone held
    upright films a sheet in a portrait frame, where a share of the height would be 1.8 times as many
    pixels as in the same frame held sideways, and its small digits would fall under the floor."""
    return min(shape[0], shape[1])


def portrait_share(shape: tuple[int, ...]) -> float:
    """The shorter side as a share of the height: 1 for a landscape frame."""
    return floor_side(shape) / shape[0]


def width_scale(gray: np.ndarray, width: int) -> float:
    """The scale (working / frame) at which the frame is `width` wide, never enlarged."""
    return min(1.0, width / gray.shape[1])


def shrunk(gray: np.ndarray, widths: list[int]) -> list[np.ndarray]:
    """The frame at each of these widths (rising), shrunk by averaging (INTER_AREA), never enlarged.

    A level whose next wider one is a whole number of its pixels across and down (twice, for a photo's
    1280 and 640) is averaged from that one rather than from the frame: the average of averages is the
    same but for rounding (a grey level), and from a 12-megapixel photo each level costs 12 to 16 ms,
    from an image twice as wide 0.1 ms.
    """
    images: list[np.ndarray] = []
    source = gray
    for width in reversed(widths):
        scale = width_scale(gray, width)
        # As `cv2.resize(fx=scale)` sizes it, but never 0 pixels (a strip 2 px tall and 2,600 wide).
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        if scale < 1.0:
            source = cv2.resize(source if divides(source, size) else gray, size, interpolation=cv2.INTER_AREA)
        images.append(source)
    return images[::-1]


def divides(image: np.ndarray, size: tuple[int, int]) -> bool:
    """Whether `image` is a whole number of pixels across and down for each pixel of `size` (width, height)."""
    return image.shape[1] % size[0] == 0 and image.shape[0] % size[1] == 0


def close_up_view(
    gray: np.ndarray, width: int, smaller: np.ndarray | None = None
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The frame at a third of its size in the middle of a `width`-wide canvas (or as tall, for a portrait
    frame) of the frame's own paper (its border's median grey); the scale (canvas / frame) and where the
    frame's top-left corner lies on the canvas. `smaller`: the frame already shrunk (`shrunk`), to average
    from when it divides (`divides`) the close-up's size, as a photo's 640-px level does (for a 12-megapixel
    photo, 28 ms less)."""
    height_px, width_px = gray.shape[:2]
    scale = width / (CLOSE_UP * max(height_px, width_px))
    size = (max(1, round(width_px * scale)), max(1, round(height_px * scale)))
    if scale < 1:
        source = smaller if smaller is not None and divides(smaller, size) else gray
        small = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
    else:  # enlarging a small image (a 28x28 digit) wants interpolation instead
        small = cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC)
    x, y = size[0] * (CLOSE_UP - 1) // 2, size[1] * (CLOSE_UP - 1) // 2
    canvas = cv2.copyMakeBorder(small, y, y, x, x, cv2.BORDER_CONSTANT, value=border_grey(gray))
    return canvas, scale, (x, y)


def border_grey(gray: np.ndarray) -> int:
    """The median grey of the frame's outermost pixels: its paper, when it shows one digit on a sheet."""
    return int(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))


def looks_light_on_dark(gray: np.ndarray) -> bool:
    """A dark border (the paper) and a little bright content (the ink): a white-on-black MNIST digit."""
    if border_grey(gray) >= 96:
        return False  # most images: light paper at the edge, and no need to count every pixel (48 MP: 24 ms)
    bright = cv2.countNonZero(cv2.threshold(gray, 160, 255, cv2.THRESH_BINARY)[1]) / gray.size
    return 0.005 < bright < 0.4


def level_config(cfg: DetectConfig, level: int, width: int, shape: tuple[int, ...]) -> DetectConfig:
    """The gates of a finer level, read at `width`: from its own floor up to a little over the floor of the
    level before (the two measure a digit's height a little differently; where both find one digit, the
    pipeline keeps the coarser reading's box)."""
    if level == 0:
        return cfg
    floor = cfg.min_height * cfg.work_width / width
    # The ceiling is a share of the height, the floor of the shorter side (`floor_side`).
    ceiling = cfg.min_height / 2 ** (level - 1) * LEVEL_OVERLAP * portrait_share(shape)
    return replace(
        cfg, min_height=floor, max_height=min(cfg.max_height, ceiling), min_contrast=cfg.min_contrast * FINER_CONTRAST
    )


def find_in(
    small: np.ndarray,
    shape: tuple[int, ...],
    scale: float,
    cfg: DetectConfig,
    light_ink: bool,
    level: int = 0,
    offset: tuple[int, int] = (0, 0),
) -> Found:
    """`find_digit_boxes` for one ink polarity, on the working-scale frame `small` (for a close-up, the
    canvas, with the frame's corner at `offset`)."""
    min_h, max_h = cfg.min_height * floor_side(small.shape), cfg.max_height * small.shape[0]
    # A level grid's lines stay in where grids are looked for (`box_candidates`), to be seen whole.
    grid_floor = min_h if level == 0 and cfg.printed_boxes else None
    source, binary, darkness, lines, restored, below_paper = threshold_ink(small, cfg, light_ink, grid_floor)
    # While the components are labelled: the integral image, and each ink pixel's grey and darkness.
    integral = beside(cv2.integral, source)
    picked = beside(ink_pixels, binary, darkness, source)
    labels, stats, centroids, tall, contrast, ink_levels = components(binary, picked, min_h, max_h, cfg)
    # Ruled or squared paper: its lines also run through the digits written on them.
    least_lines = lines_to_find(stats, small.shape, lines)
    if least_lines is not None:
        paper_dark = cv2.threshold(below_paper, RULING_CONTRAST * cfg.offset, 255, cv2.THRESH_BINARY)[1]
        unruled = without_ruling(binary, paper_dark, least_lines)
        if unruled is not None:
            binary, picked = unruled, beside(ink_pixels, unruled, darkness, source)
            labels, stats, centroids, tall, contrast, ink_levels = components(binary, picked, min_h, max_h, cfg)
    boxes_printed = find_printed_boxes(
        labels, stats, box_candidates(stats, tall, contrast, small.shape, level, cfg), min_h, lines
    )
    ruling = None if restored is None else outside_grids(restored, stats, boxes_printed)
    if ruling is not None:  # lines kept for a grid that is none: ruling after all
        binary, lines = cv2.subtract(binary, ruling), cv2.bitwise_or(lines, ruling)
    cells = None
    if boxes_printed or ruling is not None:  # a form's answer boxes: out of the ink, the digits labelled anew
        binary = without_printed_boxes(binary, stats, boxes_printed)
        if any(box.grid is not None for box in boxes_printed):
            source = with_grids_as_paper(source, darkness, stats, boxes_printed)
            integral = beside(cv2.integral, source)
            cells = grid_cells(small.shape, stats, boxes_printed)
        picked = beside(ink_pixels, binary, darkness, source)
        labels, stats, centroids, tall, contrast, ink_levels = components(binary, picked, min_h, max_h, cfg)
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    candidates = np.flatnonzero(tall)
    pieces = np.flatnonzero(~tall & (stats[:, cv2.CC_STAT_AREA] >= SPECK))
    pieces = pieces[pieces > 0]
    specks = pieces[heights[pieces] < 0.6 * min_h]  # not the desk's or the sheet edge's big components
    widths = stats[specks, cv2.CC_STAT_WIDTH]
    specks = specks[(widths < LINE_FLAT * heights[specks]) | (widths < min_h)]  # nor a line under a digit
    candidates = candidates[uncluttered(stats, centroids, candidates, specks, cfg.max_clutter)]
    one_digit = digit_image(shape)  # all its clear ink is that digit's
    if one_digit and len(candidates):
        # A 5's bar stands apart, a 4 comes in two strokes; a faint speck beside a 1 is no part of it.
        # Its tallest candidate leads the group, as in `merge_pieces` (`Gates` reads the leader's ink).
        clear = pieces[contrast[pieces] >= cfg.min_contrast]
        groups = [np.concatenate([candidates[np.argsort(-heights[candidates], kind="stable")], clear])]
    else:
        groups = merge_pieces(stats, candidates, pieces, cfg.max_aspect)
    paper_beside = PaperBeside(source, labels)
    gates = Gates(stats, integral.result(), ink_levels, small.shape, scale, shape, offset, cfg, paper_beside, tall)
    boxes, fits = gates(groups)
    # A group that fails the gates falls apart into its candidates, which stand alone again: a sheet's
    # slanted edge must not take the number of touching digits written above it, nor a long underline
    # (or, in a close-up, the frame's own edge on its canvas) the digit it runs under.
    is_candidate = np.zeros(len(stats), bool)
    is_candidate[candidates] = True
    given_back = [
        np.array([part])
        for group, fit in zip(groups, fits)
        if not fit and len(group) > 1
        for part in group
        if is_candidate[part]
    ]
    if given_back:
        groups += given_back
        more_boxes, more_fits = gates(given_back)
        boxes, fits = np.concatenate([boxes, more_boxes]), np.concatenate([fits, more_fits])
    w, h = boxes[:, 2], boxes[:, 3]
    keep = fits & ((w <= cfg.max_aspect * h) | one_digit)  # one digit, however flat its 2
    kept = np.flatnonzero(keep)
    if lines is not None and len(kept) >= COMB_SIDES:
        kept = kept[~comb_sides(boxes[kept], lines)]
    if len(kept) > 1:
        kept = kept[~rings_around(boxes[kept], labels, [groups[i] for i in kept])]
    if len(kept) > cfg.max_boxes:  # the tallest ones
        kept = np.sort(kept[np.argsort(-boxes[kept, 3], kind="stable")[: cfg.max_boxes]])
    order = kept[reading_order(boxes[kept].astype(np.float64))]
    runs = np.flatnonzero(fits & ~keep)[: cfg.max_boxes]  # too wide for one digit: touching digits, perhaps
    to_frame = np.array([*offset, 0, 0])
    return Found(
        to_frame_pixels(boxes[order].astype(np.float64).reshape(-1, 4) - to_frame, scale, shape),
        binary,
        labels,
        [groups[i] for i in order],
        scale,
        light_ink,
        level,
        offset,
        to_frame_pixels(boxes[runs].astype(np.float64).reshape(-1, 4) - to_frame, scale, shape),
        [groups[i] for i in runs],
        cells,
    )


@dataclass(frozen=True)
class Gates:
    """The gates a group of components passes to be a digit box (or a box of touching digits): inside the
    frame, digit-tall, not too wide, enough ink, and paper on every side (`darkest_side`)."""

    stats: np.ndarray
    integral: np.ndarray
    ink_levels: np.ndarray
    working: tuple[int, ...]
    scale: float
    shape: tuple[int, ...]
    offset: tuple[int, int]
    cfg: DetectConfig
    paper_beside: PaperBeside
    tall: np.ndarray  # (count,) bool by label: the candidates, components tall and dark enough for a digit

    def __call__(self, groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The groups' boxes, (N, 4) int64 at working scale, and which pass, (N,) bool."""
        cfg = self.cfg
        boxes, ink = group_boxes(self.stats, groups)
        w, h = boxes[:, 2], boxes[:, 3]
        fits = (
            inside_frame(boxes, self.working, self.scale, self.shape, self.offset)
            & (h >= cfg.min_height * floor_side(self.working))
            & (h <= cfg.max_height * self.working[0])
            & (w <= MAX_RUN_ASPECT * h)
        )
        filled = ink >= cfg.min_fill * w * h
        sparse = np.flatnonzero(fits & ~filled)
        if len(sparse) and cfg.thin_pens:
            # A thin pen's digit is one stroke, with small pieces at most. A group that took another
            # candidate as a part (a box of touching digits beside a long thin line, such as a sheet's drawn
            # edge) is no thin digit: under the fill gate it falls apart, and its candidates stand alone.
            sparse = np.array([i for i in sparse.tolist() if not self.tall[groups[i][1:]].any()], np.int64)
            filled[sparse] = drawn_thin(
                self.paper_beside.labels, boxes[sparse], [groups[i] for i in sparse], ink[sparse], cfg.min_fill
            )
        fits &= filled
        leaders = np.array([members[0] for members in groups], np.int64)  # merged pieces are too small to matter
        shy = fits.copy()  # all but the contrast gate passed
        contrast = darkest_side(self.integral, boxes[fits]) - self.ink_levels[leaders[fits]]
        fits[fits] = contrast >= cfg.min_contrast
        self.paper_beside.recheck(boxes, groups, fits, shy & ~fits, self.ink_levels[leaders], cfg.min_contrast)
        return boxes, fits


def drawn_thin(
    labels: np.ndarray, boxes: np.ndarray, groups: list[np.ndarray], ink: np.ndarray, least: float
) -> np.ndarray:
    """(N,) bool: which groups under the fill gate are lines of a thin pen (at most THIN_STROKE of their
    box's height wide) that would fill `least` of their box if drawn with MNIST's pen (MNIST_PEN of it).

    A digit drawn with a 1-px brush, or written large with a fine pen, has little ink for its box: a 2-px
    line 400 px tall fills 2-4 % of it, under `min_fill`."""
    passes = np.zeros(len(boxes), bool)
    for i, ((x, y, w, h), members) in enumerate(zip(boxes.tolist(), groups)):
        width = stroke_width(np.isin(labels[y : y + h, x : x + w], members).view(np.uint8))
        passes[i] = width <= THIN_STROKE * h and ink[i] / width * MNIST_PEN * h >= least * w * h
    return passes


@dataclass(frozen=True)
class PaperBeside:
    """The bands around a box as `darkest_side` measures them, but without the ink of the digits beside it.

    Digits written close together (a number, a tight row) put each other's strokes in the band beside
    them, which then looks as dark as a desk's rim; the paper between those strokes is as light as any.
    """

    source: np.ndarray  # the working grey that the integral image was made of, ink dark
    labels: np.ndarray

    def recheck(
        self, boxes: np.ndarray, groups: list[np.ndarray], fits: np.ndarray, shy: np.ndarray, ink_levels, least: float
    ) -> None:
        """Let pass (in `fits`) the `shy` boxes, which passed every gate but contrast, that have contrast
        `least` once the ink of the boxes that passed is left out of their bands."""
        if not (shy.any() and fits.any()):
            return
        digits, shy = np.flatnonzero(fits), np.flatnonzero(shy)
        # Which digits reach into which shy box's bands: all at once, most shy boxes have none beside them.
        x, y, w, h = boxes[shy].T
        pad = np.maximum(2, h // 6)
        near = iou_matrix(np.stack([x - pad, y - pad, w + 2 * pad, h + 2 * pad], axis=1), boxes[digits]) > 0
        for i, reaching in zip(shy[near.any(axis=1)].tolist(), near[near.any(axis=1)]):
            others = np.concatenate([groups[j] for j in digits[reaching]])  # one call's groups share no component
            fits[i] = self.darkest_side(boxes[i], others) - ink_levels[i] >= least

    def darkest_side(self, box: np.ndarray, others: np.ndarray) -> float:
        """The mean grey of the darkest band beside `box` (as `darkest_side` has them), the pixels of
        components `others` left out; a band that is mostly theirs does not count."""
        rows, cols = self.labels.shape
        x0, y0, x1, y1 = (edge[:, 0].clip(0, limit) for edge, limit in zip(side_bands(box[None]), (cols, rows) * 2))
        left, top = int(x0.min()), int(y0.min())
        around = (slice(top, int(y1.max())), slice(left, int(x1.max())))
        paper = ~np.isin(self.labels[around], others)  # once for all four bands
        grey = np.where(paper, self.source[around], 0)
        darkest = np.inf
        for a, b, c, d in zip(*(edge.tolist() for edge in (x0 - left, y0 - top, x1 - left, y1 - top))):
            band = (slice(b, d), slice(a, c))
            count = int(paper[band].sum())
            if count and count >= paper[band].size // 4:
                darkest = min(darkest, float(grey[band].sum()) / count)
        return darkest if np.isfinite(darkest) else 0.0


def digit_image(shape: tuple[int, ...]) -> bool:
    """Whether a frame of this shape is a digit's own image (DIGIT_IMAGE_SIDE), holding one whole digit."""
    return max(shape[:2]) <= DIGIT_IMAGE_SIDE


def inside_frame(
    boxes: np.ndarray, working: tuple[int, ...], scale: float, shape: tuple[int, ...], offset: tuple[int, int]
) -> np.ndarray:
    """Which working-scale boxes (N, 4) keep off the frame's edges: a box touching one holds a digit cut in
    part, better unread than misread. In a close-up the frame's edges lie inside the canvas, and its pixels
    blend into the paper around it: there a box within 1 % of an edge touches it. In a digit's own image
    (`digit_image`) no digit is cut."""
    x, y, w, h = boxes.T
    if digit_image(shape):
        return np.ones(len(boxes), bool)
    if offset == (0, 0):
        return (x > 0) & (y > 0) & (x + w < working[1]) & (y + h < working[0])
    left, top = offset
    right, bottom = left + shape[1] * scale, top + shape[0] * scale
    margin_x, margin_y = max(1.0, EDGE_MARGIN * (right - left)), max(1.0, EDGE_MARGIN * (bottom - top))
    return (x > left + margin_x) & (y > top + margin_y) & (x + w < right - margin_x) & (y + h < bottom - margin_y)


def components(
    binary: np.ndarray, picked: Future, min_h: float, max_h: float, cfg: DetectConfig
) -> tuple[np.ndarray, ...]:
    """The ink's components: labels, stats and centroids (`label_components`); which are tall enough and
    dark enough to be digits; and each one's mean darkness and grey (`component_means`, from `picked`, the
    `ink_pixels` found meanwhile)."""
    labels, stats, centroids = label_components(binary)
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    tall = (heights >= 0.6 * min_h) & (heights <= max_h)
    tall[0] = False  # label 0 is the background
    contrast, ink_levels = component_means(labels, stats[:, cv2.CC_STAT_AREA], *picked.result())
    tall &= contrast >= cfg.min_contrast
    return labels, stats, centroids, tall, contrast, ink_levels


def box_candidates(
    stats: np.ndarray, tall: np.ndarray, contrast: np.ndarray, working: tuple[int, ...], level: int, cfg: DetectConfig
) -> np.ndarray:
    """The labels that `find_printed_boxes` looks at: the digit candidates (`tall`), and at the first level
    components too tall for a digit, as a sudoku or a table photographed close is, even one that runs out
    of view (held close to a webcam, `grid:close_camera`, train seeds 1 and 3: 0.748 -> 0.847 and 0.779
    -> 0.906 with those that reach the frame's edges; the desk around a sheet, which reaches them too, is
    no box, and on the throughput clip costs nothing measurable). At a finer level such grids are left in:
    there their lines' remains read as 1s (train seed 1, grids as phone photos: 42 false digits -> 71).
    None without `printed_boxes`."""
    if not cfg.printed_boxes:
        return np.zeros(0, np.int64)
    if level != 0:
        return np.flatnonzero(tall)
    big = (stats[:, cv2.CC_STAT_HEIGHT] > cfg.max_height * working[0]) & (contrast >= cfg.min_contrast)
    big[0] = False
    return np.flatnonzero(tall | big)


class PrintedBox(NamedTuple):
    """A printed box's component (`find_printed_boxes`): its label, mask and convex hull (`hull_of`), and
    for a grid its lines and cells (`read_grid`), else None."""

    label: int
    mask: np.ndarray
    hull: np.ndarray
    grid: Grid | None = None


def find_printed_boxes(
    labels: np.ndarray,
    stats: np.ndarray,
    candidates: np.ndarray,
    min_h: float,
    lines: np.ndarray | None = None,
) -> list[PrintedBox]:
    """The candidates that are printed boxes (`PrintedBox`), for `without_printed_boxes` to erase without
    working them out again; `min_h`, a digit's least height, sizes a grid's cells (`read_grid`), and a
    side may be a line taken out as ruling (`lines`, `sides_inked`) when the box is a grid. A printed box
    (a form's answer box, a grid) is a component whose convex hull is a rectangle (at least BOX_SQUARENESS
    of the smallest rectangle around it, tilted as need be) and whose ink is a band along the hull's edge
    (at most BOX_INK of the hull, with a digit written against it); one that the frame's edge cuts off
    counts only as a grid with numbered cells, whatever its hull (on train seeds 1 and 3, grids held close
    and running out of view: 0.847 -> 0.895 and 0.906 -> 0.928). The hull rather than the outer contour:
    a digit whose stroke runs out over its box's line, or a line with a gap, leaves the hull a rectangle
    (forms, train seeds 1 and 3, camera: 0.887 / 0.947 with the contour, 0.921 / 0.963 with the hull).
    Of 20,000 MNIST training digits, 84 px tall, none is both; at 0.93 nine would be (2s, 3s and 5s)."""
    w, h, area = (stats[candidates, i] for i in (cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA))
    # Thin and box-shaped, with ink across the middle of each side: quick looks first, so that most digits
    # (all but some 0s) and the desk's blobs cost no outline (every candidate's took 1.8 ms a clip frame).
    maybe = candidates[(area <= BOX_INK * w * h) & (w >= BOX_ASPECT * h) & (h >= BOX_ASPECT * w) & (w >= 8) & (h >= 8)]
    found = []
    height, width = labels.shape
    own_sides, with_lines = sides_inked(labels, stats, maybe, lines)
    for label, grid_only in zip(maybe[with_lines].tolist(), ~own_sides[with_lines]):
        mask, hull = hull_of(labels, stats, label)
        inside = cv2.contourArea(hull)
        _, (side_a, side_b), _ = cv2.minAreaRect(hull)
        # A grid held close runs out of view: the frame's edge cuts its hull off, at a slant when it is
        # turned, so only a grid of numbered cells counts there, whatever its hull. Squared paper filling
        # the frame (cells unnumbered) keeps losing its lines as ruling, which spares a digit's strokes more.
        left, top, box_w, box_h = (int(v) for v in stats[label, :4])  # `w` and `h` are all candidates'
        cut = left == 0 or top == 0 or left + box_w == width or top + box_h == height
        square = cut or inside >= BOX_SQUARENESS * side_a * side_b
        if square and stats[label, cv2.CC_STAT_AREA] <= BOX_INK * inside:
            grid = read_grid(mask, hull, min_h)
            if cut and grid is not None and not grid.cells.any():
                continue
            if grid is not None or not (grid_only or cut):
                found.append(PrintedBox(label, mask, hull, grid))
    return found


def sides_inked(
    labels: np.ndarray, stats: np.ndarray, candidates: np.ndarray, lines: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(N,) bool, twice: whether each component's ink crosses the middle of each side of its box near that side,
    as a box's lines do, tilted or not: a line tilted 10 degrees crosses the middle of a side 0.09 of the
    side's length in, so a strip SIDE_DEPTH of it deep and three pixels wide is looked at, every pixel of it
    (a thin tilted line crosses a column at one row). This runs on every frame: all components (each at
    least 8 pixels a side) and all four sides are one gather of flat indices, in a dozen numpy calls.
    Then the same where a side may also be a line taken out as ruling (`lines`, `remove_long_lines`): a
    level grid's top line spans a third of the frame.
    """
    if not len(candidates):
        return np.zeros(0, bool), np.zeros(0, bool)
    width = labels.shape[1]
    x, y, w, h = (stats[candidates, i].astype(np.int64)[:, None] for i in range(4))
    # Per side (top, bottom, left, right): the pixel at its middle, the step inwards and the step along it.
    start = np.hstack([y * width, (y + h - 1) * width, width * (y + h // 2), width * (y + h // 2)])
    start += np.hstack([x + w // 2, x + w // 2, x, x + w - 1])
    inwards, along = np.array([width, -width, 1, -1]), np.array([1, 1, width, width])
    depth = np.minimum(
        np.maximum(2, (SIDE_DEPTH * np.hstack([w, w, h, h])).astype(np.int64)), np.hstack([h, h, w, w]) // 2
    )
    steps = np.minimum(np.arange(int(depth.max()))[None, None, :], depth[:, :, None] - 1)  # (N, 4, deepest)
    strips = start[:, :, None] + inwards[None, :, None] * steps
    flat = strips[..., None] + (along[:, None] * np.arange(-1, 2))[None, :, None, :]  # (N, 4, deepest, 3)
    inked = (labels.ravel().take(flat) == candidates[:, None, None, None]).any(axis=(2, 3))
    if lines is None:
        return inked.all(axis=1), inked.all(axis=1)
    outside = flat - 2 * inwards[None, :, None, None]  # a side taken out as ruling ends a pixel or two out
    return inked.all(axis=1), (inked | (lines.ravel().take(outside, mode="clip") > 0).any(axis=(2, 3))).all(axis=1)


def box_of(stats: np.ndarray, label: int) -> tuple[slice, slice]:
    """One component's box (`stats`, from `label_components`) as the rows and columns of its image."""
    left, top, width, height = (int(v) for v in stats[label, :4])
    return slice(top, top + height), slice(left, left + width)


def hull_of(labels: np.ndarray, stats: np.ndarray, label: int) -> tuple[np.ndarray, np.ndarray]:
    """One component's mask in its box, (h, w) uint8 0/1, and its convex hull in the box's pixels."""
    mask = (labels[box_of(stats, label)] == label).view(np.uint8)
    outline = max(cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0], key=cv2.contourArea)
    return mask, cv2.convexHull(outline)


def without_printed_boxes(binary: np.ndarray, stats: np.ndarray, boxes: list[PrintedBox]) -> np.ndarray:
    """The binary ink without these printed boxes' lines. A grid (`read_grid`: a sudoku, a table) keeps
    all but its lines; another box loses its band along the edge of its convex hull: a digit written
    against its box's edge keeps its ink inside, a band's width (BOX_BAND of the box's shorter side) from
    the edge."""
    binary = binary.copy()
    for label, mask, hull, grid in boxes:  # from `find_printed_boxes`
        region = binary[box_of(stats, label)]
        if grid is not None:
            region[grid.lines] = 0
            continue
        filled = cv2.drawContours(np.zeros_like(mask), [hull], -1, 1, cv2.FILLED)
        height, width = mask.shape
        band = max(3, round(BOX_BAND * min(width, height)))
        # Outside the crop is outside the box: eroded from there too (OpenCV's default border would not).
        square = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
        inner = cv2.erode(filled, square, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        region[(mask > 0) & (inner == 0)] = 0
        if width >= BOX_ROW * height:  # a row of boxes: the lines between them too
            region[dividers(mask & inner)] = 0
    return binary


def outside_grids(restored: np.ndarray, stats: np.ndarray, boxes: list[PrintedBox]) -> np.ndarray | None:
    """The lines kept as a level grid's (`remove_long_lines`) that are outside the grids among `boxes` (in
    place): ruling after all, to be taken out as such. None when every one is a grid's."""
    for label, _, _, grid in boxes:
        if grid is not None:
            restored[box_of(stats, label)] = 0
    return restored if cv2.countNonZero(restored) else None


def with_grids_as_paper(
    source: np.ndarray, darkness: np.ndarray, stats: np.ndarray, boxes: list[PrintedBox]
) -> np.ndarray:
    """The working grey with the grids' lines as paper (their neighbourhood's mean, `threshold_ink`), for
    the bands that the contrast gate measures around a digit (`darkest_side`): a grid's lines are in every
    cell's bands. (A box's band, taken out less closely, may leave a sliver of its line, which its line
    keeps from passing that gate.)"""
    source = source.copy()
    for label, _, _, grid in boxes:
        if grid is not None:
            around = box_of(stats, label)
            source[around][grid.lines] = cv2.add(source[around], darkness[around])[grid.lines]
    return source


def grid_cells(working: tuple[int, ...], stats: np.ndarray, boxes: list[PrintedBox]) -> np.ndarray:
    """(h, w) int32 at working scale: which grid cell each pixel lies in (`Grid.cells`), numbered 1, 2, ...
    over all the grids among `boxes`; 0 outside every grid. Two digits in two cells are two numbers
    (`camrec.numbers`), however close."""
    cells, numbered = np.zeros(working[:2], np.int32), 0
    for label, _, _, grid in boxes:
        if grid is None:
            continue
        region = cells[box_of(stats, label)]
        region[grid.cells > 0] = grid.cells[grid.cells > 0] + numbered
        numbered += int(grid.cells.max())
    return cells


class Grid(NamedTuple):
    """A printed grid (`read_grid`), in its box: lines, (h, w) bool, its ink that is its lines; cells, (h, w)
    int32, which cell each pixel lies in (1, 2, ... row by row; 0 outside the grid, and everywhere on squared
    paper, over GRID_MOST_CELLS cells)."""

    lines: np.ndarray
    cells: np.ndarray


def read_grid(mask: np.ndarray, hull: np.ndarray, min_h: float) -> Grid | None:
    """The lines and cells of a grid (a sudoku, a table), for a printed box's mask (h, w uint8 0/1) and
    convex hull (`hull_of`) that has at least GRID_CELLS cells; else None.

    A cell is a hole in the grid's ink that could hold a digit (at least half of `min_h` squared) and is
    about a rectangle (GRID_SQUARE). In the grid turned square, a line is where ink runs on for GRID_RUN of
    a cell's median width (or height) along a row (or column): a digit in its cell is narrower than that,
    so one written against a line loses no more than the pixels beside the line. A grid has at least two
    such lines each way; answer boxes that merely touch have none, each box's line ending with it."""
    angle = grid_angle(hull)
    height, width = mask.shape
    if abs(angle) >= 1.0:
        side = int(np.ceil(np.hypot(height, width))) + 2
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        turn[:, 2] += (side - width) / 2, (side - height) / 2
        square = cv2.warpAffine(mask, turn, (side, side), flags=cv2.INTER_NEAREST)
    else:
        square = mask
    # The holes: the paper's 4-connected pieces that keep off the edges, at half size (a pixel there is
    # ink when any of its four is, so that no line opens): 0.2 ms, against 1.3 for contours at full size.
    half = cv2.resize(square, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    _, _, paper, _ = cv2.connectedComponentsWithStats((half == 0).view(np.uint8), connectivity=4)
    x, y, w, h, area = paper.T
    holes = (x > 0) & (y > 0) & (x + w < half.shape[1]) & (y + h < half.shape[0]) & (w * h >= min_h**2 / 8)
    # An empty cell's hole is a rectangle; the pieces of one box that a digit split are not.
    holes = paper[holes & (area >= GRID_SQUARE * w * h)]
    if len(holes) < GRID_CELLS:
        return None
    # A line runs on past a cell, but in a grid one cell tall (or wide) only as far as the grid does.
    _, _, grid_w, grid_h = cv2.boundingRect(square)
    run_x = round(min(GRID_RUN * 2 * np.median(holes[:, 2]), GRID_SPAN * grid_w))
    run_y = round(min(GRID_RUN * 2 * np.median(holes[:, 3]), GRID_SPAN * grid_h))
    # Thickened across the line first: a line a few degrees off square (the sheet's perspective) still
    # runs on along a row.
    rows = cv2.dilate(square, np.ones((5, 1), np.uint8))
    rows = cv2.morphologyEx(rows, cv2.MORPH_OPEN, np.ones((1, max(3, run_x)), np.uint8))
    cols = cv2.dilate(square, np.ones((1, 5), np.uint8))
    cols = cv2.morphologyEx(cols, cv2.MORPH_OPEN, np.ones((max(3, run_y), 1), np.uint8))
    across, down = line_centres(rows.any(axis=1)), line_centres(cols.any(axis=0))
    if min(len(across), len(down)) < 2:
        return None  # answer boxes that touch, not one grid: each box's line ends with it
    lines = cv2.bitwise_and(cv2.bitwise_or(rows, cols), square)
    # Each cell numbered by the lines above and left of it: a line that thresholding broke still parts cells.
    # Squared paper's cells part nothing: a number is written one digit a square.
    row, column = np.searchsorted(across, np.arange(square.shape[0])), np.searchsorted(down, np.arange(square.shape[1]))
    inside = ((row > 0) & (row < len(across)))[:, None] & ((column > 0) & (column < len(down)))[None, :]
    inside &= (len(across) - 1) * (len(down) - 1) <= GRID_MOST_CELLS
    cells = np.where(inside, (row[:, None] - 1) * (len(down) - 1) + column[None, :], 0).astype(np.float32)
    if square is not mask:
        back = (width, height), cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
        lines, cells = (cv2.warpAffine(image, turn, back[0], flags=back[1]) for image in (lines, cells))
    lines = (cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0) & (mask > 0)  # with the line's soft rim
    return Grid(lines, cells.astype(np.int32))


def sampled_line_centres(found: np.ndarray, axis: int) -> np.ndarray:
    """The middles of the lines in the mask `found` along rows (axis 1) or columns (axis 0), where they cross
    eight columns (or rows) spread over the frame: a line over a third of the frame long crosses one at
    least. 4 us, not 30 for every column."""
    samples = found.T if axis == 1 else found  # its rows run across the lines
    step = max(1, len(samples) // 8)
    return line_centres(samples[step // 2 :: step].any(axis=0))


def line_centres(inked: np.ndarray) -> np.ndarray:
    """The middles of the runs of True (lines, in a squared grid's rows or columns) in a (n,) bool array."""
    padded = np.zeros(len(inked) + 2, bool)
    padded[1:-1] = inked
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # each run's first pixel, then the pixel after its last
    return (edges[::2] + edges[1::2] - 1) / 2


def grid_angle(hull: np.ndarray) -> float:
    """Degrees (-45 to 45) to turn a grid by (counter-clockwise, as `cv2.getRotationMatrix2D`) to square it
    with the image, from its convex hull's smallest rectangle."""
    corners = cv2.boxPoints(cv2.minAreaRect(hull))
    dx, dy = corners[1] - corners[0]
    angle = float(np.degrees(np.arctan2(dy, dx))) % 90
    return angle - 90 if angle > 45 else angle


def dividers(inside: np.ndarray) -> np.ndarray:
    """(h, w) bool: the pieces of a row of boxes' ink left inside its outline (`inside`, 0/1 uint8) that
    are the lines between its boxes: as tall as the inside, and thin (tilted up to about 10 degrees). A 1
    written from its box's top line to its bottom line would go with them."""
    labels, stats, _ = label_components(inside)
    rows = np.flatnonzero(inside.any(axis=1))
    inside_height = rows[-1] - rows[0] + 1 if len(rows) else 0
    lines = np.flatnonzero(
        (stats[:, cv2.CC_STAT_HEIGHT] >= DIVIDER_HEIGHT * inside_height)
        & (stats[:, cv2.CC_STAT_WIDTH] <= DIVIDER_WIDTH * stats[:, cv2.CC_STAT_HEIGHT])
    )
    return np.isin(labels, lines[lines > 0])


def label_components(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components of the ink: labels (uint16, or int32 past 65,535 components), stats, centroids.

    16-bit labels make OpenCV's per-pixel statistics cheaper: 0.79 instead of 0.89 ms on a 640x480 frame
    (Spaghetti; with 32-bit labels BBDT is the fast one, 1.9 ms for Spaghetti on one thread). Both
    algorithms number components in the same raster order, so boxes do not depend on the choice.
    """
    try:
        _, labels, stats, centroids = cv2.connectedComponentsWithStatsWithAlgorithm(
            binary, 8, cv2.CV_16U, cv2.CCL_SPAGHETTI
        )
    except cv2.error:  # more components than 16 bits can count: a frame of pure noise
        _, labels, stats, centroids = cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_BBDT)
    return labels, stats, centroids


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


def threshold_ink(
    small: np.ndarray, cfg: DetectConfig, light_ink: bool, grid_floor: float | None = None
) -> tuple[np.ndarray, ...]:
    """Ink as 255 on 0: pixels clearly darker (or, for light ink, lighter) than both the mean and the
    lightest paper of their neighbourhood.

    Returns the smoothed grey it worked on (ink dark, paper light, whatever the ink), the binary mask,
    the darkness map (neighbourhood mean minus pixel, uint8) that made it, where long lines were taken
    out of it and which were kept as a level grid's (`remove_long_lines`, with `grid_floor`).
    """
    source = 255 - small if light_ink else small
    source = cv2.GaussianBlur(source, (3, 3), 0)  # sensor noise and JPEG blocks are not ink
    mean = beside(cv2.blur, source, (cfg.block_size, cfg.block_size))  # while the closing below runs
    # A stroke is also darker than the lightest paper around it on every side (a closing: the black
    # top-hat). A hard shadow's edge is darker than its mean neighbourhood too, but only than its lit
    # side; without this its band joins digits (measured on tuning scenes: hard-shadow F1 0.90 -> 0.95).
    neighbourhood = cv2.getStructuringElement(cv2.MORPH_RECT, (cfg.block_size, cfg.block_size))
    below_paper = cv2.subtract(cv2.morphologyEx(source, cv2.MORPH_CLOSE, neighbourhood), source)
    # The adaptive mean threshold, written out: the darkness map also measures each component's contrast.
    # Saturating: paper lighter than its neighbourhood is simply not dark (0).
    darkness = cv2.subtract(mean.result(), source)
    _, binary = cv2.threshold(cv2.min(darkness, below_paper), cfg.offset, 255, cv2.THRESH_BINARY)
    binary, lines, restored = remove_long_lines(binary, grid_floor)
    # Close hairline gaps in pen strokes so that one digit stays one component.
    closed = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((2, 2), np.uint8))
    return source, closed, darkness, lines, restored, below_paper


def ink_pixels(binary: np.ndarray, darkness: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where the ink is, (k,) int64 flat indices, and its pixels' darkness and grey, (k,) uint8 each.

    It needs no labels, so it runs while the labelling does (0.2 ms less per 640x480 frame). So does
    finding the indices, which the labels are then picked at (0.04 ms, against 0.13 for a mask). Each map
    is picked on its own: packing both into one uint16 image first made a new frame-sized array, which
    cost more than a second pick (0.11 ms a throughput-clip frame on one thread, paired frame by frame).
    """
    where = np.flatnonzero(binary.astype(bool))  # 0.2 ms; as uint8, three times that
    return where, darkness.ravel().take(where), source.ravel().take(where)


def component_means(
    labels: np.ndarray, areas: np.ndarray, where: np.ndarray, darkness: np.ndarray, grey: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each component's mean darkness and mean grey, (count,) float64 each, for `areas` (count,) pixels,
    from `ink_pixels`. Sums run over the ink pixels only (a tenth of the frame or less), in one pass for
    all components."""
    owners = labels.ravel().take(where)
    sizes = np.maximum(areas, 1)
    count = len(areas)
    return (
        np.bincount(owners, weights=darkness, minlength=count) / sizes,
        np.bincount(owners, weights=grey, minlength=count) / sizes,
    )


def side_bands(boxes: np.ndarray) -> tuple[np.ndarray, ...]:
    """The bands just outside boxes (N, 4) x, y, w, h that `darkest_side` measures, as x0, y0, x1, y1,
    (4, N) int64 each, not clipped to the frame: rows left, right, above and below; a band is as deep as
    a sixth of its box's height, at least 2 px."""
    x, y, w, h = (boxes[:, i].astype(np.int64) for i in range(4))
    pad = np.maximum(2, h // 6)
    x0, x1 = np.stack([x - pad, x + w, x, x]), np.stack([x, x + w + pad, x + w, x + w])
    y0, y1 = np.stack([y, y, y - pad, y + h]), np.stack([y + h, y + h, y, y + h + pad])
    return x0, y0, x1, y1


def darkest_side(integral: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Per box, the mean grey of the darkest of four bands just outside it (left, right, above, below).

    A digit has paper on every side. The dark rim of a desk beside the sheet, or a shadow's edge, is
    darker than its neighbourhood only on one side: there the band over the desk is as dark as the "ink".

    Args:
        integral: (H+1, W+1) integral image of the grey frame; boxes: (N, 4) int x, y, w, h.
    Returns:
        (N,) float64.
    """
    height, width = integral.shape[0] - 1, integral.shape[1] - 1
    x0, y0, x1, y1 = side_bands(boxes)
    x0, x1, y0, y1 = x0.clip(0, width), x1.clip(0, width), y0.clip(0, height), y1.clip(0, height)
    valid = (x1 > x0) & (y1 > y0)  # a band outside the frame has no pixels
    total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    means = np.where(valid, total / np.maximum((x1 - x0) * (y1 - y0), 1), np.inf).min(axis=0)
    return np.where(np.isfinite(means), means, 0.0)


def remove_long_lines(
    binary: np.ndarray, grid_floor: float | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Take out ruling, grid lines and the sheet's edges: straight runs longer than a digit's strokes.

    Horizontal: over a third of the frame wide (a digit's bar is shorter). Vertical: over 60 % of the
    frame tall, which spares the stem of a 1 written as tall as a drawing canvas or held close to a camera.
    With `grid_floor` (a digit's least height), the lines of a grid seen square on stay in where lines
    across them cross them (`level_grid_region`), for `find_printed_boxes` to see the grid whole.
    Returns the ink without them, the mask taken out (None when there were none), and the part of that
    mask kept in as a level grid's lines (None when none was).
    """
    # Both here, one after the other: on the helper thread (`beside`) the rows' search, a tenth of a
    # millisecond, waited as long for the thread to wake (paired on the throughput clip: 0.08 ms more a frame).
    across_length, down_length = line_lengths(binary.shape)
    down, along = long_runs(binary, down_length, axis=0), long_runs(binary, across_length, axis=1)
    runs = [run for run in (down, along) if run is not None]
    if not runs:
        return binary, None, None  # no ruling and no sheet edge in view: no full-size work at all
    lines = runs[0] if len(runs) == 1 else cv2.bitwise_or(*runs)
    lines = cv2.dilate(cv2.bitwise_and(lines, binary), np.ones((3, 3), np.uint8))
    kept = cv2.subtract(binary, lines)  # both 0 or 255: ink that is no line
    if grid_floor is None:
        return kept, lines, None
    regions = [level_grid_region(binary, found, axis, grid_floor) for found, axis in ((along, 1), (down, 0))]
    regions = [region for region in regions if region is not None]
    if not regions:
        return kept, lines, None
    restored = np.zeros_like(lines)
    for region in regions:  # all of them first: two regions may overlap
        restored[region] = lines[region]
    for region in regions:
        kept[region], lines[region] = binary[region], 0
    return kept, lines, restored


def level_grid_region(
    binary: np.ndarray, found: np.ndarray | None, axis: int, grid_floor: float
) -> tuple[slice, slice] | None:
    """Where the long lines `found` along rows (axis 1) or columns (axis 0, `long_runs`) are a level grid's
    (a sudoku or a table seen square on): rows and columns of the frame, or None.

    Lines across them, LEVEL_GRID_RUN of a cell long, pass through one of them (ink well to both sides of
    it) or run from one to the next, at LEVEL_GRID_CROSSINGS places or more. A sheet's edge has the desk's
    clutter on one side only; ruling is crossed by the odd digit; a grid's lines cross. The region runs as
    far as the lines across do.
    """
    if found is None:
        return None
    centres = sampled_line_centres(found, axis)
    if not 1 <= len(centres) <= LEVEL_GRID_LINES:
        return None
    cell = LEVEL_GRID_GAP * grid_floor
    gaps = np.diff(centres)
    length = LEVEL_GRID_RUN * gaps[gaps >= cell].min() if (gaps >= cell).any() else 2 * cell
    spots, reach = centres.astype(np.int64), max(5, int(length / 3))
    found = found if axis == 1 else found.T  # the lines found are its rows from here on
    # First the ink itself, a few rows of it: the lines of most frames (a sheet's edges) end here.
    if not crossings(binary if axis == 1 else binary.T, found, spots, reach, cell):
        return None
    across = long_runs(binary, int(length), 1 - axis)
    if across is None:
        return None
    across = across if axis == 1 else across.T
    crossed = crossings(across, found, spots, reach, cell)
    if not crossed:
        return None
    first, last = int(min(where[0] for where in crossed)), int(max(where[-1] for where in crossed)) + 1
    reached = np.flatnonzero(across[:, first:last].any(axis=1))
    lines_way = slice(max(0, int(reached[0]) - 3), int(reached[-1]) + 4)
    # As far as the lines found there run too: a grid's outer lines across only end at the lines found.
    run = np.flatnonzero(found[lines_way].any(axis=0))
    first, last = min(first, int(run[0])), max(last, int(run[-1]) + 1)
    other_way = slice(max(0, first - 3), last + 3)
    return (lines_way, other_way) if axis == 1 else (other_way, lines_way)


def crossings(image: np.ndarray, found: np.ndarray, spots: np.ndarray, reach: int, cell: float) -> list[np.ndarray]:
    """Where ink in `image` crosses the lines `found` (both (h, w), the lines along rows) whose middle
    rows are `spots`, for `level_grid_region`: per line, the middles of the runs of its columns inked
    `reach` rows above it and as far below; per two lines at least `cell` apart, of their common columns
    inked 5 rows below the first and above the second. Those with LEVEL_GRID_CROSSINGS or more."""
    at = spots.tolist()
    near = [found[max(0, row - 2) : row + 3].max(axis=0) for row in at]  # a line a little aslant
    rows = [
        image[row - reach] & image[row + reach] & line
        for row, line in zip(at, near)
        if reach <= row < len(image) - reach
    ]
    rows += [
        image[top + 5] & image[bottom - 5] & near[k] & near[k + 1]
        for k, (top, bottom) in enumerate(pairwise(at))
        if bottom - top >= cell
    ]
    inked = [line_centres(row > 0) for row in rows]
    return [where for where in inked if len(where) >= LEVEL_GRID_CROSSINGS]


def rings_around(boxes: np.ndarray, labels: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """(N,) bool per box (x, y, w, h, working scale) of these groups of components: whether its ink encloses
    another box, at least RING_HOLDS of its height and RING_MARGIN of its size clear of each side. Such a
    box is a circle drawn around a digit (to mark an answer), or a box whose lines `find_printed_boxes` did
    not see whole; a digit encloses none: the hole of a 0 is empty, and what lies under a 7's bar is not
    enclosed."""
    x, y, w, h = boxes.T
    rings = np.zeros(len(boxes), bool)
    outer = np.flatnonzero((1 - 2 * RING_MARGIN) * h > h.min())  # tall enough to hold the smallest box
    if not len(outer):
        return rings
    ox, oy, ow, oh = (v[outer, None] for v in (x, y, w, h))
    mx, my = RING_MARGIN * ow, RING_MARGIN * oh
    held = (x > ox + mx) & (x + w < ox + ow - mx) & (y > oy + my) & (y + h < oy + oh - my) & (h >= RING_HOLDS * oh)
    for i, inner in zip(outer.tolist(), held):
        if inner.any():
            left, top, width, height = boxes[i].tolist()
            own = np.isin(labels[top : top + height, left : left + width], groups[i])
            centres = np.stack([x[inner] + w[inner] / 2 - left, y[inner] + h[inner] / 2 - top], axis=1)
            rings[i] = any(encloses(own, centre) for centre in centres)
    return rings


def encloses(own: np.ndarray, centre: np.ndarray) -> bool:
    """Whether ink `own` (h, w bool) lies around a point: rays from it, RING_RAYS of them, meet ink in all
    but one in eight (a ring drawn in one stroke may leave a gap where it began)."""
    height, width = own.shape
    angles = np.linspace(0, 2 * np.pi, RING_RAYS, endpoint=False)
    steps = np.arange(0, np.hypot(height, width), 0.7)
    xs = np.round(centre[0] + np.cos(angles)[:, None] * steps).astype(np.int64)
    ys = np.round(centre[1] + np.sin(angles)[:, None] * steps).astype(np.int64)
    inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    met = (own[ys.clip(0, height - 1), xs.clip(0, width - 1)] & inside).any(axis=1)
    return int(met.sum()) >= RING_RAYS * 7 // 8


def comb_sides(boxes: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """(N,) bool: which boxes (working scale) are the sides of the boxes of a comb (a row of answer boxes
    sharing their lines, as for a phone number or a date) over a third of the frame wide: its long lines
    are taken out as ruling, and each line between two boxes is left standing alone, a perfect 1.

    Such a side is thin (at most DIVIDER_WIDTH as wide as tall) and has a line taken out at its top and at
    its bottom (within LINE_REACH of its rows, and a quarter of its height of its columns: the lines' ends
    at a comb's corners stay on its sides). It is a comb's end when those lines run off to one side only, a
    corner; else it is one of at least COMB_SIDES such boxes of its height (within COMB_HEIGHTS). A 1
    written from one ruling line to the next is alike; three of them as tall in a frame are rare.
    """
    rows, cols = lines.shape
    sides, ends = np.zeros(len(boxes), bool), np.zeros(len(boxes), bool)
    for i, (x, y, w, h) in enumerate(boxes.tolist()):
        if w > DIVIDER_WIDTH * h:
            continue
        reach = max(2, h // 4)
        left, right = slice(max(0, x - reach), x), slice(x + w, min(cols, x + w + reach))
        at_ends = []
        for edge in (y, y + h - 1):
            band = lines[max(0, edge - LINE_REACH) : min(rows, edge + LINE_REACH + 1)]
            on_left, on_right = bool(band[:, left].any()), bool(band[:, right].any())
            at_ends.append((on_left, on_left or on_right or bool(band[:, x : x + w].any()), on_right))
        sides[i] = all(touched for _, touched, _ in at_ends)
        ends[i] = sides[i] and all(a != b for a, _, b in at_ends)
    h = boxes[:, 3]
    alike = np.abs(h[:, None] - h[None, :]) <= COMB_HEIGHTS * h[:, None]
    return ends | (sides & ((alike & sides[None, :]).sum(axis=1) >= COMB_SIDES))


def long_runs(binary: np.ndarray, length: int, axis: int) -> np.ndarray | None:
    """Where straight runs of ink at least `length` long lie, along rows (axis 1) or columns (axis 0);
    None where there are none.

    Found on a copy squeezed LINE_STEP (4) times along the run, where a pixel is ink when at least two of
    its four are: a line stays a line, and the opening with a kernel that long costs a quarter as much.
    """
    height, width = binary.shape
    count = (width if axis == 1 else height) // LINE_STEP * LINE_STEP
    if count == 0:
        return None  # a frame a few pixels across has no room for a line (nor for a digit)
    if axis == 1:
        # Four neighbours in a row read as one uint32 whose bytes are 0 or 255: two of four is 16 set bits.
        quads = np.ascontiguousarray(binary[:, :count]).view(np.uint32)
        squeezed = cv2.threshold(np.bitwise_count(quads), 15, 255, cv2.THRESH_BINARY)[1]
    else:
        a, b, c, d = (binary[i:count:LINE_STEP] for i in range(LINE_STEP))
        # Two of four: both of one pair, or one of each pair (the same as an area resize thresholded at half).
        squeezed = np.ascontiguousarray((a & b) | (c & d) | ((a | b) & (c | d)))
    steps = max(3, length // LINE_STEP)
    kernel = np.ones((1, steps) if axis == 1 else (steps, 1), np.uint8)
    # An opening, erosion first: most frames have no line, and then the erosion is already empty.
    cores = cv2.erode(squeezed, kernel)
    if not cv2.countNonZero(cores):
        return None
    return cv2.resize(cv2.dilate(cores, kernel), (width, height), interpolation=cv2.INTER_NEAREST)


def line_lengths(shape: tuple[int, ...]) -> tuple[int, int]:
    """How long a line of ruling is at least, (across, down) in pixels of a frame of `shape`: LINE_SHARE of
    its width for a line across, 60 % of its height for a line down (a 1 may be nearly as tall)."""
    return int(LINE_SHARE * shape[1]), int(0.6 * shape[0])


def lines_to_find(stats: np.ndarray, shape: tuple[int, ...], taken_out: np.ndarray | None = None) -> int | None:
    """From a frame's components (`label_components` stats), whether it shows ruling, and how many
    straight pieces of line `without_ruling` must then find: 0 on ruled paper, RULED_LINES lines or more
    one way that are long (`line_lengths`) and thin (RULING_THICK pixels on average; a sheet's edges are two
    lines each way at most); SQUARED_LINES for a lattice of such lines both ways, LATTICE_INK of its box
    (squared paper's lines, one piece where they cross; or a sudoku's, which has fewer). None for neither.

    Ruling that lies level is taken out by the long-runs search before the components are labelled, all but
    its lines that run through digits: `taken_out` (`remove_long_lines`' mask) with RULED_LINES lines across
    or more besides a sheet's two edges, where they cross eight columns of the frame, is ruled paper too.
    Train seeds 1 and 3: bold ruled 0.950 -> 0.969 and the same; level grids, camera and photo, 0.871 ->
    0.874 and 0.863 -> 0.864, 0.915 -> 0.921 and 0.872 -> 0.878; grids held close (seed 3) 3 false digits
    more; every other group the same. From 4 to 8 lines read bold ruled (seed 1) the same; none of 600
    throughput-clip frames counts as ruled this way (their sheet's edges are two lines at most)."""
    across, down = line_lengths(shape)
    width, height, area = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    long_across, long_down = width >= across, height >= down
    lines_across = np.count_nonzero(long_across & (area <= RULING_THICK * width))
    lines_down = np.count_nonzero(long_down & (area <= RULING_THICK * height))
    if max(int(lines_across), int(lines_down)) >= RULED_LINES:
        return 0
    share = area / np.maximum(width * height, 1)
    if np.any(long_across & long_down & (share >= LATTICE_INK[0]) & (share <= LATTICE_INK[1])):
        return SQUARED_LINES
    if taken_out is not None and len(sampled_line_centres(taken_out, 1)) >= RULED_LINES + 2:
        return 0
    return None


def without_ruling(binary: np.ndarray, paper_dark: np.ndarray, least_lines: int = 0) -> np.ndarray | None:
    """The ink of a ruled frame (`lines_to_find`) without its lines, where they run through digits too;
    None when fewer than `least_lines` straight pieces of line are found either way.

    A line is found where a long piece of it runs clear of digits, or a row of shorter pieces on one straight
    line adds up to one (`ruling_track`), and followed straight on from there: what is thin across its way
    within RULING_THICK of its middle is the line's. A stroke that crosses it is thick across it, and stays.
    `paper_dark`, ink darker than the lightest paper around it, holds a line beside dark digits too, where
    the ink's own mask loses it (the neighbourhood's mean there is as dark as the line).
    """
    seen = cv2.bitwise_or(binary, paper_dark)
    lines, tracks, most = np.zeros_like(binary), [], 0
    for axis, length in zip((1, 0), line_lengths(binary.shape)):
        across = np.ones((RULING_THICK, 1) if axis == 1 else (1, RULING_THICK), np.uint8)
        thin = cv2.subtract(seen, cv2.morphologyEx(seen, cv2.MORPH_OPEN, across))
        track, count = ruling_track(thin, axis, int(RULING_PIECE * length))
        if count:
            lines, most = cv2.bitwise_or(lines, cv2.bitwise_and(thin, track)), max(most, count)
            tracks.append(track)
    if most < least_lines:
        return None
    kept = cv2.subtract(binary, lines)
    if len(tracks) < 2:
        return kept
    # Where two lines cross, their ink is thick both ways, and only a stroke through the crossing keeps it:
    # grown back into it from the stroke's pixels beside it, as far as a crossing is wide.
    crossings = cv2.bitwise_and(cv2.bitwise_and(*tracks), kept)
    grown = cv2.subtract(kept, crossings)
    for _ in range(RULING_THICK):
        grown = cv2.bitwise_or(grown, cv2.bitwise_and(cv2.dilate(grown, NEIGHBOURS), crossings))
    return grown


def ruling_track(thin: np.ndarray, axis: int, length: int) -> tuple[np.ndarray | None, int]:
    """Where a frame's lines along rows (axis 1) or columns (axis 0) run, RULING_THICK wide, from the ink
    that is thin across that way (`thin`), and how many straight pieces at least `length` long it has
    (crossing strokes under RULING_GAP wide bridged; at most RULING_STRAIGHT pixels off its own line, in the
    root mean square). Each such piece is drawn on as a straight line across the whole frame, and so is each
    row of shorter straight pieces that make one such line between them (`collinear_rows`). (None, 0)
    without any long piece."""
    gap = np.ones((1, RULING_GAP) if axis == 1 else (RULING_GAP, 1), np.uint8)
    bridged = cv2.morphologyEx(thin, cv2.MORPH_CLOSE, gap)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bridged, 8, cv2.CV_32S)
    extent = stats[:, cv2.CC_STAT_WIDTH if axis == 1 else cv2.CC_STAT_HEIGHT]
    pieces = np.flatnonzero(extent >= min(RULING_SHORT, length))
    pieces = pieces[pieces > 0]
    if not len(pieces):
        return None, 0
    moments = piece_moments(bridged, labels, count, pieces)
    middles, angles, straight = fitted_lines(moments)
    extent = extent[pieces]
    long = straight & (extent >= length)
    if not long.any():
        return None, 0
    lines = [(middles[long], angles[long])]
    short = np.flatnonzero(straight & ~long)
    short = short[np.abs(turn(angles[short, None] - angles[None, long])).min(axis=1) <= RULING_LEAN]
    for row in collinear_rows(middles[short], angles[short]):
        members = short[row]
        if extent[members].sum() >= length:
            middle, angle, row_straight = fitted_lines(moments[members].sum(axis=0, keepdims=True))
            if row_straight[0] and np.abs(turn(angle[0] - angles[long])).min() <= RULING_LEAN:
                lines.append((middle, angle))
    track = np.zeros_like(thin)
    reach = float(sum(thin.shape))  # past the frame's corners either way
    for (x, y), a in zip(np.concatenate([m for m, _ in lines]), np.concatenate([a for _, a in lines])):
        dx, dy = np.cos(a) * reach, np.sin(a) * reach
        cv2.line(track, (round(x - dx), round(y - dy)), (round(x + dx), round(y + dy)), 255, RULING_THICK)
    return track, int(np.count_nonzero(long))


def piece_moments(mask: np.ndarray, labels: np.ndarray, count: int, pieces: np.ndarray) -> np.ndarray:
    """The raw moments of each piece's pixels, (N, 6): count, sum of x, y, x², y², xy; all pieces in one
    pass. Moments add up, so a row of pieces has the sum of theirs.

    A line that runs off the sheet picks up the desk's grain at its end, which bends its fit: a piece that
    is not straight (`fitted_lines`) has its moments taken again over its pixels within half a track
    (RULING_THICK) of its first fit, if those are RULING_INLIERS of it (a curved stroke's are not)."""
    points = cv2.findNonZero(mask).reshape(-1, 2)  # a third of np.nonzero's time
    owners = labels[points[:, 1], points[:, 0]]
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    first = pixel_moments(owners, x, y, count)[pieces]
    middles, angles, straight = fitted_lines(first)
    bent = np.zeros(count, bool)
    bent[pieces[~straight]] = True
    if not bent.any():
        return first
    pick = bent[owners]
    owners, x, y = owners[pick], x[pick], y[pick]
    index = np.zeros(count, np.int64)
    index[pieces] = np.arange(len(pieces))
    own = index[owners]
    inside = np.abs(np.cos(angles[own]) * (y - middles[own, 1]) - np.sin(angles[own]) * (x - middles[own, 0]))
    inside = inside <= RULING_THICK / 2
    second = pixel_moments(owners[inside], x[inside], y[inside], count)[pieces]
    refit = ~straight & (second[:, 0] >= RULING_INLIERS * first[:, 0])
    return np.where(refit[:, None], second, first)


def pixel_moments(owners: np.ndarray, x: np.ndarray, y: np.ndarray, count: int) -> np.ndarray:
    """`piece_moments` of pixels at `x`, `y` by their label `owners`, (count, 6)."""
    sums = [np.bincount(owners, minlength=count)]
    sums += [np.bincount(owners, weights=w, minlength=count) for w in (x, y, x * x, y * y, x * y)]
    return np.stack(sums, axis=1)  # float64: the weighted sums promote the counts


def fitted_lines(moments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The line through each piece (`piece_moments`): its middle (N, 2) x, y, its direction in radians (N,),
    and whether its pixels lie within RULING_STRAIGHT of it, in the root mean square (N,) bool."""
    n, sx, sy, sxx, syy, sxy = moments.T
    cx, cy = sx / n, sy / n
    vxx, vyy, vxy = sxx / n - cx * cx, syy / n - cy * cy, sxy / n - cx * cy
    across = (vxx + vyy) / 2 - np.sqrt(((vxx - vyy) / 2) ** 2 + vxy * vxy)  # the smaller eigenvalue
    return np.stack([cx, cy], axis=1), 0.5 * np.arctan2(2 * vxy, vxx - vyy), across <= RULING_STRAIGHT**2


def turn(angle: np.ndarray) -> np.ndarray:
    """Differences of directions, in radians, brought into [-pi/2, pi/2): a line has no way round."""
    return (angle + np.pi / 2) % np.pi - np.pi / 2


def collinear_rows(middles: np.ndarray, angles: np.ndarray) -> list[np.ndarray]:
    """Rows of two or more pieces of line (`fitted_lines`) that lie on one line: pieces are in one row when
    they lean alike (within RULING_LEAN) and each one's middle is within RULING_OFFSET of the line through
    the other's at their mean direction, directly or through other pieces of the row."""
    if len(middles) < 2:
        return []
    leans = np.abs(turn(angles[:, None] - angles[None, :]))
    mean = angles[:, None] + turn(angles[None, :] - angles[:, None]) / 2
    dx, dy = middles[None, :, 0] - middles[:, None, 0], middles[None, :, 1] - middles[:, None, 1]
    linked = (leans <= RULING_LEAN) & (np.abs(np.cos(mean) * dy - np.sin(mean) * dx) <= RULING_OFFSET)
    # Each piece takes the least index it is linked to, until no index changes: the rows' members.
    row = np.arange(len(middles))
    while True:
        least = np.where(linked, row[None, :], len(row)).min(axis=1)
        joined = np.minimum(row, least)[np.minimum(row, least)]
        if np.array_equal(joined, row):
            break
        row = joined
    order = np.argsort(row, kind="stable")
    rows = np.split(order, np.flatnonzero(np.diff(row[order])) + 1)
    return [members for members in rows if len(members) > 1]


def group_boxes(stats: np.ndarray, groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The box around each group of components, (N, 4) int64 x, y, w, h at working scale, and its ink (N,)."""
    if not groups:
        return np.zeros((0, 4), np.int64), np.zeros(0, np.int64)
    members = np.concatenate(groups)
    starts = np.cumsum([0] + [len(g) for g in groups[:-1]])
    chosen = stats[members].astype(np.int64)
    x0, y0 = np.minimum.reduceat(chosen[:, 0], starts), np.minimum.reduceat(chosen[:, 1], starts)
    x1 = np.maximum.reduceat(chosen[:, 0] + chosen[:, 2], starts)
    y1 = np.maximum.reduceat(chosen[:, 1] + chosen[:, 3], starts)
    ink = np.add.reduceat(chosen[:, cv2.CC_STAT_AREA], starts)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1), ink


def merge_pieces(stats: np.ndarray, candidates: np.ndarray, pieces: np.ndarray, max_aspect: float) -> list[np.ndarray]:
    """Join shorter parts to the candidate they belong to (a 5's detached bar, a broken 4's stroke).

    A part (a small piece, or a shorter candidate too wide to be a digit) joins a candidate at least 1.6x
    its height that it overlaps horizontally and nearly touches vertically, and only when the union is no
    taller than 1.35x that candidate. Digits of one column are of similar height, so they never chain into one box.
    """
    # Shorter candidates may join only when too wide to be a digit themselves (a 5's bar, a 7's top).
    bars = candidates[stats[candidates, cv2.CC_STAT_WIDTH] > max_aspect * stats[candidates, cv2.CC_STAT_HEIGHT]]
    parts = np.sort(np.concatenate([pieces, bars]))  # no piece is a candidate (np.union1d: 10x as slow)
    leaders = candidates[np.argsort(-stats[candidates, cv2.CC_STAT_HEIGHT], kind="stable")]  # tallest first
    # Every (leader, part) pair at once; the loop below only hands each part to the first taker.
    px, py, pw, ph = (stats[parts, i].astype(np.int64)[None, :] for i in range(4))
    cx, cy, cw, ch = (stats[leaders, i].astype(np.int64)[:, None] for i in range(4))
    overlap = np.minimum(px + pw, cx + cw) - np.maximum(px, cx)
    gap = np.maximum(np.maximum(cy - (py + ph), py - (cy + ch)), 0)
    union = np.maximum(py + ph, cy + ch) - np.minimum(py, cy)
    fits = (ch >= 1.6 * ph) & (overlap >= 0.5 * np.minimum(pw, cw)) & (gap <= 0.2 * ch) & (union <= 1.35 * ch)
    fits &= parts[None, :] != leaders[:, None]
    # A line under a digit that runs past it on both sides underlines it (a 2's base, drawn apart, runs
    # past it on the right only).
    reach = UNDERLINE_REACH * ch
    under = (px < cx - reach) & (px + pw > cx + cw + reach) & (2 * py + ph > 2 * (cy + ch))
    fits &= ~under
    # Most leaders take no part: only those that can are visited, tallest first, each part going to the
    # first taker; a leader taken as a part itself (a bar) leads no group of its own.
    taken = np.zeros(len(parts), bool)
    joined = np.zeros(len(stats), bool)  # by label
    joins_of: dict[int, np.ndarray] = {}
    for i in np.flatnonzero(fits.any(axis=1)).tolist():
        if joined[leaders[i]]:
            continue
        joins = fits[i] & ~taken
        taken |= joins
        joins_of[i] = parts[joins]
        joined[joins_of[i]] = True
    alone = leaders[:, None]
    return [
        np.concatenate([alone[i], joins_of[i]]) if i in joins_of else alone[i]
        for i in np.flatnonzero(~joined[leaders]).tolist()
    ]


def reading_order(boxes: np.ndarray) -> np.ndarray:
    """Indices (int64) of boxes top to bottom by line, then left to right within a line."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    centres = boxes[:, 1] + boxes[:, 3] / 2
    line_gap = 0.5 * float(statistics.median(boxes[:, 3].tolist()))  # np.median: 15x as slow on a few boxes
    order = np.argsort(centres, kind="stable")
    # A box starts a new line when its centre is more than line_gap below the mean centre of the current one.
    line, lines, total, count = -1, [], 0.0, 0
    for centre in centres[order].tolist():
        if count and centre - total / count <= line_gap:
            total, count = total + centre, count + 1
        else:
            line, total, count = line + 1, centre, 1
        lines.append(line)
    return order[np.lexsort((boxes[order, 0], lines))]


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
