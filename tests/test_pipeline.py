"""Each stage on generated scenes: detection, normalisation, merging, rejection, light ink, the API."""

from __future__ import annotations

import dataclasses
import itertools
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

import camrec
from benchmarks.accuracy import tally_of
from benchmarks.scoring import Tally, iou_matrix, score_frame
from camrec.config import load_config
from camrec.detect import (
    Found,
    find_digit_boxes,
    hull_of,
    label_components,
    read_grid,
    reading_order,
    threshold_ink,
)
from camrec.marks import without_ring, without_underline
from camrec.normalize import cut_inks, fit_mnist, normalize_crops
from camrec.pipeline import load_recognizer, process_frame, to_gray
from camrec.synth import (
    HELD_OUT_DISTRACTORS,
    draw_mark,
    make_digit_image,
    make_numbers,
    make_scene,
    make_sheet,
    make_thin_pen_scene,
    photograph,
    random_pose,
)
from camrec.upright import LEAST_TURN, row_angle, turned
from tests.scenes import mnist_test_pool


@pytest.fixture(scope="module")
def pool(mnist_dir):
    return mnist_test_pool(mnist_dir)


@pytest.fixture(scope="module")
def recognizer():
    return load_recognizer(load_config())


def test_fit_mnist_centres_the_mass_and_fits_20_pixels():
    ink = np.zeros((200, 60), np.float32)
    ink[20:180, 20:40] = 1.0  # a tall bar, like a "1"
    fitted = fit_mnist(ink)
    rows, _ = np.nonzero(fitted > 0.05)
    assert rows.max() - rows.min() + 1 in (20, 21, 22)  # the long side fills 20 px (plus anti-aliasing)
    ys, xs = np.indices(fitted.shape)
    assert abs((ys * fitted).sum() / fitted.sum() - 13.5) < 0.5
    assert abs((xs * fitted).sum() / fitted.sum() - 13.5) < 0.5


def test_fit_mnist_redraws_a_thin_pen_as_wide_as_mnist_and_leaves_a_bold_one(pool):
    """A 7 drawn 400 px tall with a 2-px line: shrunk straight to 20 px it weighs under 6 full pixels at a
    peak of 0.27 (every MNIST training digit weighs 20 or more); redrawn, as much as an MNIST digit. A
    digit of MNIST's own stroke is not touched."""
    ink = np.zeros((500, 400), np.float32)
    cv2.polylines(ink, [np.array([(100, 60), (300, 60), (180, 450)], np.int32)], False, 255.0, 2, cv2.LINE_AA)
    faint, redrawn = fit_mnist(ink), fit_mnist(ink, thin_pens=True)
    assert faint.sum() < 10 and faint.max() < 0.5
    assert 30 < redrawn.sum() < 120 and redrawn.max() > 0.95
    for along in np.indices(redrawn.shape):  # still centred by its mass
        assert abs((along * redrawn).sum() / redrawn.sum() - 13.5) < 0.5
    for digit in pool[0][:50]:
        assert np.array_equal(fit_mnist(digit, thin_pens=True), fit_mnist(digit))


def test_digits_drawn_with_a_thin_pen_are_read(pool):
    """Digits drawn along their centre lines with a 1-4 px pen, 100-600 px tall (`make_digit_image` "thin",
    a paint program's pencil tool): the line fills 2-4 % of the box, under `detect.min_fill`, and shrunk to
    20x20 it is a faint trace. Measured on these 20 images (MNIST test digits): 17 read, 6 without
    `detect.still_thin_pens`."""
    config = load_config()
    without = dataclasses.replace(config, detect=dataclasses.replace(config.detect, still_thin_pens=False))
    read = {True: 0, False: 0}
    for seed in range(20):
        scene = make_digit_image(seed, pool, "thin")
        for thin_pens, chosen in ((True, config), (False, without)):
            read[thin_pens] += camrec.recognize(scene.image, chosen).digits.tolist() == scene.digits.tolist()
    assert read[True] >= 15 and read[False] <= 10, read


def test_digits_written_with_a_ballpoint_or_a_pencil_are_read_in_a_webcam_frame(pool, recognizer):
    """A sheet written with a ballpoint pen (a line 0.8-1.6 px wide in the frame) or a pencil (1-2 px of grey
    graphite), held up to a webcam (`make_thin_pen_scene`): its line fills too little of a digit's box for
    the fill gate, and shrunk to 20x20 it is fainter than any MNIST stroke. Video and live frames now read
    thin pens as stills do (`detect.thin_pens`). Measured on these frames (MNIST test digits): ballpoint 112
    of 122 read, 98 with the key off; pencil 48 of 56, 42 off."""
    config = recognizer.config
    off = load_recognizer(dataclasses.replace(config, detect=dataclasses.replace(config.detect, thin_pens=False)))
    for first, pencil, floor, ceiling_off in ((730, False, 106, 102), (760, True, 45, 44)):
        scenes = [make_thin_pen_scene(first + i, pool, pencil=pencil) for i in range(16 if not pencil else 10)]
        for read, least, most in ((recognizer, floor, None), (off, 0, ceiling_off)):
            tally = tally_of(read, scenes)
            assert tally.hits >= least and tally.false <= 3, (pencil, tally)
            assert most is None or tally.hits <= most, (pencil, tally)


def test_detector_crops_classify_like_mnist(pool, recognizer):
    """Crops that the detector itself cut from camera-like scenes, normalised, read >= 99 % right."""
    right = total = 0
    for seed in range(150):
        scene = make_scene(900 + seed, pool, "moderate", distractors=())
        gray = to_gray(scene.image)
        found = find_digit_boxes(gray, recognizer.config.detect)
        if not len(found.boxes) or not len(scene.boxes):
            continue
        digits = recognizer.classifier.predict(normalize_crops(gray, found))[0].argmax(axis=1)
        ious = iou_matrix(found.boxes, scene.boxes)
        for i, j in enumerate(ious.argmax(axis=1)):
            if ious[i, j] >= 0.5:
                total += 1
                right += int(digits[i] == scene.digits[j])
    assert total > 900
    assert right / total >= 0.99


@pytest.mark.parametrize("kind", ["camera", "close-up"])
def test_each_crop_is_cut_as_if_alone_though_all_share_one_sheet(pool, recognizer, kind):
    """`cut_inks` lays a frame's crops out side by side: no crop's mask, filled outline or rim may reach
    into a neighbour's, at full resolution (camera) or at another working scale (the close-up's canvas)."""
    from camrec.detect import ink_readings
    from camrec.synth import make_close_up

    detect = dataclasses.replace(recognizer.config.detect, close_up=kind == "close-up")
    compared = 0
    for seed in range(6):
        scene = make_scene(950 + seed, pool, "moderate") if kind == "camera" else make_close_up(950 + seed, pool)
        gray = to_gray(scene.image)
        found = ink_readings(gray, detect)[0 if kind == "camera" else -1]
        assert (found.scale == 1.0) == (kind == "camera")
        together = cut_inks(gray, found, found.boxes, found.members)
        for box, members, ink in zip(found.boxes, found.members, together):
            (alone,) = cut_inks(gray, found, box[None], [members])
            assert ink.shape == (box[3], box[2]) and np.array_equal(ink, alone)
            compared += 1
    assert compared >= (30 if kind == "camera" else 6)


def test_holes_are_not_digits(recognizer):
    page = np.full((300, 400), 240, np.uint8)
    for i, text in enumerate("08"):
        cv2.putText(page, text, (60 + 160 * i, 220), cv2.FONT_HERSHEY_SIMPLEX, 5, 30, 14, cv2.LINE_AA)
    found = find_digit_boxes(page, recognizer.config.detect)
    assert len(found.boxes) == 2  # no box for the holes inside 0 and 8


def test_printed_boxes_are_told_from_digits(pool):
    """A box's outline is a rectangle, tilted or not, thin or bold lines, with a digit against its edge or
    not; no MNIST digit's outline is both that square and that thin."""
    from camrec.detect import find_printed_boxes

    def boxes_among(mask: np.ndarray) -> int:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        return len(find_printed_boxes(labels, stats, np.arange(1, len(stats)), min_h=14.4))

    images, _ = pool
    for line, angle, against in itertools.product((1, 3), (0, 8), (False, True)):
        mask = np.zeros((200, 200), np.uint8)
        corners = cv2.boxPoints(((100, 100), (110, 100), angle)).astype(np.int32)
        cv2.polylines(mask, [corners], True, 1, line)
        digit = (cv2.resize(images[0], (84, 84)) > 100).astype(np.uint8)
        top, left = (58, 48) if against else (58, 58)  # a 7 written against the box's left edge, or clear of it
        mask[top : top + 84, left : left + 84] |= digit
        assert boxes_among(mask) == 1, (line, angle, against)
    digits = [(cv2.resize(image, (84, 84)) > 100).astype(np.uint8) for image in images[:2000]]
    assert sum(boxes_among(np.pad(digit, 4)) for digit in digits) == 0


def test_a_form_reads_the_digits_in_its_boxes_and_not_the_boxes(pool, recognizer):
    """Answer boxes on a form: a printed box read as a 0 or a 1, or as one with the digit inside it, was a
    false digit and a missed one."""
    from camrec.synth import make_form_scene

    camera, photo = Tally(), Tally()
    for seed in range(6000, 6012):
        scene = make_form_scene(seed, pool)
        found = recognizer(scene.image).detections
        camera.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
        scene = make_form_scene(seed, pool, photo=True)
        found = camrec.recognize(scene.image)
        photo.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    # Measured on these 12 forms: camera 0.96, photo 0.94; with the boxes left in the ink, 0.71 and 0.67.
    assert camera.f1 >= 0.9 and photo.f1 >= 0.88, (camera.f1, photo.f1)


def test_a_row_of_boxes_whose_lines_touch_reads_its_digits_and_not_the_lines_between(pool, recognizer):
    """Three answer boxes sharing their lines (a comb): one outline, taken out whole with the two lines
    between the boxes, which would otherwise read as 1s. (A wider comb: the next test.)"""
    images, labels = pool
    page = np.full((480, 640, 3), 240, np.uint8)
    cv2.rectangle(page, (100, 150), (310, 220), (60, 60, 60), 3)
    for i, x in enumerate((100, 170, 240)):
        if i:
            cv2.line(page, (x, 150), (x, 220), (60, 60, 60), 3)
        digit = cv2.resize(images[i], (54, 54))
        cell = page[158:212, x + 8 : x + 62]
        cell[:] = np.minimum(cell, 255 - digit[:, :, None])
    for found in (recognizer(page).detections, camrec.recognize(page)):
        assert found.digits[np.argsort(found.boxes[:, 0])].tolist() == labels[:3].tolist()


def test_a_comb_wider_than_a_third_of_the_frame_reads_its_digits_and_not_its_lines(pool, recognizer):
    """A phone number's comb of ten boxes, 480 px of a 640-px frame, seen square on: its long lines go as
    ruling, and its upright lines stood alone, each a perfect 1. Read `1 7 2 1 0 4 1 4 9 1 9 1` before
    `comb_sides`. (`accuracy.py` group `forms:comb` has combs photographed at a tilt.)"""
    images, labels = pool
    page = np.full((480, 640), 235, np.uint8)
    cv2.rectangle(page, (80, 200), (560, 262), 60, 2)
    for i in range(10):
        x = 80 + 48 * i
        if i:
            cv2.line(page, (x, 200), (x, 262), 60, 2)
        digit = cv2.resize(images[i], (40, 40))
        cell = page[211:251, x + 4 : x + 44]
        cell[:] = np.minimum(cell, 255 - digit)
    for found in (recognizer(page).detections, camrec.recognize(page)):
        read = found.digits[np.argsort(found.boxes[:, 0])].tolist()
        # MNIST's test digit 8, a 5, is missed either way; no line between boxes reads as a 1.
        assert read == [d for i, d in enumerate(labels[:10].tolist()) if i != 8], read


@pytest.mark.parametrize(("line", "angle"), [(1, 0.0), (3, 0.0), (2, 8.0), (2, -25.0)])
def test_a_grids_lines_are_taken_out_and_a_digit_written_against_one_is_kept(pool, line, angle):
    """A 4x4 grid of 60-px cells, square or turned, with a 7 written against a cell's left line: the grid's
    lines go (`detect.read_grid`), the 7 stays but for the pixels beside the line (92-96 % of it stays, no
    line pixel is left), and so does a 1 written from its cell's top line to its bottom one; its 16 cells
    are numbered, and squared paper's 400 are not. No grid: one box, and one box split in two by such a 1."""
    page = np.zeros((400, 400), np.uint8)
    for k in range(5):
        cv2.line(page, (80 + 60 * k, 80), (80 + 60 * k, 320), 1, line)
        cv2.line(page, (80, 80 + 60 * k), (320, 80 + 60 * k), 1, line)
    digit = (cv2.resize(pool[0][0], (44, 44)) > 100).astype(np.uint8)  # MNIST's first test digit, a 7
    columns = np.flatnonzero(digit.any(axis=0))
    page[148:192, 141 - columns[0] : 185 - columns[0]] |= digit  # its leftmost ink on the line at x = 140
    turn = cv2.getRotationMatrix2D((200, 200), angle, 1.0)
    page = cv2.warpAffine(page, turn, (400, 400), flags=cv2.INTER_NEAREST)
    seven = np.zeros_like(page)
    seven[148:192, 141 - columns[0] : 185 - columns[0]] = digit
    seven = cv2.warpAffine(seven, turn, (400, 400), flags=cv2.INTER_NEAREST)
    labels, stats, _ = label_components(page)
    grid = int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) + 1
    mask, hull = hull_of(labels, stats, grid)
    lines = read_grid(mask, hull, min_h=14.4).lines
    x, y, w, h = stats[grid, :4]
    left = np.zeros_like(page, bool)
    left[y : y + h, x : x + w] = mask.astype(bool) & ~lines
    kept = left[seven > 0].mean()
    assert kept >= 0.88, kept
    assert left[seven == 0].sum() <= 0.002 * (page > 0).sum(), "line pixels left"
    one = np.zeros_like(page)  # a 1 written from its cell's top line to its bottom one: no line (78-85 % stays)
    cv2.line(one, (172, 200), (168, 260), 1, 4)
    one = cv2.warpAffine(one, turn, (400, 400), flags=cv2.INTER_NEAREST)
    labels, stats, _ = label_components(page | one)
    grid = int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) + 1
    mask, hull = hull_of(labels, stats, grid)
    x, y, w, h = stats[grid, :4]
    left[:] = False
    left[y : y + h, x : x + w] = mask.astype(bool) & ~read_grid(mask, hull, min_h=14.4).lines
    assert left[one > 0].mean() >= 0.7, left[one > 0].mean()
    # Its cells numbered row by row; squared paper's many cells (over GRID_MOST_CELLS) part no numbers.
    assert read_grid(mask, hull, min_h=14.4).cells.max() == 16
    squared = np.zeros((400, 400), np.uint8)
    for k in range(21):
        cv2.line(squared, (40 + 16 * k, 40), (40 + 16 * k, 360), 1, 1)
        cv2.line(squared, (40, 40 + 16 * k), (360, 40 + 16 * k), 1, 1)
    labels, stats, _ = label_components(squared)
    grid = read_grid(*hull_of(labels, stats, 1), min_h=14.4)
    assert grid is not None and grid.lines.any() and grid.cells.max() == 0
    box = np.zeros((200, 200), np.uint8)
    cv2.rectangle(box, (40, 40), (160, 160), 1, line)
    labels, stats, _ = label_components(box)
    assert read_grid(*hull_of(labels, stats, 1), min_h=14.4) is None
    cv2.line(box, (100, 40), (96, 160), 1, 4)  # a 1 from the box's top line to its bottom one
    labels, stats, _ = label_components(box)
    assert read_grid(*hull_of(labels, stats, 1), min_h=14.4) is None


def test_digits_written_in_a_sudoku_or_a_table_are_read(pool, recognizer):
    """Digits written in a printed grid's cells (`make_grid_scene`: a sudoku or a table), a fifth of them
    against a line: the grid was one component with every digit that touched it, and taken for a printed
    box it lost a band as deep as most of its outer cells. Measured on these 12 grids (MNIST test digits):
    camera 0.898, photo 0.906; before grids had their lines taken out (`detect.read_grid`), 0.700 and 0.703."""
    from camrec.synth import make_grid_scene

    camera = tally_of(recognizer, (make_grid_scene(seed, pool) for seed in range(6100, 6112)))
    photo = Tally()
    for seed in range(6100, 6112):
        scene = make_grid_scene(seed, pool, photo=True)
        found = camrec.recognize(scene.image)
        photo.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    assert camera.f1 >= 0.85 and photo.f1 >= 0.85, (camera, photo)


def test_a_grid_seen_square_on_is_read_cell_by_cell(pool, recognizer):
    """A grid seen square on (scanned, or held level to a webcam) lost its long lines as ruling before the
    grid could be seen whole; now lines that cross them keep them (`detect.level_grid_region`). A sudoku
    drawn level, 36-px cells, 39 MNIST test digits: each one read, each in a cell of its own (F1 0.974;
    before, 0.836 and no cells). Camera frames of grids seen square on (`make_grid_scene(turn=0)`, these
    12): 0.906; before, 0.707."""
    from camrec.synth import make_grid_scene

    images, labels = pool
    page = np.full((480, 640), 235, np.uint8)
    for k in range(10):
        width = 3 if k % 3 == 0 else 1
        cv2.line(page, (60 + 36 * k, 50), (60 + 36 * k, 50 + 9 * 36), 70, width)
        cv2.line(page, (60, 50 + 36 * k), (60 + 9 * 36, 50 + 36 * k), 70, width)
    rng = np.random.default_rng(0)
    boxes = []
    for cell in np.flatnonzero(rng.random(81) >= 0.55)[:39]:
        digit = cv2.resize(images[len(boxes)], (30, 30))
        x, y = 65 + 36 * (cell % 9), 55 + 36 * (cell // 9)
        page[y : y + 30, x : x + 30] = np.minimum(page[y : y + 30, x : x + 30], 255 - digit)
        rows, columns = np.flatnonzero(digit.max(1) > 80), np.flatnonzero(digit.max(0) > 80)
        boxes.append((x + columns[0], y + rows[0], columns[-1] - columns[0] + 1, rows[-1] - rows[0] + 1))
    found = recognizer(page).detections
    drawn = Tally()
    drawn.add(score_frame(found.boxes, found.digits, np.array(boxes), labels[: len(boxes)]))
    assert len(boxes) == 39 and drawn.f1 >= 0.95, drawn
    assert found.cells is not None and len(set(found.cells.tolist())) == len(found) and found.cells.min() >= 0
    camera = tally_of(recognizer, (make_grid_scene(seed, pool, turn=0.0) for seed in range(6200, 6212)))
    assert camera.f1 >= 0.85, camera


def test_a_grid_held_so_close_that_it_runs_out_of_view_is_read(pool, recognizer):
    """A sudoku or a table held close to a webcam, 1.3 times the sheet's usual size, runs out of view: its
    component reaches the frame's edges, which the desk around a sheet does too, and grids were looked for
    only among components that kept off them (`detect.box_candidates`); a turned one's hull, cut off by
    the frame at a slant, is no rectangle either (`find_printed_boxes`). These 30 camera frames of MNIST
    test digits: 0.886; 0.840 with the hull's test, 0.763 with neither change."""
    from camrec.synth import make_grid_scene

    close = tally_of(recognizer, (make_grid_scene(seed, pool, zoom=1.3) for seed in range(6300, 6330)))
    assert close.f1 >= 0.85, close


def test_squared_paper_filling_the_frame_still_loses_its_lines_as_ruling(pool, recognizer):
    """Squared paper's lines cross as a grid's do, so they are kept in at first (`remove_long_lines`); but
    it runs off the frame, no grid is found, and they go as ruling after all (`outside_grids`): 40-px
    squares and eight 64-px MNIST test digits read as they did before level grids were looked for (all 8;
    4 of 8 with the lines kept left in)."""
    images, labels = pool
    page = np.full((480, 640), 235, np.uint8)
    for k in range(0, 680, 40):
        cv2.line(page, (k + 10, 0), (k + 10, 479), 170, 1)
        cv2.line(page, (0, k + 15), (639, k + 15), 170, 1)
    boxes = []
    for i in range(8):
        x, y = 40 + 140 * (i % 4), 90 + 180 * (i // 4)
        digit = cv2.resize(images[i], (64, 64))
        page[y : y + 64, x : x + 64] = np.minimum(page[y : y + 64, x : x + 64], 255 - digit)
        rows, columns = np.flatnonzero(digit.max(1) > 80), np.flatnonzero(digit.max(0) > 80)
        boxes.append((x + columns[0], y + rows[0], columns[-1] - columns[0] + 1, rows[-1] - rows[0] + 1))
    kept = threshold_ink(page, load_config().detect, light_ink=False, grid_floor=14.4)[4]
    assert kept is not None and kept.any(), "the squares' lines should be kept in at first"
    found = recognizer(page).detections
    read = Tally()
    read.add(score_frame(found.boxes, found.digits, np.array(boxes), labels[:8]))
    assert read.hits == 8 and read.false == 0 and found.cells is None, (read, found.digits)


def leaning_lines(shape: tuple[int, int], pitch: int, degrees: float, across: bool, down: bool) -> np.ndarray:
    """A mask (uint8 0/255) of lines 2 px wide, `pitch` apart, leaning `degrees`: along the rows, down the
    columns, or both (squared paper)."""
    height, width = shape
    mask = np.zeros(shape, np.uint8)
    slope = np.tan(np.radians(degrees))
    for k in range(-width, width + height, pitch):
        if across:
            cv2.line(mask, (0, k), (width, k + round(slope * width)), 255, 2)
        if down:
            cv2.line(mask, (k, 0), (k - round(slope * height), height), 255, 2)
    return mask


@pytest.mark.parametrize("squared", [False, True])
def test_bold_ruling_that_leans_goes_where_it_runs_through_a_digit_and_its_strokes_stay(squared):
    """Lines 2 px wide, leaning 3 degrees (a sheet held a little turned), ruled or squared, and a stroke
    8 px wide crossing three of them: the lines go, also beside the stroke, and the stroke stays whole
    (`detect.without_ruling`). Lines that lean are no long runs along rows or columns, which is all that
    `remove_long_lines` looks for. A lattice of ten lines each way, a sudoku's, is left to the grids
    (`find_printed_boxes`); squared paper has many more."""
    from camrec.detect import SQUARED_LINES, lines_to_find, without_ruling

    shape = (480, 640)
    lines = leaning_lines(shape, 28, 3.0, across=True, down=squared)
    stroke = np.zeros(shape, np.uint8)
    stroke[150:240, 300:308] = 255
    binary = cv2.bitwise_or(lines, stroke)
    stats = label_components(binary)[1]
    least_lines = lines_to_find(stats, shape)
    assert least_lines == (SQUARED_LINES if squared else 0)
    kept = without_ruling(binary, binary, least_lines)
    assert kept is not None
    assert (kept[150:240, 300:308] == 255).all(), "the stroke lost its crossings"
    beside = cv2.dilate(stroke, np.ones((1, 3), np.uint8))
    # (At the frame's edges, a line that the frame cuts short is no ruling to be told.)
    assert cv2.countNonZero(cv2.subtract(kept, beside)[20:-20, 20:-20]) == 0, "some of the lines are left"
    sudoku = np.zeros(shape, np.uint8)
    for k in range(10):
        cv2.line(sudoku, (100 + 40 * k, 60), (100 + 40 * k, 420), 255, 2)
        cv2.line(sudoku, (100, 60 + 40 * k), (460, 60 + 40 * k), 255, 2)
    assert lines_to_find(label_components(sudoku)[1], shape) == SQUARED_LINES
    assert without_ruling(sudoku, sudoku, SQUARED_LINES) is None


def test_a_bold_line_through_a_row_of_digits_goes_between_them_too(monkeypatch):
    """Digits written on a line, side by side all along it, leave no long piece of it clear (digits 20 px
    wide every 60 px: pieces of 40 px between them, under half a line's length): its short pieces lie on
    one straight line, and are taken out as one (`detect.collinear_rows`). A row of the same blobs between
    two lines stays as it is, and so do the blobs."""
    from camrec import detect

    shape, pitch, degrees = (480, 640), 28, 3.0
    lines = leaning_lines(shape, pitch, degrees, across=True, down=False)
    slope = np.tan(np.radians(degrees))
    on_line, off_line = 7 * pitch, 11 * pitch + pitch // 2  # a line's height at x = 0, and one between two
    digits = np.zeros(shape, np.uint8)
    for left in range(10, 620, 60):
        for row in (on_line, off_line):
            middle = round(row + slope * (left + 10))
            digits[middle - 15 : middle + 15, left : left + 20] = 255
    binary = cv2.bitwise_or(lines, digits)
    between = cv2.subtract(lines, cv2.dilate(digits, np.ones((3, 3), np.uint8)))
    row_band = np.zeros(shape, np.uint8)
    cv2.line(row_band, (0, on_line), (640, on_line + round(slope * 640)), 255, 5)
    least_lines = detect.lines_to_find(label_components(binary)[1], shape)
    assert least_lines == 0
    kept = detect.without_ruling(binary, binary, least_lines)
    assert (kept[digits > 0] == 255).all(), "the digits lost ink"
    left_between = cv2.bitwise_and(cv2.bitwise_and(kept, between), row_band)[:, 20:-20]
    assert cv2.countNonZero(left_between) == 0, "the line through the row of digits is left between them"
    monkeypatch.setattr(detect, "RULING_SHORT", 10**6)  # long pieces only, as before the rows
    kept = detect.without_ruling(binary, binary, least_lines)
    assert cv2.countNonZero(cv2.bitwise_and(cv2.bitwise_and(kept, between), row_band)[:, 20:-20]) > 200


def test_level_ruling_taken_out_by_the_long_runs_search_still_tells_ruled_paper():
    """Level ruling is taken out by the long-runs search before the components are labelled, all but a line
    that breaks up beside the dark digits written on it (there it drops out of the ink mask): what is left
    shows no ruled paper, and that line's pieces stay between the digits (on paper, often touching them).
    The lines taken out say it is ruled paper (`detect.lines_to_find`), and the line goes there too."""
    from camrec.detect import lines_to_find, remove_long_lines, without_ruling

    shape, row = (480, 640), 200
    lines = np.zeros(shape, np.uint8)
    lines[row % 28 : 480 : 28] = 255  # lines 2 px wide, 28 px apart, one of them through the row of digits
    lines[row % 28 + 1 : 480 : 28] = 255
    digits = np.zeros(shape, np.uint8)
    for left in range(10, 620, 60):
        digits[row - 15 : row + 15, left : left + 20] = 255
    darker_than_paper = cv2.bitwise_or(lines, digits)  # it holds the line beside the digits
    for left in range(10, 620, 60):
        lines[row - 2 : row + 3, left - 8 : left + 28] = 0  # the ink mask's gaps beside a dark digit
    binary = cv2.bitwise_or(lines, digits)
    kept, taken_out, _ = remove_long_lines(binary)
    stats = label_components(kept)[1]
    assert lines_to_find(stats, shape) is None
    assert lines_to_find(stats, shape, taken_out) == 0
    unruled = without_ruling(kept, darker_than_paper, 0)
    assert unruled is not None
    assert (unruled[digits > 0] == 255).all(), "the digits lost ink"
    assert cv2.countNonZero(unruled[row - 4 : row + 5, 20:-20]) == cv2.countNonZero(digits[row - 4 : row + 5, 20:-20])
    assert cv2.countNonZero(kept[row - 4 : row + 5]) > cv2.countNonZero(digits[row - 4 : row + 5])  # it was there


def test_digits_on_bold_ruled_or_squared_paper_are_read(pool, recognizer, monkeypatch):
    """Hard scenes on paper ruled or squared in bold (`synth.BOLD_RULING`: lines 2 px wide, grey 120-160),
    as a notebook held close to a webcam shows it: the lines lean with the sheet, run through the digits
    on them, and joined the digits into long pieces of ink. Measured on these 12 frames each (MNIST test
    digits): ruled 0.895, squared 0.932; with long pieces of line only (no `detect.collinear_rows`, no
    second fit) 0.826 and 0.866; before `detect.without_ruling`, 0.516 and 0.351."""
    from camrec import detect

    for condition, first, floor in (("bold_ruled", 6400, 0.85), ("bold_squared", 6420, 0.89)):
        scenes = [make_scene(first + i, pool, "hard", condition) for i in range(12)]
        assert tally_of(recognizer, scenes).f1 >= floor, condition
        with monkeypatch.context() as patch:  # the same frames with their lines left in
            patch.setattr(detect, "lines_to_find", lambda stats, shape, taken_out: None)
            assert tally_of(recognizer, scenes).f1 < 0.6, condition


def test_digits_in_neighbouring_cells_of_a_grid_are_two_numbers_and_a_number_in_one_cell_is_one(pool, recognizer):
    """A table of 2x2 cells, 100x80 px: a 7 and a 2 written against the line between their cells, 12 px
    apart, are two numbers; a 1 and a 0 written close together in one cell are the number 10
    (`Detections.cells`). Before cells were known, the 7 and the 2 read as the number 72."""
    from camrec.numbers import number_records

    images, labels = pool
    page = np.full((480, 640), 235, np.uint8)
    for k in range(3):
        cv2.line(page, (200 + 100 * k, 150), (200 + 100 * k, 310), 60, 2)
        cv2.line(page, (200, 150 + 80 * k), (400, 150 + 80 * k), 60, 2)

    def write(index: int, x: int, y: int, right: bool = False) -> None:
        """MNIST test digit `index`, 48 px, its ink's left (or right) edge at x."""
        digit = cv2.resize(images[index], (48, 48))
        columns = np.flatnonzero(digit.max(axis=0) > 60)
        x -= columns[-1] if right else columns[0]
        region = page[y : y + 48, x : x + 48]
        region[:] = np.minimum(region, 255 - digit)

    write(0, 294, 165, right=True)  # the 7, against the line at x = 300
    write(1, 306, 165)  # the 2, against the same line
    write(2, 220, 245)  # the 1 and the 0 of 10, in one cell
    write(3, 238, 245)
    assert labels[:4].tolist() == [7, 2, 1, 0]
    found = recognizer(page).detections
    values = sorted(record["value"] for record in number_records(found))
    assert values == ["10", "2", "7"], values


def marked_page(pool, marks: tuple[str, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Twelve MNIST test digits, 56-72 px tall, in three rows, each with one of `marks` in turn
    (`synth.draw_mark`), on a clean 960x600 page; with the digits' boxes and labels."""
    images, labels = pool
    rng = np.random.default_rng(seed)
    page = np.full((600, 960), 235, np.float32)
    boxes = []
    for i in range(12):
        height = int(rng.integers(56, 73))
        digit = cv2.resize(images[i], (height, height)).astype(np.float32) / 255
        x, y = 60 + (i % 4) * 230, 70 + (i // 4) * 190
        page[y : y + height, x : x + height] -= digit * 200
        rows, columns = np.flatnonzero(digit.max(1) > 0.3), np.flatnonzero(digit.max(0) > 0.3)
        boxes.append((x + columns[0], y + rows[0], columns[-1] - columns[0] + 1, rows[-1] - rows[0] + 1))
        draw_mark(page, marks[i % len(marks)], tuple(int(v) for v in boxes[-1]), rng)
    return np.clip(page, 0, 255).astype(np.uint8), np.array(boxes), labels[:12]


@pytest.mark.parametrize(
    ("marks", "least_read", "most_false"),
    [
        (("underline", "double_underline"), 10, 1),  # before: 4 and 4 read, 0 and 3 false (video, still)
        (("underline_touching",), 10, 2),  # before: 4 and 5, 1 and 2
        (("circle",), 9, 1),  # before: 7 and 7, 6 and 9
        (("tick",), 12, 0),  # before: 12 and 12, 6 and 8
    ],
)
def test_a_teachers_marks_are_no_digits_and_hide_none(pool, recognizer, marks, least_read, most_false):
    """A line under a digit (apart from it, doubled, or touching it), a ring around it, a tick after it, on
    twelve digits: no mark reads as a digit, and the digit it marks reads, as a video frame and as a still
    (IoU >= 0.5 with the digit's own box: a box that takes in the mark counts as a miss and a false digit)."""
    page, boxes, labels = marked_page(pool, marks)
    for found in (recognizer(page).detections, camrec.recognize(page)):
        tally = score_frame(found.boxes, found.digits, boxes, labels)
        assert tally.hits >= least_read and tally.false <= most_false, (marks, tally)


def boxes_turned(boxes: np.ndarray, degrees: float) -> np.ndarray:
    """Boxes (N, 4) moved as their middles move when the page turns `degrees` (clockwise in the image)."""
    middles = boxes[:, :2] + boxes[:, 2:] / 2
    angle = np.radians(degrees)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = middles @ turn.T + 400
    return np.hstack([moved - boxes[:, 2:] / 2, boxes[:, 2:]]).astype(np.int32)


def test_the_lean_of_rows_of_digits_is_measured_and_a_page_without_rows_has_none():
    rng = np.random.default_rng(3)
    # Two rows of five digits, 40-60 px tall, a little uneven, as written.
    rows = np.array(
        [[x * 70 + rng.integers(-6, 7), y * 130 + rng.integers(-6, 7), rng.integers(25, 45), rng.integers(40, 60)]
         for y in range(2) for x in range(5)]
    )  # fmt: skip
    for degrees in (-35, -25, -12, 0, 12, 25, 35):
        assert abs(row_angle(boxes_turned(rows, degrees)) - degrees) < 4, degrees
    column = np.array([[100, y * 80, 35, 50] for y in range(5)])  # one digit under another: no row
    staircase_of_three = np.array([[0, 0, 30, 50], [80, 46, 30, 50], [160, 92, 30, 50]])  # 30 degrees apart
    scattered = np.array([[0, 0, 30, 50], [90, 40, 30, 50], [150, -30, 30, 50], [260, 35, 30, 50]])
    alone = np.array([[0, 0, 30, 50], [70, 0, 30, 50]])  # one pair is too few to tell
    assert row_angle(column) == 0.0 and row_angle(scattered) == 0.0 and row_angle(alone) == 0.0
    assert abs(row_angle(staircase_of_three)) > LEAST_TURN  # measured; the pipeline then reads both ways
    ink = np.zeros((40, 20), np.float32)
    ink[5:35, 9:11] = 1.0  # a 1, upright
    leaning = turned(ink, 30)
    assert leaning.shape[0] > 30 and leaning.shape[1] > 20 and abs(leaning.sum() - ink.sum()) < 1  # none cut off


def test_a_sheet_held_turned_is_read(pool, recognizer):
    """Sheets of 8 MNIST test digits turned 28-35 degrees, as a webcam sees a sheet held up at an angle:
    their digits are turned upright to be read (`camrec.upright`). Before (`detect.upright` off): 36 and 41
    of 48 read (video, still); now 45 and 46. Upright digits in a staircase are read as they are, as before."""
    scenes = []
    for i, degrees in enumerate((30, -30, 35, -35, 28, -28)):
        rng = np.random.default_rng(710 + i)
        sheet = make_sheet(rng, pool, "moderate", distractors=(), n_digits=8)
        scenes.append(photograph(sheet, rng, random_pose(rng, zoom=0.75, turn=degrees, shift=(0, 0))))
    for tally in as_video_and_as_still(scenes, recognizer):
        assert tally.hits >= 43 and tally.false <= 1, tally


def test_numbers_written_fast_on_a_sheet_held_turned_are_cut_into_digits(pool, recognizer):
    """Touching digits on a turned sheet make one box that does not look too wide for a digit: only the
    frame turned upright shows them as a number to cut (`read_upright`). Four sheets turned 22-25 degrees,
    48 MNIST test digits: before, 23 and 24 read (video, still); now 37 and 36."""
    scenes = [make_numbers(720 + i, pool, turn) for i, turn in enumerate((25, -25, 22, -22))]
    for tally in as_video_and_as_still(scenes, recognizer):
        assert tally.hits >= 33 and tally.false <= 7, tally


def as_video_and_as_still(scenes: list, recognizer) -> list[Tally]:
    """The scenes' tallies read as `camrec video` reads a frame, and as `camrec.recognize` reads a still."""
    tallies = []
    for read in (lambda image: recognizer(image).detections, camrec.recognize):
        tally = Tally()
        for scene in scenes:
            found = read(scene.image)
            tally.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
        tallies.append(tally)
    return tallies


def test_a_number_underlined_is_read_digit_by_digit(pool, recognizer):
    """Six two-digit numbers, each with a line drawn under it that touches its digits: one component, cut
    into digits above the line (`Cutter` reads without it). Before: 3 and 4 of 12 read (video, still)."""
    images, labels = pool
    rng = np.random.default_rng(1)
    page = np.full((600, 960), 235, np.float32)
    boxes, digits = [], []
    for n in range(6):
        height, x, y = int(rng.integers(50, 70)), 60 + (n % 3) * 300, 80 + (n // 3) * 250
        number = []
        for index in (2 * n, 2 * n + 1):
            digit = cv2.resize(images[index], (height, height)).astype(np.float32) / 255
            page[y : y + height, x : x + height] -= digit * 200
            rows, columns = np.flatnonzero(digit.max(1) > 0.3), np.flatnonzero(digit.max(0) > 0.3)
            number.append((x + columns[0], y + rows[0], columns[-1] - columns[0] + 1, rows[-1] - rows[0] + 1))
            digits.append(int(labels[index]))
            x += int(height * 0.8)
        left, top = min(b[0] for b in number), min(b[1] for b in number)
        right, bottom = max(b[0] + b[2] for b in number), max(b[1] + b[3] for b in number)
        draw_mark(page, "underline_touching", (left, top, right - left, bottom - top), rng)
        boxes += number
    page = np.clip(page, 0, 255).astype(np.uint8)
    for found in (recognizer(page).detections, camrec.recognize(page)):
        tally = score_frame(found.boxes, found.digits, np.array(boxes), np.array(digits))
        assert tally.hits >= 8 and tally.false <= 1, tally


def test_an_image_of_one_digit_inside_a_drawn_frame_reads_the_digit(pool):
    """A digit image with a frame around it (a cell cut from a form, a digit boxed in a paint program): the
    frame is no part of the digit. Measured on MNIST test digits 0-99 at 64 px: 99 read, 30 with the frame
    left in the ink; of the first 20, here, 20 and 6."""
    images, labels = pool
    read = 0
    for image, label in zip(images[:20], labels[:20]):
        framed = cv2.rectangle(cv2.resize(255 - image, (64, 64)), (3, 3), (60, 60), 0, 2)
        read += camrec.recognize(framed).digits.tolist() == [int(label)]
    assert read >= 18, read


def test_merging_joins_a_broken_five_but_not_a_column(recognizer):
    page = np.full((400, 300), 240, np.uint8)
    cv2.putText(page, "5", (80, 200), cv2.FONT_HERSHEY_SIMPLEX, 5, 30, 12, cv2.LINE_AA)
    _, y0, _, h = cv2.boundingRect((page < 128).astype(np.uint8))
    page[y0 + h // 5 : y0 + h // 5 + 6, :] = 240  # cut the top bar off: two pieces
    found = find_digit_boxes(page, recognizer.config.detect)
    assert len(found.boxes) == 1
    assert found.boxes[0][3] >= 0.9 * h
    column = np.full((500, 300), 240, np.uint8)
    for i, text in enumerate("71"):
        cv2.putText(column, text, (100, 210 + 200 * i), cv2.FONT_HERSHEY_SIMPLEX, 5, 30, 12, cv2.LINE_AA)
    assert len(find_digit_boxes(column, recognizer.config.detect).boxes) == 2


def test_a_group_that_is_no_digit_gives_back_the_candidates_it_took(recognizer):
    # A number whose digits touch is a box too wide for one digit; merging takes such a box as a part (a
    # 5's detached bar is one) of a much taller candidate it nearly touches. Below the number, a sheet's
    # slanted edge took it, and the two failed the gates together (too little ink for their box). Measured:
    # without the giving back, the number was not even a box of touching digits.
    page = np.full((480, 640), 225, np.uint8)
    number = np.array([[360, 110], [380, 142], [398, 108], [418, 142], [438, 106]], np.int32)  # 80 x 38 zigzag
    cv2.polylines(page, [number], False, 40, 5, cv2.LINE_AA)
    box = np.array(cv2.boundingRect((page < 128).astype(np.uint8)))[None]
    edge = np.array([[335, 176], [590, 190], [600, 479]], np.int32)
    cv2.polylines(page, [edge], False, 60, 3, cv2.LINE_AA)
    found = find_digit_boxes(page, recognizer.config.detect)
    assert len(found.runs) == 1 and iou_matrix(found.runs, box)[0, 0] > 0.8


def test_a_group_that_is_no_digit_falls_apart_into_its_candidates(recognizer):
    # A hand-drawn underline, wavy (so no ruling line), runs under a 4 and far beyond it.
    # Merging takes it as a detached stroke of the 4; together they are too little ink for their box and
    # fail the gates, but the 4 alone is a digit. (In a close-up the same happens with the frame's own
    # edge on its canvas, below a digit held close: tuning frames read 0.955 -> 0.980.)
    page = np.full((480, 640), 225, np.uint8)
    cv2.putText(page, "4", (100, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, 30, 10, cv2.LINE_AA)
    box = np.array(cv2.boundingRect((page < 128).astype(np.uint8)))[None]
    columns = np.arange(20, 600)
    wave = np.stack([columns, box[0, 1] + box[0, 3] + 10 + 3 * np.sin(columns / 15.0)], axis=1)
    cv2.polylines(page, [wave.astype(np.int32)], False, 40, 2, cv2.LINE_AA)
    found = find_digit_boxes(page, recognizer.config.detect)
    assert len(found.boxes) == 1 and iou_matrix(found.boxes, box)[0, 0] > 0.8


def test_max_boxes_keeps_the_largest_in_reading_order():
    page = np.full((300, 600), 240, np.uint8)
    for text, x, scale in (("1", 40, 2), ("2", 180, 5), ("3", 420, 3.5)):
        cv2.putText(page, text, (x, 250), cv2.FONT_HERSHEY_SIMPLEX, scale, 30, 10, cv2.LINE_AA)
    assert len(find_digit_boxes(page, load_config().detect).boxes) == 3
    boxes = find_digit_boxes(page, load_config(None, ["detect.max_boxes=2"]).detect).boxes
    assert len(boxes) == 2 and boxes[0][0] < boxes[1][0]  # the 2 and the 3, left to right; the small 1 goes
    assert boxes[0][0] > 150 and boxes[1][0] > 400


def test_components_past_16_bit_labels_fall_back_to_32_bit():
    dots = np.zeros((480, 640), np.uint8)
    dots[::2, ::2] = 255  # 76,800 separate specks: more than 16-bit labels can count
    labels, stats, _ = label_components(dots)
    assert labels.dtype == np.int32 and len(stats) == 76_801 and labels.max() == 76_800
    labels, stats, _ = label_components(dots[:200])  # 32,000 specks
    assert labels.dtype == np.uint16 and len(stats) == 32_001 and labels.max() == 32_000


@pytest.mark.parametrize("ink", ["dark", "light"])
def test_detection_is_the_same_with_and_without_its_helper_thread(pool, ink):
    """With more than one OpenCV thread, box filter, ruling search and integral run on a helper thread."""
    cfg = load_config(None, [f"detect.ink={ink}"]).detect
    scenes = [make_scene(900 + i, pool, kind) for i, kind in enumerate(["moderate", "hard", "hard", "empty"])]
    grays = [to_gray(scene.image) if ink == "dark" else 255 - to_gray(scene.image) for scene in scenes]
    previous = cv2.getNumThreads()
    try:
        readings = []
        for threads in (2, 1):
            cv2.setNumThreads(threads)
            readings.append([find_digit_boxes(gray, cfg) for gray in grays])
    finally:
        cv2.setNumThreads(previous)
    assert sum(len(found.boxes) for found in readings[0]) >= 10
    for helped, alone in zip(*readings):
        assert np.array_equal(helped.boxes, alone.boxes) and np.array_equal(helped.binary, alone.binary)
        assert np.array_equal(helped.labels, alone.labels)


def test_a_forked_process_detects_without_its_parents_helper_thread():
    page = np.full((300, 400), 235, np.uint8)
    cv2.putText(page, "7", (150, 220), cv2.FONT_HERSHEY_SIMPLEX, 5, 30, 12, cv2.LINE_AA)
    cfg = load_config().detect
    previous = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        assert len(find_digit_boxes(page, cfg).boxes) == 1  # the helper thread now exists
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit code
            os._exit(0 if len(find_digit_boxes(page, cfg).boxes) == 1 else 1)
        for _ in range(200):  # a child waiting on a thread it does not have would never end
            done, status = os.waitpid(child, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            pytest.fail("the forked child hung")
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        cv2.setNumThreads(previous)


def test_a_long_mark_beside_a_digit_is_not_clutter(recognizer):
    # Clutter is speckle (wood grain, fabric) around a digit. A long wavy mark taller than any digit, the
    # way a sheet's edge or a desk's rim thresholds, has its centre beside the 4 but is no speckle.
    page = np.full((480, 640), 235, np.uint8)
    cv2.putText(page, "4", (260, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, 30, 10, cv2.LINE_AA)
    x, y, w, h = cv2.boundingRect((page < 128).astype(np.uint8))
    rows = np.arange(5, 476)
    wave = np.stack([x + w + 30 + 6 * np.sin(rows / 9.0), rows], axis=1)
    cv2.polylines(page, [wave.astype(np.int32)], False, 40, 8, cv2.LINE_AA)
    found = find_digit_boxes(page, recognizer.config.detect)
    assert len(found.boxes) == 1 and iou_matrix(found.boxes, np.array([[x, y, w, h]]))[0, 0] > 0.8


def test_a_digit_just_inside_a_hard_shadow_is_found(recognizer):
    # A lamp's shadow with a sharp, slanted edge a few pixels left of a 4: the shaded band along the edge
    # is darker than its mean neighbourhood but not than the paper on its own side. Measured: found now;
    # without the lightest-paper test the band and the 4 were one frame-tall component and nothing was.
    page = np.full((480, 640), 225, np.uint8)
    cv2.putText(page, "4", (260, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, 30, 10, cv2.LINE_AA)
    x, y, w, h = cv2.boundingRect((page < 128).astype(np.uint8))
    rows, cols = np.indices(page.shape)
    shade = cols > x - 8 + 0.5 * (rows - (y + h // 2))
    page[shade] = (page[shade] * 0.55).astype(np.uint8)
    found = find_digit_boxes(page, recognizer.config.detect)
    assert len(found.boxes) == 1 and iou_matrix(found.boxes, np.array([[x, y, w, h]]))[0, 0] > 0.8


@pytest.mark.parametrize("neighbour", ["a bold 1", "a frame-tall band"])
def test_a_digit_whose_neighbour_darkens_its_side_is_found_but_not_beside_a_band(recognizer, neighbour):
    # A bold 1 written 3 px right of a 4 fills the band where the 4's paper on that side is measured, as a
    # desk's rim would. Measured: without leaving the 1's ink out of that band, only the 1 was found.
    page = np.full((480, 640), 225, np.uint8)
    cv2.putText(page, "4", (260, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, 30, 10, cv2.LINE_AA)
    x, y, w, h = cv2.boundingRect((page < 128).astype(np.uint8))
    top, bottom = (y, y + h) if neighbour == "a bold 1" else (5, 475)
    cv2.rectangle(page, (x + w + 3, top), (x + w + 21, bottom), 30, -1)
    found = find_digit_boxes(page, recognizer.config.detect)
    four = iou_matrix(found.boxes, np.array([[x, y, w, h]]))[:, 0] > 0.8
    # A band that is no digit is what the test of the paper beside a digit is for.
    assert four.sum() == (1 if neighbour == "a bold 1" else 0)


def test_rejection_drops_held_out_distractors(pool, recognizer):
    tally = Tally()
    for seed in range(30):
        scene = make_scene(3000 + seed, pool, "empty", distractors=HELD_OUT_DISTRACTORS)
        tally.add(score_frame(recognizer(scene.image).detections.boxes, None, scene.boxes, scene.digits))
    # Of about five held-out marks a frame (spirals, K, W) most are dropped, not all. Measured 2.03 on these 30
    # frames and 1.73 on 60 (the model before printed text joined its fine-tune: 1.83 and 1.67). Nearly all
    # that pass are spirals read as 0, 6 or 9: a 6 is drawn as one.
    assert tally.false_per_frame <= 2.4


def test_digit_free_frames_stay_nearly_free(pool, recognizer):
    tally = Tally()
    for seed in range(40):
        scene = make_scene(4000 + seed, pool, "empty")
        found = recognizer(scene.image).detections
        tally.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits, scene.lookalikes))
    # Scribbles, crosses, dots, letters, a finger; O, l, S, Z and B may be read as digits and are not counted.
    # Measured 0 on these 40 frames (0.03-0.06 on the benchmark seeds); 0.125 when rejecting only at > 0.2.
    assert tally.false_per_frame <= 0.1, tally.false_per_frame


# auto reads each frame both ways and keeps the reading with more accepted digits: measured 0.945 here,
# as with naming the polarity (light); keeping the reading with more boxes instead measured 0.919.
@pytest.mark.parametrize(("ink", "floor"), [("light", 0.9), ("auto", 0.9)])
def test_light_ink_on_a_dark_board(pool, ink, floor):
    config = load_config(None, [f"detect.ink={ink}"])
    recognizer = load_recognizer(config)
    tally = Tally()
    for seed in range(15):
        scene = make_scene(4000 + seed, pool, "moderate", distractors=())
        board = 255 - scene.image  # chalk on a blackboard
        found = recognizer(board).detections
        tally.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    assert tally.f1 >= floor


def test_recognize_api_on_array_path_and_gray(pool, tmp_path):
    scene = make_scene(5000, pool, "moderate", distractors=())
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), scene.image)
    from_array = camrec.recognize(scene.image)
    from_path = camrec.recognize(str(path))
    from_gray = camrec.recognize(cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY))
    assert len(from_array) > 0
    assert from_array.digits.tolist() == from_path.digits.tolist() == from_gray.digits.tolist()
    tally = Tally()
    for seed in range(5000, 5010):
        scene = make_scene(seed, pool, "moderate", distractors=())
        found = camrec.recognize(scene.image)
        tally.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    assert tally.f1 >= 0.9


def test_a_phone_held_upright_reads_the_small_digits_it_reads_held_sideways(pool, recognizer):
    """A portrait frame (1080x1920): the digit floor is a share of its shorter side, not of its height, so
    its small digits are not lost under a floor 1.8 times as many pixels tall."""
    from camrec.synth import held_upright

    sideways, upright = Tally(), Tally()
    for seed in range(5200, 5206):
        scene = make_scene(seed, pool, "hard", "small")
        portrait = held_upright(scene)
        assert portrait.image.shape[:2] == (1920, 1080)
        for tally, frame in ((sideways, scene), (upright, portrait)):
            found = recognizer(frame.image).detections
            tally.add(score_frame(found.boxes, found.digits, frame.boxes, frame.digits))
    # Measured here 0.98 sideways and 0.98 upright (0.97-0.98 in benchmarks/accuracy.py, portrait:small).
    # With the floor a share of the height, 58 px against these digits' 34-51 px, upright read 0.0 (0.02-0.11).
    assert sideways.f1 >= 0.9 and upright.f1 >= 0.9, (sideways.f1, upright.f1)


def test_a_scanned_worksheet_of_small_digits_is_read_as_a_still(pool):
    """A4 at 300 dpi, digits 2-3 % of the page's height: many under a camera frame's floor, found at finer
    levels."""
    from camrec.config import for_stills
    from camrec.synth import make_worksheet

    scene = make_worksheet(7, pool, pencil=True)
    found = camrec.recognize(scene.image)
    # Measured 0.98-0.99 (benchmarks/accuracy.py, pen and pencil worksheets).
    assert score_frame(found.boxes, found.digits, scene.boxes, scene.digits).f1 >= 0.95
    assert len(scene.boxes) > 150
    one_level = load_config(None, ["detect.still_levels=1"])
    # One level misses those under the floor, 3 % of the page's width (74 px): measured 132 read of 196.
    assert len(load_recognizer(for_stills(one_level))(scene.image).detections) < 0.75 * len(scene.boxes)


def test_a_worksheet_filled_with_hundreds_of_digits_is_read_whole(pool):
    """A page may hold more digits than a video frame classifies (`detect.max_boxes`, 256): a still image
    has its own, far higher limit (`detect.still_max_boxes`)."""
    from camrec.config import for_stills
    from camrec.synth import make_worksheet

    scene = make_worksheet(12, pool, dense=True)
    assert len(scene.boxes) > 500
    found = camrec.recognize(scene.image)
    # Measured 0.991 on this page (0.98-0.99 on others, benchmarks/accuracy.py, stills:dense_worksheet).
    assert score_frame(found.boxes, found.digits, scene.boxes, scene.digits).f1 >= 0.95
    # With a still image's limit at the video one's, its three levels together read 308 of its 510 digits.
    capped = load_recognizer(for_stills(load_config(None, ["detect.still_max_boxes=256"])))(scene.image).detections
    assert len(capped) < 0.75 * len(scene.boxes)


def test_a_finer_level_adds_digits_beside_the_coarser_ones_not_inside_them():
    from camrec.pipeline import join_levels

    coarse = reading([[100, 100, 300, 400]], [7], 0)  # a big 7
    # A piece of the big 7's stroke (all inside it), a small digit beside it, one half overlapping it
    finer = reading([[150, 150, 40, 60], [500, 120, 40, 60], [380, 300, 40, 60]], [7, 7, 7], 1)
    joined = join_levels([coarse, finer])
    counted = sorted(joined.detections.boxes.tolist())  # in reading order; here only which ones count
    assert counted == [[100, 100, 300, 400], [380, 300, 40, 60], [500, 120, 40, 60]]
    assert joined.kept.tolist() == [True, False, True, True] and joined.found is coarse.found
    assert join_levels([coarse]) is coarse and join_levels([]) is None


def test_frames_no_wider_than_the_work_width_are_read_at_one_level(pool):
    from camrec.detect import ink_readings

    # The levels alone: a frame with few boxes would also be read as a close-up (level -1).
    cfg = load_config(None, ["detect.levels=3", "detect.ink=auto", "detect.close_up_when_big=false"]).detect
    readings = ink_readings(to_gray(make_scene(5100, pool, "moderate").image), cfg)
    assert [(found.level, found.light_ink) for found in readings] == [(0, False), (0, True)]
    wide = cv2.resize(make_scene(5100, pool, "moderate").image, (1000, 750))
    readings = ink_readings(to_gray(wide), cfg)
    # 640, then the frame's own 1000 px; never 2560 (past the frame) nor a third level
    assert [(found.level, found.scale) for found in readings] == [(0, 0.64), (0, 0.64), (1, 1.0), (1, 1.0)]


@pytest.mark.parametrize("shape", [(3024, 4032), (3508, 2480), (1081, 1921)])
def test_a_level_averaged_from_the_next_wider_one_is_as_if_from_the_frame(pool, shape):
    """A photo's levels (and its close-up) are averaged from the next wider level where that one is a whole
    number of their pixels across and down: the same sizes as from the frame, and the same greys but for
    rounding. An A4 scan's levels (1811 rows, then 905) are averaged from the frame itself."""
    from camrec.detect import close_up_view, divides, shrunk

    gray = cv2.resize(to_gray(make_scene(5200, pool, "hard").image), shape[::-1], interpolation=cv2.INTER_CUBIC)
    images = shrunk(gray, [640, 1280, 2560])
    averaged_twice = []
    for image, wider, width in zip(images, [*images[1:], gray], [640, 1280, 2560]):
        scale = min(1.0, width / gray.shape[1])
        assert image.shape == (round(gray.shape[0] * scale), round(gray.shape[1] * scale))
        direct = cv2.resize(gray, image.shape[::-1], interpolation=cv2.INTER_AREA) if scale < 1 else gray
        averaged_twice.append(scale < 1 and wider is not gray and divides(wider, image.shape[::-1]))
        assert np.abs(image.astype(int) - direct).max() <= (1 if averaged_twice[-1] else 0)
    assert (
        averaged_twice == {4032: [True, True, False], 2480: [False, False, False], 1921: [True, False, False]}[shape[1]]
    )
    from_level, from_frame = close_up_view(gray, 480, images[0]), close_up_view(gray, 480)
    assert from_level[1:] == from_frame[1:] and from_level[0].shape == from_frame[0].shape
    assert np.abs(from_level[0].astype(int) - from_frame[0]).max() <= 1


@pytest.mark.parametrize(("style", "floor"), [("mnist", 0.85), ("drawn", 0.9), ("cropped", 0.9)])
def test_an_image_of_one_digit_is_read(pool, style, floor):
    """What people feed a digit recogniser first: one digit filling a small image. The frame's own gates
    miss it (too tall; a 7's bar taken for ruling); the close-up reads it."""
    from camrec.config import for_stills
    from camrec.synth import make_digit_image

    scenes = [make_digit_image(seed, pool, style) for seed in range(6000, 6030)]
    tally = Tally()
    for scene in scenes:
        found = camrec.recognize(scene.image)
        tally.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    # Measured on these 30: 0.91 (28x28), 0.97 (drawn), 0.95 (cropped); without the close-up 0.0 / 0.39 / 0.05.
    assert tally.f1 >= floor
    no_close_up = load_recognizer(for_stills(load_config(None, ["detect.still_close_up=false"])))
    without = Tally()
    for scene in scenes:
        found = no_close_up(scene.image).detections
        without.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    assert without.f1 < tally.f1 - 0.3


def test_a_28x28_digit_whose_stroke_runs_to_the_images_edge_is_read(pool):
    """MNIST centres each digit's mass, which takes a 9's or 7's foot down to the last row (a 4's arm to the
    last column): in a digit's own image that is no digit cut by the frame. These four of 600 MNIST-like
    images (seeds 49, 294, 371, 429) were dropped as touching the edge; in a camera-sized frame such a box
    still is."""
    from camrec.detect import inside_frame
    from camrec.synth import make_digit_image

    for seed in (49, 294, 371, 429):
        scene = make_digit_image(seed, pool, "mnist")
        x, y, w, h = scene.boxes[0]
        assert x + w == 28 or y + h == 28, seed  # the ink reaches the image's edge
        found = camrec.recognize(scene.image)
        assert score_frame(found.boxes, found.digits, scene.boxes, scene.digits).hits == 1, seed
    # The same box at the bottom of a 640x480 frame's close-up touches its edge.
    frame_bottom = np.array([[300, 300, 60, 20]])  # canvas pixels: the frame spans 160 to 320 down
    assert not inside_frame(frame_bottom, (480, 640), 1 / 3, (480, 640), (213, 160)).any()


def test_a_28x28_digit_in_pieces_is_read_whole_without_the_faint_speck_beside_it(pool):
    """A digit's own image holds one digit: its clear ink is one group however it came apart (seed 24, a 5
    whose bar stands apart; 110, a 1; 571, a 4 in two strokes, once read as a 1), but a faint grey speck
    beside a 1 (566) is no part of it: the 1's box would take it in and miss the truth's. Grouping is what
    is checked, so nothing is dropped and only boxes are scored: the model trained with printed text scores
    110's thin 1 at 6/256 not-a-digit, over the 5/256 that images keep, and reads 571's 4 at 0.59, under
    `min_confidence`; the model trained with flagged 1s reads it as a 1 at 0.50."""
    from camrec.config import for_stills
    from camrec.synth import make_digit_image

    keep_all = ["classify.still_max_not_a_digit=1", "classify.min_confidence=0"]
    recognizer = load_recognizer(for_stills(load_config(None, keep_all)))
    for seed in (24, 110, 571, 566):
        scene = make_digit_image(seed, pool, "mnist")
        found = recognizer(scene.image).detections
        assert len(found) == 1, seed
        assert score_frame(found.boxes, None, scene.boxes, scene.digits).hits == 1, seed


def test_a_white_digit_on_black_is_not_read_as_the_black_inside_its_loop(pool):
    """Read for dark ink, the black inside a white 6's loop is a dark blob on light, which reads as a 1 as
    surely as the 6 reads as a 6: one digit each way. The light reading wins the tie, as the image looks
    light on dark. These six of 600 white-on-black MNIST images read that blob before (the other 594 read
    the same either way)."""
    from camrec.synth import make_digit_image

    for seed in (181, 285, 372, 428, 447, 457):
        scene = make_digit_image(seed, pool, "mnist_light")
        found = camrec.recognize(scene.image)
        assert score_frame(found.boxes, found.digits, scene.boxes, scene.digits).hits == 1, seed


def test_a_digit_held_close_to_the_camera_is_read_live_and_in_a_video(pool):
    from camrec.config import for_live
    from camrec.synth import make_close_up

    readers = {
        "live": load_recognizer(for_live(load_config())),
        # camrec video reads the close-up only for a frame that shows a big box, or few boxes.
        "video": load_recognizer(load_config()),
        "video, never the close-up": load_recognizer(load_config(None, ["detect.close_up_when_big=false"])),
    }
    tallies = {name: Tally() for name in readers}
    for seed in range(6100, 6130):
        scene = make_close_up(seed, pool)
        for name, reader in readers.items():
            found = reader(scene.image).detections
            tallies[name].add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    # Measured on these 30 frames of bold MNIST digits: 0.93, 0.93 and 0.13 (video 0.66 when only a big box
    # called for the close-up: a digit held close is mostly read in a few smaller pieces).
    assert tallies["live"].f1 >= 0.88
    assert tallies["video"].f1 >= 0.88 and tallies["video, never the close-up"].f1 <= 0.25


@pytest.mark.parametrize("width", [30, 90])
def test_the_close_up_reads_no_digit_in_a_soft_shadow(width, monkeypatch):
    """The soft shadow of a pen lying across the sheet, ending inside the frame: shrunk to a third for the
    close-up, its band is as narrow as a stroke. Measured: when the close-up asked ink to stand out no more
    than the frame's reading does (CLOSE_UP_CONTRAST 1), the band was a candidate, and the shipped model read
    it as a 1. Whether a model rejects such a band is the model's; that it is no candidate is the constant's."""
    from camrec import detect
    from camrec.config import for_live

    paper = np.full((480, 640), 225, np.float32) + np.random.default_rng(0).normal(0, 2, (480, 640))
    band = np.zeros((480, 640), np.float32)
    cv2.fillPoly(band, [np.array([[200, 400], [200 + width, 400], [260 + width, 120], [260, 120]], np.int32)], 1.0)
    frame = np.clip(paper * (1 - 0.4 * cv2.GaussianBlur(band, (0, 0), 25)), 0, 255).astype(np.uint8)
    config = for_live(load_config())
    webcam = load_recognizer(config)
    assert len(webcam(frame).detections) == 0
    assert sum(len(found.boxes) for found in detect.ink_readings(frame, config.detect)) == 0
    monkeypatch.setattr(detect, "CLOSE_UP_CONTRAST", 1.0)
    close_up = [found for found in detect.ink_readings(frame, config.detect) if found.level == -1]
    assert [len(found.boxes) for found in close_up] == [1]
    assert webcam(frame).detections.digits.tolist() == [1]  # with the shipped model


def test_the_close_up_does_not_join_digits_and_a_soft_shadow_into_one(pool, recognizer, monkeypatch):
    """A clip frame of three digits, a soft shadow under the last two: few boxes, so camrec video reads the
    close-up too. Measured: with the close-up thresholded as the frame is (CLOSE_UP_CONTRAST 1), the 6, the
    7 and the shadow were one tall 3, which took the place of the frame's 6 and 7. The model trained with
    printed text rejects that box as not-a-digit too, so the close-up's boxes are what is checked."""
    from camrec import detect
    from camrec.detections import inside_share
    from camrec.pipeline import to_gray
    from camrec.synth import clip_scenes

    *_, scene = clip_scenes(7026, pool, 28)
    found = recognizer(scene.image).detections
    assert score_frame(found.boxes, found.digits, scene.boxes, scene.digits).f1 == 1.0

    def close_up_boxes_holding_the_6_and_the_7() -> int:
        readings = detect.ink_readings(to_gray(scene.image), recognizer.config.detect)
        boxes = np.concatenate([found.boxes for found in readings if found.level == -1] or [np.zeros((0, 4))])
        return int(((inside_share(scene.boxes[1:], boxes) > 0.9).sum(axis=0) == 2).sum())

    assert close_up_boxes_holding_the_6_and_the_7() == 0
    monkeypatch.setattr(detect, "CLOSE_UP_CONTRAST", 1.0)
    assert close_up_boxes_holding_the_6_and_the_7() == 1


@pytest.mark.parametrize(("seed", "top", "bottom"), [(3, 8, 0), (24, 3, 3)])
def test_the_close_up_does_not_join_a_digit_drawn_above_another(seed, top, bottom):
    """Two digits drawn with the mouse one above the other, their ink a few pixels apart: shrunk for the
    close-up, they join into one tall box. Measured on 60 such pairs (this jitter, seeds 0-59): 57 read
    right when that box's digit took the place of the two, 59 now; these two were read as one 8 and one 3."""
    from camrec.config import for_live
    from tests.strokes import drawn_canvas

    rng = np.random.default_rng(seed)
    assert [int(d) for d in rng.integers(0, 10, 2)] == [top, bottom]
    height, gap = int(rng.integers(90, 111)), int(rng.integers(22, 32))
    canvas = drawn_canvas([(top, 300, 18, height), (bottom, 300, 18 + height + gap, height)], rng, 2.0)
    found = load_recognizer(for_live(load_config()))(canvas.image).detections
    assert found.digits.tolist() == [top, bottom]


def test_the_close_up_replaces_the_pieces_inside_its_digit_and_yields_to_a_twin():
    from camrec.pipeline import join_levels

    # The frame read the stem of a big 7 as a 1, a 3 whole (and a piece of it as a 1), and a 5 elsewhere.
    frame = reading(
        [[200, 100, 60, 300], [400, 100, 200, 300], [420, 120, 60, 100], [700, 100, 50, 80]], [1, 3, 1, 5], 0
    )
    close_up = reading([[100, 98, 170, 304], [398, 96, 206, 306]], [7, 3], -1)
    joined = join_levels([close_up, frame])  # in any order: the close-up joins last
    assert sorted(zip(joined.detections.digits.tolist(), joined.detections.boxes.tolist())) == [
        (3, [400, 100, 200, 300]),  # the frame's own box for the 3 both read
        (5, [700, 100, 50, 80]),
        (7, [100, 98, 170, 304]),
    ]
    assert joined.found is frame.found  # the debug view shows the frame's mask
    assert joined.kept.tolist() == [False, True, False, True, True, False]


def test_a_close_up_box_at_the_frame_edge_is_a_cut_digit():
    """In a close-up the frame's edges lie inside the canvas; a dark desk strip along one is not a 1."""
    from camrec.detect import inside_frame

    # A 640x480 frame at a third of its size on a 640-wide canvas: its corner at (213, 160), 213x160.
    boxes = np.array([[215, 165, 30, 150], [240, 170, 40, 60], [213, 200, 40, 60]], np.int64)
    inside = inside_frame(boxes, (480, 640), 1 / 3, (480, 640), (213, 160))
    assert inside.tolist() == [False, True, False]


@pytest.mark.parametrize("shape", [(1, 1), (1, 1000), (2, 2600), (1, 9000), (2000, 3), (3, 3, 3)])
def test_images_a_few_pixels_across_read_as_no_digits(shape):
    assert len(camrec.recognize(np.full(shape, 255, np.uint8))) == 0
    assert len(load_recognizer(load_config())(np.zeros(shape, np.uint8)).detections) == 0


def test_a_close_up_digit_gives_way_to_two_digits_one_above_the_other_but_not_to_an_8s_loops():
    from camrec.pipeline import join_levels

    # Left, a tall box (3.1 times as tall as wide) over a 3 and an 8; right, an 8 (1.7 times) whose loops the
    # frame read as two 0s; in the middle a tall 1 read as two 1s side by side.
    frame = reading(
        [[100, 10, 78, 126], [100, 147, 79, 123], [400, 10, 80, 66], [400, 80, 84, 66], [250, 10, 12, 150],
         [263, 12, 12, 148]],
        [3, 8, 0, 0, 1, 1],
        0,
    )  # fmt: skip
    close_up = reading([[98, 8, 84, 263], [398, 8, 88, 140], [248, 8, 30, 156]], [8, 8, 1], -1)
    joined = join_levels([frame, close_up])
    assert sorted(zip(joined.detections.digits.tolist(), joined.detections.boxes.tolist())) == [
        (1, [248, 8, 30, 156]),
        (3, [100, 10, 78, 126]),
        (8, [100, 147, 79, 123]),
        (8, [398, 8, 88, 140]),
    ]


def reading(boxes: list, digits: list, level: int):
    """A classified reading of one detection level (-1: the close-up), each digit read with certainty."""
    from camrec.detect import Found
    from camrec.detections import Detections
    from camrec.pipeline import FrameResult

    boxes = np.array(boxes, np.int32).reshape(-1, 4)
    count = len(boxes)
    probabilities = np.eye(10, dtype=np.float32)[np.array(digits, np.int64)]
    found = Found(boxes, np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint16), [], 1.0, False, level)
    detections = Detections(boxes, np.array(digits, np.int64), np.ones(count, np.float32), probabilities)
    crops = np.zeros((count, 28, 28, 1), np.float32)
    return FrameResult(detections, found, crops, np.ones(count, bool), probabilities)


def test_cuts_go_where_the_least_ink_runs_and_the_best_all_digit_cutting_wins():
    from camrec.segment import best_cutting, cut_positions, smoothed, spans_of

    ink = np.zeros((40, 100), np.float32)
    ink[5:35, 10:45] = 1.0
    ink[5:35, 55:90] = 1.0
    ink[18:20, 45:55] = 1.0  # a thin stroke joins the two
    cuts = cut_positions(smoothed(ink.sum(axis=0)), 40)
    assert any(45 <= c < 55 for c in cuts)
    spans = spans_of(100, 40, cuts)
    assert (0, 100) not in spans  # the whole box is no cutting
    # Scores per span: log-confidences, -inf where the span is no digit.
    scores = np.array([-0.1 if b - a > 30 else -np.inf for a, b in spans])
    chosen = [spans[i] for i in best_cutting(spans, scores, 100)]
    assert chosen[0][0] == 0 and chosen[-1][1] == 100 and len(chosen) >= 2
    assert all(b == a2 for (_, b), (a2, _) in itertools.pairwise(chosen))  # they tile the box
    assert best_cutting(spans, np.full(len(spans), -np.inf), 100) == []  # no all-digit cutting: unread


def test_a_leaning_cut_separates_digits_whose_join_leans():
    from camrec.segment import places_across

    assert (places_across(4, 6, 0.0) == np.arange(6)).all()  # straight: a pixel's place is its column
    places = places_across(41, 60, 0.3)
    # A stroke leaning like handwriting, 3 px right per 10 up, lies at one place all the way up ...
    stroke = [places[row, 30 + round(0.3 * (20 - row))] for row in range(41)]
    assert max(stroke) - min(stroke) <= 1
    # ... so two such strokes side by side, overlapping in their columns, lie at places apart.
    other = [places[row, 38 + round(0.3 * (20 - row))] for row in range(41)]
    assert min(other) > max(stroke)
    for height, width in [(1, 2), (3, 5), (41, 60)]:  # every place has pixels, even in a box 1 px tall
        places = places_across(height, width, 0.3)
        assert (np.unique(places) == np.arange(places.max() + 1)).all()


def two_touching_rings(right_height: int = 40) -> tuple[np.ndarray, Found]:
    """A frame whose one candidate is two rings of ink (two 0s, 20 px wide) joined by a thin stroke, 44 px
    wide and 40 tall, the right one `right_height` tall; and its detection (at full resolution)."""
    gray = np.full((70, 80), 230, np.uint8)
    for left, bottom in ((10, 55), (34, 15 + right_height)):
        gray[15:bottom, left : left + 20] = 40
        gray[19 : bottom - 4, left + 4 : left + 16] = 230  # 4 px strokes
    gray[20:22, 30:34] = 40  # the join
    labels = (gray < 128).astype(np.uint16)
    box = np.array([[10, 15, 44, 40]], np.int32)
    return gray, Found(box, labels.astype(np.uint8) * 255, labels, [np.array([1])], 1.0, False)


def test_a_candidate_about_as_wide_as_tall_in_doubt_is_cut_only_into_two_sure_digits():
    from camrec.segment import SURE, Cutter

    gray, found = two_touching_rings()
    not_kept = np.zeros(1, bool)
    cutter = Cutter(gray, found, not_kept, np.array([0.6], np.float32))
    spans = cutter.spans[0]
    assert spans and all(a == 0 or b == 44 for a, b in spans)  # in two: no middle segments

    def read_surely(confidence: float) -> np.ndarray:  # each segment's best digit's probability
        return np.full(len(spans), confidence, np.float32)

    boxes, chosen = cutter.digits_of(read_surely(SURE + 0.005), np.ones(len(spans), bool))
    # The two digits' boxes are their ink's, side by side inside the candidate's box.
    assert len(chosen) == 2 and boxes[0, 0] == 10 and boxes[0, 0] + boxes[0, 2] <= boxes[1, 0]
    assert boxes[1, 0] + boxes[1, 2] == 54
    # Confident (over min_confidence) but not sure: a wide single digit must not come apart.
    assert cutter.digits_of(read_surely(0.95), np.ones(len(spans), bool))[1] == []
    # Left whole: a candidate that read as a digit, one that surely reads as none (a printed X), and one
    # narrower than DOUBT_FROM.
    assert len(Cutter(gray, found, np.ones(1, bool), np.array([0.6], np.float32)).crops) == 0
    assert len(Cutter(gray, found, not_kept, np.array([0.0], np.float32)).crops) == 0
    narrow = dataclasses.replace(found, boxes=np.array([[10, 5, 44, 60]], np.int32))
    assert len(Cutter(gray, narrow, not_kept, np.array([0.6], np.float32)).crops) == 0


def test_a_candidate_read_as_one_digit_but_wide_enough_for_two_gives_way_to_two_sure_digits():
    from camrec.segment import PAIR_FROM, PAIR_SURE, Cutter

    gray, found = two_touching_rings()
    assert PAIR_FROM * 40 <= 44  # the candidate is as wide as two digits can be
    pairs = Cutter.pairs(found, cut_inks(gray, found, found.boxes, found.members))  # rides in the frame's batch
    ((left, cut), (cut_again, right)), *others = pairs.spans
    assert not others and left == 0 and right == 44 and 20 <= cut == cut_again < 24  # one cut, through the join
    sure, confident, read_as_one = np.full(2, PAIR_SURE, np.float32), np.ones(2, bool), np.ones(1, bool)
    boxes, chosen = pairs.digits_of(sure, confident, read_as_one)
    assert chosen == [0, 1] and pairs.replaced == [0]
    # Each ring's own ink, with its side of the join: the two boxes side by side, as tall as the candidate.
    assert boxes[0, 0] == 10 and boxes[0, 0] + boxes[0, 2] <= boxes[1, 0] and boxes[1, 0] + boxes[1, 2] == 54
    assert (boxes[:, 1] == 15).all() and (boxes[:, 3] == 40).all()
    # Not when the candidate read as no digit and `Cutter` cuts it after the batch (in doubt, or wide), nor
    # into digits less sure; but when it read surely as no digit (two digits are no digit) and stays uncut.
    not_kept = np.zeros(1, bool)
    assert Cutter.replaceable(found, not_kept, np.zeros(1, np.float32)).all()
    assert not Cutter.replaceable(found, not_kept, np.array([0.6], np.float32)).any()
    wide = dataclasses.replace(found, boxes=np.array([[10, 15, 56, 40]], np.int32))
    assert not Cutter.replaceable(wide, not_kept, np.zeros(1, np.float32)).any()
    assert pairs.digits_of(sure, confident, not_kept)[1] == [] and pairs.replaced == []
    assert pairs.digits_of(sure, confident, np.ones(1, bool))[1] == [0, 1]
    assert pairs.digits_of(sure - 0.01, confident, read_as_one)[1] == [] and pairs.replaced == []
    # A piece much shorter than the candidate is a part of one digit (a wide 7's bar), not a digit.
    gray, found = two_touching_rings(right_height=15)
    pairs = Cutter.pairs(found, cut_inks(gray, found, found.boxes, found.members))
    assert len(pairs.crops) == 2 and pairs.digits_of(sure, confident, read_as_one)[1] == []


def test_numbers_of_touching_digits_are_cut_into_digits(pool, recognizer, monkeypatch):
    from camrec import pipeline, segment
    from camrec.segment import PAIR_FROM, SLANT
    from camrec.synth import make_numbers

    config = recognizer.config
    whole = load_recognizer(dataclasses.replace(config, detect=dataclasses.replace(config.detect, touching=False)))
    readers = {"cut": recognizer, "straight cuts only": recognizer, "pairs read as one": recognizer, "whole": whole}
    tallies = {name: Tally() for name in readers}
    for seed in range(7000, 7012):
        scene = make_numbers(seed, pool)
        for name, reader in readers.items():
            # A second try that leans no more than the first reads nothing new.
            monkeypatch.setattr(pipeline, "SLANT", 0.0 if name == "straight cuts only" else SLANT)
            monkeypatch.setattr(segment, "PAIR_FROM", np.inf if name == "pairs read as one" else PAIR_FROM)
            found = reader(scene.image).detections
            tallies[name].add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
            # The cut digits join the others in reading order.
            assert (reading_order(found.boxes.astype(np.float64)) == np.arange(len(found))).all()
    # Measured: 0.886 cut (191 of 231 digits), 0.871 with straight cuts only (185), 0.859 with pairs read as
    # one digit (183), 0.559 read whole (benchmarks/accuracy.py: numbers:touching).
    assert tallies["cut"].f1 >= 0.85 and tallies["whole"].f1 <= 0.65
    assert tallies["cut"].hits > tallies["pairs read as one"].hits
    assert tallies["cut"].hits > tallies["straight cuts only"].hits


FRAME_OF_ARRAYS = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from camrec.allocator import keep_freed_memory
    assert keep_freed_memory()
def frame():  # a dozen frame-sized arrays, made and freed, as each frame does
    return sum(int(a[0]) for a in [np.ones(640 * 480, np.uint8) for _ in range(12)])
frame()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    frame()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_frames_reuse_freed_memory_instead_of_faulting_it_in_again():
    def page_faults(mode: str) -> int:
        run = subprocess.run([sys.executable, "-c", FRAME_OF_ARRAYS, mode], capture_output=True, text=True, check=True)
        return int(run.stdout)

    default, kept = page_faults("default"), page_faults("keep")
    assert default > 10_000  # glibc's default: the memory goes back to the kernel and faults in again
    assert kept < default / 20


def test_frames_are_read_without_ipp_and_the_callers_opencv_is_left_as_it_was(recognizer):
    # Printed digits 15 px tall: their ink is enlarged to MNIST's 20 px, where IPP's resizing and OpenCV's
    # own round differently (measured: a crop's pixels differ by 5e-7 at most).
    page = np.full((480, 640), 225, np.uint8)
    for i, digit in enumerate("3452"):
        cv2.putText(page, digit, (150 + 40 * i, 240), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 30, 2, cv2.LINE_AA)
    with_ipp = process_frame(page, recognizer.config, recognizer.classifier)
    assert cv2.ipp.useIPP()
    without = recognizer(page)
    assert cv2.ipp.useIPP()  # switched off only while the frame was read
    assert without.detections.digits.tolist() == with_ipp.detections.digits.tolist() == [3, 4, 5, 2]
    assert np.array_equal(without.detections.boxes, with_ipp.detections.boxes)
    assert np.abs(without.crops - with_ipp.crops).max() < 1e-5


def test_no_mnist_digit_is_taken_for_a_digit_with_a_mark(pool):
    """`without_ring` finds no ring in MNIST test digits, and `without_underline` a line under a few 2s
    only (whose base runs past both sides; such a 2 reads as itself, and only crops that read as none are
    tried): measured on the first 1,000, 0 and 7 (six 2s and a 1)."""
    images, labels = pool
    lines = []
    for image, label in zip(images[:300], labels[:300]):
        ink = cv2.resize(image, (84, 84)).astype(np.float32)
        assert without_ring(ink) is None, label
        lines += [int(label)] if without_underline(ink) is not None else []
    assert len(lines) <= 3 and set(lines) <= {1, 2}, lines
