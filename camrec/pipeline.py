"""The frame pipeline: detect, normalise, classify in one batch, reject what is not a digit.

`process_frame` is pure computation: it never draws and never writes; the runner, the annotators and
the sinks do that with what it returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import cv2
import numpy as np

from camrec.allocator import keep_freed_memory
from camrec.classifier import Classifier, resolve_model_path
from camrec.config import Config
from camrec.cores import without_ipp
from camrec.detect import Found, ink_readings, looks_light_on_dark, reading_order
from camrec.detections import Detections, inside_share, iou_matrix
from camrec.marks import without_ring, without_underline
from camrec.normalize import cut_inks, fit_crops
from camrec.segment import SLANT, Cutter
from camrec.upright import boxes_back, turn_of, turned, turning

# A close-up digit that joined two digits drawn one above the other (`joins_digits`): a piece of one digit
# is narrower or shorter than JOINED_SHARE of it (the stem of a 7, a broken 4's stroke), and few digits are
# JOINED_TALL times as tall as wide but a 1 (too narrow to hold two digits).
JOINED_SHARE = 0.35
JOINED_TALL = 2.0


@dataclass(frozen=True)
class FrameResult:
    """Detections plus what the classifier saw, for debug views.

    crops: (M, 28, 28, 1) float32 for all M candidates; kept: (M,) bool, which became detections. A frame
    read in a worker process (`camrec.workers`) comes back with its detections only, the rest None.
    """

    detections: Detections
    found: Found | None = None
    crops: np.ndarray | None = None
    kept: np.ndarray | None = None
    candidate_probabilities: np.ndarray | None = None  # (M, 10) float32, for every candidate, kept or not

    @property
    def candidate_confidences(self) -> np.ndarray:
        """(M,) float32: each candidate's best digit's probability, kept or not."""
        return self.candidate_probabilities.max(axis=1, initial=0.0)


def to_gray(image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """BGR or BGRA or gray uint8 to (H, W) uint8 gray; into `out` when given (a worker's shared memory)."""
    if image.ndim == 2:
        if out is None:
            return image
        np.copyto(out, image)
        return out
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code, dst=out)


def process_frame(image: np.ndarray, config: Config, classifier: Classifier) -> FrameResult:
    """All digits of one frame.

    Args:
        image: (H, W, 3) BGR or (H, W) gray uint8.
    Returns:
        FrameResult whose `detections` hold boxes in frame pixels, digits, confidences and (N, 10)
        probabilities, in reading order, after rejection. With `ink: auto` the frame is read both ways and
        the reading with more accepted digits wins: a light desk around a dark board finds plenty of
        boxes for dark ink, but few of them pass as digits. With `detect.levels` > 1 a wide frame is
        also read at finer levels for smaller digits, and with `detect.close_up` as a close-up for
        bigger ones; each ink's readings join into one (`join_levels`). With `detect.touching`, boxes of
        touching digits are cut into digits (`read_touching`), and a candidate that read as one digit gives way
        to two when it is two touching ones (`Cutter.pairs`). With `detect.upright`, a reading whose rows of
        digits lean (a sheet held turned) is also read turned upright, its candidates one by one
        (`upright_if_better`), then, if some are still unread, the whole frame (`read_upright`). With
        `detect.light_on_dark`, a frame that looks like light ink on a dark background is read both ways, as
        with `ink: auto`, and keeps its light reading on a tie.
    """
    gray = to_gray(image)
    result = read_gray(gray, config, classifier)
    if config.detect.upright and not result.kept.all() and (turn := turn_of(result.found.boxes)):
        result = read_upright(gray, result, turn, config, classifier)
    return result


def read_upright(
    gray: np.ndarray, result: FrameResult, turn: float, config: Config, classifier: Classifier
) -> FrameResult:
    """The frame read turned upright when that finds more digits than `result` did; its boxes then in the
    frame's own pixels, in the upright frame's reading order (the sheet's). Turning the candidates one by
    one (`upright_if_better`) reads digits that stand apart; two digits that touch on a turned sheet make
    one box that is not too wide for a digit, and only the frame turned upright shows it as a number to cut.
    The debug parts (`found`, `crops`) are then the upright frame's."""
    upright_gray = turned(gray, turn, cv2.BORDER_REPLICATE)
    upright = read_gray(upright_gray, replace(config, detect=replace(config.detect, upright=False)), classifier)
    if len(upright.detections) <= len(result.detections):
        return result
    boxes = boxes_back(upright.detections.boxes, upright.found, turning(gray.shape, turn)[0], gray.shape)
    return replace(upright, detections=replace(upright.detections, boxes=boxes))


def read_gray(gray: np.ndarray, config: Config, classifier: Classifier) -> FrameResult:
    """`process_frame` for a gray frame as it stands, never turned as a whole."""
    detect = config.detect
    looks_light = detect.ink == "dark" and detect.light_on_dark and looks_light_on_dark(gray)
    if looks_light:
        # MNIST's own digits are white on black, and so are the PNG sets people make from them.
        detect = replace(detect, ink="auto")
    readings = ink_readings(gray, detect)
    inks = [cut_inks(gray, found, found.boxes, found.members) for found in readings]
    crops = [fit_crops(ink, detect.thin_pens) for ink in inks]
    # Candidates wide enough to be two touching digits read as one: their halves ride in the same batch.
    pairs = [Cutter.pairs(found, ink) for found, ink in zip(readings, inks)] if detect.touching else []
    # A reading whose rows of digits lean (a sheet held turned): its candidates turned upright ride too.
    turns = [turn_of(found.boxes) if detect.upright else 0.0 for found in readings]
    uprights = [fit_crops([turned(i, turn) for i in ink], detect.thin_pens) for ink, turn in zip(inks, turns) if turn]
    batches = crops + [cutter.crops for cutter in pairs] + uprights
    # One classifier call for the whole frame, even when it is read both ways.
    digit_probabilities, not_a_digit = classifier.predict(np.concatenate(batches))
    splits = np.cumsum([len(batch) for batch in batches])[:-1]  # where one batch ends and the next begins
    per_batch = list(zip(np.split(digit_probabilities, splits), np.split(not_a_digit, splits)))
    per_reading = per_batch[: len(readings)]
    if uprights:
        crops, per_reading = upright_if_better(crops, per_reading, turns, uprights, per_batch[-len(uprights) :], config)
    results = [
        reject(found, c, probabilities, scores, config)
        for found, c, (probabilities, scores) in zip(readings, crops, per_reading)
    ]
    if detect.marks:
        results = read_marked(results, inks, classifier, config)
    results = read_touching(gray, results, classifier, config)
    if pairs:
        per_pairs = per_batch[len(readings) : len(readings) + len(pairs)]
        results = [with_segments(r, cutter, p, s, config) for r, cutter, (p, s) in zip(results, pairs, per_pairs)]
    per_ink = [join_levels([r for r in results if r.found.light_ink == ink]) for ink in (False, True)]
    per_ink = [result for result in per_ink if result is not None]
    # More digits win. On a tie, the ink the frame looks like: read for dark ink, the black inside a white 0
    # or 6 is a dark blob on light, and reads as a 1 or a 7 as surely as the 0 itself.
    best = max(
        per_ink,
        key=lambda result: (
            len(result.detections),
            looks_light and result.found.light_ink,
            float(result.detections.confidences.sum()),
        ),
    )
    if best.found.cells is None:
        return best  # no grid in view: no cells (most frames)
    return replace(best, detections=replace(best.detections, cells=cells_of(best.detections.boxes, best.found)))


def cells_of(boxes: np.ndarray, found: Found) -> np.ndarray:
    """(N,) int64: which printed grid's cell (`Found.cells`, not None) each box's centre lies in; -1 for none."""
    centres = (boxes[:, :2] + boxes[:, 2:] / 2) * found.scale + np.array(found.offset)
    x = np.clip(centres[:, 0].astype(np.int64), 0, found.cells.shape[1] - 1)
    y = np.clip(centres[:, 1].astype(np.int64), 0, found.cells.shape[0] - 1)
    return found.cells[y, x].astype(np.int64) - 1


def upright_if_better(
    crops: list[np.ndarray],
    per_reading: list[tuple[np.ndarray, np.ndarray]],
    turns: list[float],
    uprights: list[np.ndarray],
    per_upright: list[tuple[np.ndarray, np.ndarray]],
    config: Config,
) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """Each reading's crops and their (probabilities, not-a-digit scores), turned upright (`uprights`, one
    per reading with a turn) where more of its candidates then read as digits. Upright digits written on a
    slant, in a staircase, read better as they are."""
    crops, per_reading = list(crops), list(per_reading)
    turned_readings = iter(zip(uprights, per_upright))
    for k, turn in enumerate(turns):
        if not turn:
            continue
        upright_crops, (probabilities, scores) = next(turned_readings)
        as_is = confident_digits(per_reading[k][0].max(axis=1, initial=0.0), per_reading[k][1], config).sum()
        if confident_digits(probabilities.max(axis=1, initial=0.0), scores, config).sum() > as_is:
            crops[k], per_reading[k] = upright_crops, (probabilities, scores)
    return crops, per_reading


def join_levels(results: list[FrameResult]) -> FrameResult | None:
    """One ink's readings as one result.

    The frame's own levels, coarsest first: a finer level's digit counts unless it lies mostly inside a
    digit already counted (a part of a big digit's stroke). Then the close-up's digits: one counts unless
    the frame's levels read the same digit there (IoU >= 0.5; their box is the finer one), and the frame's
    digits that lie mostly inside it give way to it (pieces of it, such as the stem of a 7 whose bar the
    frame's reading took for ruling); but a close-up digit that joined two digits drawn one above the other
    gives way to them (`joins_digits`).
    """
    if not results:
        return None
    if len(results) == 1 and len(results[0].detections) == results[0].kept.sum():
        return results[0]  # in reading order already: no digits were cut out of touching ones
    results = sorted(results, key=lambda r: r.found.level < 0)  # stable: the levels in order, the close-up last
    keep = [np.ones(len(r.detections), bool) for r in results]
    for i, result in enumerate(results):
        boxes = result.detections.boxes
        if result.found.level >= 0:
            earlier = np.concatenate([r.detections.boxes[k] for r, k in zip(results[:i], keep[:i])] or [boxes[:0]])
            keep[i] = ~(inside_share(boxes, earlier) > 0.5).any(axis=1)
            continue
        twins = [twins_of(r.detections, result.detections) & k[:, None] for r, k in zip(results[:i], keep[:i])]
        for twin in twins:
            keep[i] &= ~twin.any(axis=0)
        earlier = Detections.merge([r.detections[k] for r, k in zip(results[:i], keep[:i])])
        joining = joins_digits(result.detections, earlier)
        keep[i] &= ~joining
        for j, twin in enumerate(twins):  # a twin stands for its close-up digit; the other pieces give way
            inside = (inside_share(results[j].detections.boxes, boxes) > 0.5) & ~twin & ~joining
            keep[j] &= ~inside.any(axis=1)
    kept = [r.kept.copy() for r in results]
    for candidates, counted in zip(kept, keep):  # a reading's first detections are its kept candidates
        candidates[np.flatnonzero(candidates)[~counted[: candidates.sum()]]] = False
    joined = Detections.merge([r.detections[k] for r, k in zip(results, keep)])
    order = reading_order(joined.boxes.astype(np.float64))
    return FrameResult(
        detections=joined[order],
        # What the debug view shows: the mask of the frame's own first level, not of the close-up's canvas.
        found=results[0].found,
        crops=np.concatenate([r.crops for r in results]),
        kept=np.concatenate(kept),
        candidate_probabilities=np.concatenate([r.candidate_probabilities for r in results]),
    )


def joins_digits(close_up: Detections, frame: Detections) -> np.ndarray:
    """(M,) bool per close-up digit: whether it joined two digits drawn one above the other. Shrunk for the
    close-up, a digit drawn above another a stroke's width away joins it into one box, which may read as
    an 8 or a 3. Such a box is over JOINED_TALL times as tall as wide, and holds two of the frame's digits,
    one wholly above the other, each at least JOINED_SHARE of its height and of its width. An 8 whose loops the
    frame read as two 0s is seldom that tall for its width."""
    if not len(frame) or not len(close_up):
        return np.zeros(len(close_up), bool)
    _, _, cw, ch = close_up.boxes.astype(np.float64).T
    fw, fh = frame.boxes[:, 2:3], frame.boxes[:, 3:4]
    held = inside_share(frame.boxes, close_up.boxes) > 0.5  # (N, M)
    held &= (fw >= JOINED_SHARE * cw) & (fh >= JOINED_SHARE * ch)
    top, bottom = frame.boxes[:, 1], frame.boxes[:, 1] + frame.boxes[:, 3]
    above = bottom[:, None] <= top[None, :]  # (N, N): a lies wholly above b
    held = held.astype(np.int64)
    pairs = np.einsum("am,bm,ab->m", held, held, above.astype(np.int64))  # held[a] & held[b] & above[a, b]
    return (pairs > 0) & (ch > JOINED_TALL * cw)


def twins_of(frame: Detections, close_up: Detections) -> np.ndarray:
    """(N, M) bool: which of the frame's N digits read the same digit as which of the close-up's M, in
    about the same place (IoU >= 0.5)."""
    return (iou_matrix(frame.boxes, close_up.boxes) >= 0.5) & (frame.digits[:, None] == close_up.digits[None, :])


def reject(
    found: Found, crops: np.ndarray, digit_probabilities: np.ndarray, not_a_digit: np.ndarray, config: Config
) -> FrameResult:
    """Keep the boxes of one reading that the classifier is sure are digits."""
    kept = confident_digits(digit_probabilities.max(axis=1, initial=0.0), not_a_digit, config)
    return kept_reading(found, crops, kept, digit_probabilities)


def kept_reading(found: Found, crops: np.ndarray, kept: np.ndarray, probabilities: np.ndarray) -> FrameResult:
    """A reading whose digits are its candidates `kept` ((M,) bool), in the candidates' order, each with
    its best digit from `probabilities` ((M, 10), every candidate's)."""
    chosen = probabilities[kept].astype(np.float32)
    detections = Detections(
        boxes=found.boxes[kept],
        digits=chosen.argmax(axis=1).astype(np.int64),
        confidences=chosen.max(axis=1),
        probabilities=chosen,
    )
    return FrameResult(detections, found, crops, kept, probabilities)


def read_marked(
    results: list[FrameResult], inks: list[list[np.ndarray]], classifier: Classifier, config: Config
) -> list[FrameResult]:
    """Each reading with its candidates that read as no digit read again without a mark drawn on them that
    touches them (`marks`: a line under them, a ring around them), and those that read as a 0 without a
    ring around a digit inside them (a 0 holds none): in one more classifier call, made only when a frame
    has such a candidate. One that then reads as a digit counts, its box around the digit."""
    tries = []
    for result, ink in zip(results, inks):
        zeros = result.kept & (result.candidate_probabilities.argmax(axis=1) == 0)
        unread = [(i, without_mark(ink[i])) for i in np.flatnonzero(~result.kept).tolist()]
        rings = [(i, without_ring(ink[i])) for i in np.flatnonzero(zeros).tolist()]
        tries.append([(i, cut) for i, cut in unread + rings if cut is not None])
    if not any(tries):
        return results
    crops = fit_crops([ink for attempts in tries for _, (ink, _) in attempts])
    digit_probabilities, not_a_digit = classifier.predict(crops)
    confidences = digit_probabilities.max(axis=1, initial=0.0)
    confident = confident_digits(confidences, not_a_digit, config)
    read, at = [], 0
    for result, attempts in zip(results, tries):
        found, kept = result.found, result.kept.copy()
        boxes, probabilities = found.boxes.copy(), result.candidate_probabilities.copy()
        all_crops = result.crops.copy()
        for j, (i, (_, (x, y, w, h))) in enumerate(attempts, start=at):
            if confident[j]:
                boxes[i] = boxes[i, 0] + x, boxes[i, 1] + y, w, h
                kept[i], probabilities[i], all_crops[i] = True, digit_probabilities[j], crops[j]
        at += len(attempts)
        changed = not (kept == result.kept).all()
        read.append(kept_reading(replace(found, boxes=boxes), all_crops, kept, probabilities) if changed else result)
    return read


def without_mark(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """A candidate's ink without the line under it, or else the ring around it (`marks`); None if neither."""
    return without_underline(ink) or without_ring(ink)


def read_touching(
    gray: np.ndarray, results: list[FrameResult], classifier: Classifier, config: Config
) -> list[FrameResult]:
    """Each reading with the digits cut out of its boxes of touching digits (`segment`): the segments of the
    whole frame in a second classifier call, made only when the frame has such a box; then, for the boxes
    that no straight cutting read, cuts that lean like handwriting (`segment.SLANT`) in a third."""
    if not config.detect.touching:
        return results
    cutters = [Cutter(gray, result.found, result.kept, result.candidate_confidences) for result in results]
    results = with_cut_digits(results, cutters, classifier, config)
    if not any(cutter.unread for cutter in cutters):
        return results
    return with_cut_digits(results, [cutter.leaning(SLANT) for cutter in cutters], classifier, config)


def with_cut_digits(
    results: list[FrameResult], cutters: list[Cutter], classifier: Classifier, config: Config
) -> list[FrameResult]:
    """Each reading with the digits its cutter reads (`with_segments`): all readings' segments in one call."""
    if not any(len(cutter.crops) for cutter in cutters):
        return results
    digit_probabilities, not_a_digit = classifier.predict(np.concatenate([cutter.crops for cutter in cutters]))
    splits = np.cumsum([len(cutter.crops) for cutter in cutters])[:-1]
    per_reading = zip(results, cutters, np.split(digit_probabilities, splits), np.split(not_a_digit, splits))
    return [with_segments(result, cutter, p, s, config) for result, cutter, p, s in per_reading]


def with_segments(
    result: FrameResult, cutter: Cutter, digit_probabilities: np.ndarray, not_a_digit: np.ndarray, config: Config
) -> FrameResult:
    """A reading's digits plus, after them, those cut out of its boxes of touching digits; the digit of a
    candidate that `Cutter.pairs` cut into two gives way to them."""
    if not len(cutter.crops):
        return result
    confidences = digit_probabilities.max(axis=1, initial=0.0)
    replaceable = Cutter.replaceable(result.found, result.kept, result.candidate_confidences)
    boxes, chosen = cutter.digits_of(confidences, confident_digits(confidences, not_a_digit, config), replaceable)
    if not chosen:
        return result
    chosen_probabilities = digit_probabilities[chosen].astype(np.float32)
    cut = Detections(
        boxes=boxes,
        digits=chosen_probabilities.argmax(axis=1).astype(np.int64),
        confidences=chosen_probabilities.max(axis=1),
        probabilities=chosen_probabilities,
    )
    detections, kept = result.detections, result.kept
    if cutter.replaced:  # candidates read as one digit that were two touching ones: the two take its place
        kept = kept.copy()
        kept[cutter.replaced] = False
        staying = np.ones(len(detections), bool)
        staying[: result.kept.sum()] = kept[result.kept]  # a reading's first detections are its candidates'
        detections = detections[staying]
    # After the candidates' own digits, in their order (`join_levels` puts all in reading order).
    return replace(result, detections=Detections.merge([detections, cut]), kept=kept)


def confident_digits(confidences: np.ndarray, not_a_digit: np.ndarray, config: Config) -> np.ndarray:
    """(N,) bool: which crops the classifier is sure are digits, from each one's best digit's probability
    and its not-a-digit score (`classify.min_confidence`, `max_not_a_digit`)."""
    return (confidences >= config.classify.min_confidence) & (not_a_digit <= config.classify.max_not_a_digit)


class Recognizer:
    """The pipeline bound to its config and classifier: `recognizer(image) -> FrameResult`."""

    def __init__(self, config: Config, classifier: Classifier) -> None:
        self.config = config
        self.classifier = classifier

    def __call__(self, image: np.ndarray) -> FrameResult:
        with without_ipp():
            return process_frame(image, self.config, self.classifier)


def load_recognizer(config: Config, model: str | os.PathLike | None = None) -> Recognizer:
    """The pipeline with the model of `--model`, else the config's `model.path`, else the shipped one.
    Raises ModelError. Frames then reuse the memory of the frames before (`allocator`)."""
    path = resolve_model_path(model, config.model.path)
    keep_freed_memory()
    return Recognizer(config, Classifier.load(path, config.model.runtime, config.model.threads))
