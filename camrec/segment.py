"""Touching digits: a box whose ink joins several digits (a number written fast), cut into digits where
the classifier agrees. Such a box is too wide to be one digit, a wide candidate that read as none, or a
candidate about as wide as tall that read as none, but not surely (cut into two sure digits only).

Cuts are tried where the least ink runs down the box (the lowest local minima of its column profile).
Every segment between two cuts that is as wide as a digit can be is classified: all segments of a frame
in one batch, a second one after the frame's own, made only for a frame that has such a box. Of the ways
to cut a box into two or more such segments, the one whose segments are all confident digits, with the
highest sum of log-confidences, wins. A box none of whose cuttings is all digits is cut once more, along
lines that lean like handwriting (`SLANT`), in a third batch; if none of those cuttings is all sure
digits either, it stays unread.

Two touching digits may also read as one, surely, or surely as none (`Cutter.pairs`): a candidate wide
enough for two is cut in two before the frame is classified, its halves riding in the frame's own batch,
and two sure digits as tall as it take its place.
"""

from __future__ import annotations

import copy

import cv2
import numpy as np

from camrec.detect import Found
from camrec.marks import without_underline
from camrec.normalize import INK_FLOOR, MNIST_SIZE, cut_inks, fit_mnist

MAX_CUTS = 8  # cuts tried per box: a number of up to five digits needs four
# A candidate at least this wide for its height that does not read as one digit is cut too (two touching
# digits are often narrower than the detector's widest digit). Tuned on train digits (40 frames of
# numbers, 30 of held-out distractors): from 1.15 numbers read F1 0.853 but spirals, K and W gave 8 more
# false digits; from 1.3, 0.829 and none more; from 1.0, 0.871 and 21 more.
CUT_FROM = 1.3
NARROWEST, WIDEST = 0.15, 1.3  # a digit's width as a share of its height (a 1 is narrow, a 0 or 2 wide)
# Two touching digits are often no wider than tall. Such a candidate that does not read as a digit, but
# not surely as no digit either (its best digit over DOUBT_FLOOR), is cut in two, and only into two digits
# each read at least SURE: a wide single digit must not come apart. A printed X reads as no digit at all
# and is left alone: cutting it cost 2 ms a frame on the throughput clip (a median of 5.5 -> 7.6 ms, with a
# second classifier call). Tuned on train digits (40 frames of numbers; 60
# moderate, 90 ruled, squared and tight, 200 digit-free): numbers F1 0.829 -> 0.868, the others unchanged.
# Tuning seed 1 (`accuracy.py --pool train`): numbers 0.827 -> 0.869, every other group the same except
# the held-out distractors: 4 more false digits in 30 frames (two spirals, each cut into two digits).
DOUBT_FROM = 0.9
DOUBT_FLOOR = 0.01
SURE = 0.99
# MNIST digits lean right, and so does the join of two touching ones: a straight cut through it leaves a
# piece of each digit in its neighbour's segment. A box that no straight cutting reads is cut once more,
# along lines leaning SLANT pixels right per pixel up, into digits that each read at LEANING_SURE. Tuned on
# train digits (the 40 frames of numbers above and 60 more; 60 moderate, 90 ruled, squared and tight, 200
# digit-free, 30 of held-out distractors): numbers 0.877 -> 0.886 and 0.881 -> 0.892, every other group
# the same; leaning 0.2 or 0.4 read them no better (0.884 / 0.892, 0.884 / 0.887). Leaning cuts for every
# box beside the straight ones, the best cutting of either kind winning, read 0.888 / 0.894 but took 67 %
# longer on frames of numbers, against 14 % for this second try (a median of 16.7 -> 19.1 ms); leaning
# both ways found 4 more false digits in the 200 digit-free frames. At SURE (0.99) a zig-zag scribble in
# one of those frames read as a 4 and a 6 (0.992, 0.996); at 0.995 and at 0.998 none did, and the numbers
# read the same (0.886 / 0.892).
SLANT = 0.3
LEANING_SURE = 0.995
# Two touching digits also read as one digit, and surely: in 40 tuning frames of numbers (train digits), 60
# digits read covered two written ones, mostly as a 7, 4 or 9. A candidate at least PAIR_FROM as wide as
# tall (38 of those 60; 39 of 729 single digits in 120 moderate and hard frames) is cut once, at the deepest
# valley of ink in its middle (PAIR_MIDDLE of its width), if the cut crosses at most PAIR_VALLEY of the ink
# of the box's mean column: a join is thinner than the digits it joins. If the candidate reads as a digit,
# two halves that each read at PAIR_SURE and are each PAIR_HEIGHT as tall as it take its place.
# - Tuned on train digits (40 and 60 frames of numbers, 60 moderate, 60 hard): numbers 0.886 -> 0.909 and
#   0.899 -> 0.907, the others the same. `accuracy.py --pool train`, seeds 1 and 3: numbers 0.882 -> 0.901
#   and 0.889 -> 0.906, every other group identical.
# - Without the height gate a wide 7 of the throughput clip came apart in a third of the frames (its bar's
#   left end read as a 7). Without the valley gate, on seeds 1, 3 and 4, 6 single digits came apart (a 2
#   into a 6 and a 2, a 0 into a 6 and a 7); their cuts crossed 0.78-1.56 of the mean column's ink, those
#   of 62 of 71 true pairs at most 0.7.
# - From 1.0: seeds 1 and 3, numbers 0.904 / 0.908, every other group the same, but every frame of the
#   throughput clip has a candidate that wide (half of them one 1.1 wide): 0.2 ms (3 %) more per frame.
#   From 0.9: 0.904 / 0.910, but a hard photo's digit came apart.
# - Before the valley gate: at 0.99, hard lost a digit and read 2 more false ones; two cuts, 0.914 / 0.911
#   against one cut's 0.912 / 0.909, at four crops a candidate rather than two.
# - Two touching digits may also read surely as no digit (a 3 and an 8): no `Cutter` cuts such a candidate
#   narrower than CUT_FROM, so its two sure halves take its place too (`Cutter.replaceable`), at no cost.
#   Train digits, 40 and 60 frames of numbers: 879 -> 885 and 1160 -> 1162 digits read, no more false
#   ones; `accuracy.py --pool train`: numbers 0.906 -> 0.907 on seed 1, 0.911 on seed 3 as before, every
#   other group the same. Halves also for such candidates from 0.9 as wide as tall read no digit more.
# - Pairs from 0.7 or 0.8 as wide as tall, cut anywhere from 10 to 90 % of their width (a 1 written against
#   a 6 or a 3): numbers 0.907 -> 0.911 and 0.911 -> 0.915 on seeds 1 and 3, but a phone photo's 0 read as
#   a 1 and a 7, and a 6 as a 1 and a 0 (photos of hard scenes: one digit less, two false more). Not kept.
PAIR_FROM = 1.1
PAIR_MIDDLE = (0.25, 0.75)
PAIR_SURE = 0.999
PAIR_HEIGHT = 0.7
PAIR_VALLEY = 0.7


def places_across(height: int, width: int, slant: float) -> np.ndarray:
    """(height, width) int: each pixel's place across the cuts, 0 for the leftmost. Straight cuts (slant 0)
    run down columns, and a pixel's place is its column; a leaning cut's line moves `slant` pixels right per
    pixel up, so a pixel's place is where that line through it crosses the box's middle row."""
    rows, columns = np.indices((height, width))
    across = np.round(columns + slant * (rows - height / 2)).astype(np.int64)
    return across - across.min()  # every place from 0 to the last has pixels: each row's are consecutive


def cut_positions(profile: np.ndarray, height: int) -> np.ndarray:
    """Places (int) where a cut may go: local minima of the (`smoothed`) ink profile across the box (ink per
    place), lowest first, at least a narrowest digit's width (for `height`) from the ends and from one
    another."""
    width = len(profile)
    inner = np.arange(1, width - 1)
    minima = inner[(profile[inner] <= profile[inner - 1]) & (profile[inner] <= profile[inner + 1])]
    margin = NARROWEST * height
    minima = minima[(minima >= margin) & (minima <= width - margin)]
    chosen: list[int] = []
    for column in minima[np.argsort(profile[minima], kind="stable")].tolist():
        if all(abs(column - other) >= margin for other in chosen):
            chosen.append(column)
        if len(chosen) == MAX_CUTS:
            break
    return np.array(sorted(chosen), np.int64)


def smoothed(profile: np.ndarray) -> np.ndarray:
    """An ink profile averaged over three neighbouring places: a cut goes where a stroke is thin, not
    where one column happens to hold a pixel less."""
    return np.convolve(profile, np.ones(3) / 3, mode="same")


def spans_of(width: int, height: int, cuts: np.ndarray) -> list[tuple[int, int]]:
    """Every (start, end) between two cut positions (the box's ends included) as wide as a digit can be."""
    edges = [0, *cuts.tolist(), width]
    return [
        (a, b)
        for i, a in enumerate(edges)
        for b in edges[i + 1 :]
        if NARROWEST * height <= b - a <= WIDEST * height and (a, b) != (0, width)
    ]


def best_cutting(spans: list[tuple[int, int]], scores: np.ndarray, width: int) -> list[int]:
    """Indices of spans that tile [0, width) with the highest total score (-inf = not a digit); [] if none."""
    best = {0: (0.0, [])}
    for end in sorted({b for _, b in spans}):
        options = [
            (best[a][0] + scores[i], [*best[a][1], i])
            for i, (a, b) in enumerate(spans)
            if b == end and a in best and np.isfinite(scores[i])
        ]
        if options:
            best[end] = max(options, key=lambda option: option[0])
    return best[width][1] if width in best else []


def unread_to_cut(found: Found, kept: np.ndarray, confidences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) bool each, per candidate that did not read as a digit: which a `Cutter` cuts into digits (wide,
    CUT_FROM), and which only into two sure ones (in doubt, DOUBT_FROM); from each candidate's best digit's
    probability (`confidences`)."""
    aspect = found.boxes[:, 2] / np.maximum(found.boxes[:, 3], 1)
    wide = (aspect >= CUT_FROM) & ~kept
    return wide, (aspect >= DOUBT_FROM) & ~wide & ~kept & (confidences > DOUBT_FLOOR)


class Cutter:
    """The segments of one reading's boxes of touching digits: `crops` to classify, then `digits_of`; then,
    for the boxes that no cutting read, `leaning` for a second try. `Cutter.pairs` cuts the candidates that
    may be two digits read as one."""

    def __init__(self, gray: np.ndarray, found: Found, kept: np.ndarray, confidences: np.ndarray) -> None:
        """`kept` and `confidences` per candidate (found.boxes): which read as a digit, and each one's best
        digit's probability."""
        # The runs: candidates that did not read as a digit and are wide or in doubt, then the boxes too wide
        # to be one digit.
        wide, doubtful = unread_to_cut(found, kept, confidences)
        candidates = np.flatnonzero(wide | doubtful)
        boxes = [*found.boxes[candidates], *found.runs]
        inks = cut_inks(gray, found, boxes, [*(found.members[i] for i in candidates), *found.run_members])
        # A number underlined: its digits are cut apart above the line, which runs under them all.
        inks = [cut[0] if (cut := without_underline(ink)) is not None else ink for ink in inks]
        self.take(boxes, inks, [*doubtful[candidates].tolist(), *[False] * len(found.runs)])

    @staticmethod
    def replaceable(found: Found, kept: np.ndarray, confidences: np.ndarray) -> np.ndarray:
        """(N,) bool per candidate: whose digit, or lack of one, a pair's two digits (`pairs`) may take the
        place of: those that read as a digit, and those that read as none that no `Cutter` cuts."""
        return kept | ~np.logical_or(*unread_to_cut(found, kept, confidences))

    @classmethod
    def pairs(cls, found: Found, inks: list[np.ndarray]) -> Cutter:
        """The candidates wide enough to be two touching digits (PAIR_FROM), cut in two (`digits_of` then
        needs to know which of them read as one digit), from the ink the frame's crops were made of (`inks`,
        per found.boxes). Made before the frame's crops are classified, so that their segments ride in the
        same batch: a frame pays no second classifier call for them."""
        pairs = np.flatnonzero(found.boxes[:, 2] >= PAIR_FROM * np.maximum(found.boxes[:, 3], 1))
        cutter = cls.__new__(cls)
        cutter.take(list(found.boxes[pairs]), [inks[i] for i in pairs], [True] * len(pairs), pairs.tolist())
        return cutter

    def take(
        self, boxes: list[np.ndarray], inks: list[np.ndarray], in_two: list[bool], replaces: list[int] | None = None
    ) -> None:
        """Cut these runs (boxes in frame pixels, their ink from `cut_inks`): each into digits, or (`in_two`)
        into two sure digits; with `replaces`, a pair candidate's index in found.boxes per run, into two
        digits that take its place."""
        self.run_boxes, self.inks, self.in_two = boxes, inks, in_two
        self.replaces = replaces or [-1] * len(boxes)
        self.cut(list(range(len(boxes))), 0.0)

    def leaning(self, slant: float) -> Cutter:
        """A second try for the runs that no cutting read (`unread`): the same ink, cut along lines leaning
        `slant` pixels right per pixel up, into digits that each read at LEANING_SURE."""
        again = copy.copy(self)
        again.cut(self.unread, slant)
        return again

    def cut(self, runs: list[int], slant: float) -> None:
        """Cut these runs (indices into `run_boxes`) into segments: `crops`, and what `digits_of` needs."""
        self.runs, self.slant = runs, slant
        self.boxes: list[np.ndarray] = []  # per segment, x, y, w, h in frame pixels
        self.owners: list[int] = []  # per segment, which of `runs` it belongs to (its index there)
        self.spans: list[list[tuple[int, int]]] = []  # per run cut, in places across the cuts (`places_across`)
        self.widths: list[int] = []  # per run cut, how many such places
        crops = [crop for index, run in enumerate(runs) for crop in self.segments(index, run)]
        shape = (len(crops), MNIST_SIZE, MNIST_SIZE, 1)
        self.crops = np.array(crops, np.float32).reshape(shape) if crops else np.zeros(shape, np.float32)
        self.unread = list(runs)  # after `digits_of`: the runs none of whose cuttings read as digits
        self.replaced: list[int] = []  # after `digits_of`: the candidates whose digit gave way to two

    def segments(self, index: int, run: int) -> list[np.ndarray]:
        """Cut one run's ink (h, w) into its segments; records their spans and boxes, returns their crops."""
        ink, box = self.inks[run], self.run_boxes[run]
        height, width = ink.shape
        places = places_across(height, width, self.slant)
        extent = int(places.max()) + 1
        profile = np.bincount(places.ravel(), weights=ink.ravel(), minlength=extent)
        smooth = smoothed(profile)
        cuts = cut_positions(smooth, height)
        if self.replaces[run] >= 0:  # a pair: one cut, at the deepest valley in its middle, if deep enough
            middle = cuts[(cuts >= PAIR_MIDDLE[0] * extent) & (cuts <= PAIR_MIDDLE[1] * extent)]
            middle = middle[smooth[middle] <= PAIR_VALLEY * profile.mean()]
            cuts = middle[np.argsort(smooth[middle], kind="stable")[:1]]
        spans = spans_of(extent, height, cuts)
        if self.in_two[run]:
            spans = [(a, b) for a, b in spans if a == 0 or b == extent]
        self.spans.append(spans)
        self.widths.append(extent)
        crops = []
        for a, b in spans:
            inside = (places >= a) & (places < b)
            piece = np.where(inside, ink, np.float32(0))
            # A segment's box is found as `fit_mnist` finds the digit's: ink over INK_FLOOR of its peak (a
            # segment with no ink at all: its whole share of the box).
            peak = float(piece.max())
            left, top, w, h = cv2.boundingRect((piece > INK_FLOOR * peak if peak > 0 else inside).view(np.uint8))
            self.boxes.append(np.array([box[0] + left, box[1] + top, w, h], np.int32))
            self.owners.append(index)
            crops.append(fit_mnist(piece))
        return crops

    def digits_of(
        self, confidences: np.ndarray, confident: np.ndarray, replaceable: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[int]]:
        """Segments kept: the best all-digit cutting of each run, from each segment's best digit's probability
        and whether it reads as a digit at all; a pair's (`Cutter.pairs`) only when its candidate is
        `replaceable` (`Cutter.replaceable`), into two digits each read at PAIR_SURE. Returns (M, 4) boxes
        and their indices into `crops` (for the caller's probabilities)."""
        owners = np.array(self.owners, np.int64)
        scores = np.where(confident, np.log(np.maximum(confidences, 1e-9)), -np.inf)
        leaning = self.slant != 0
        sure_scores = np.where(confidences >= (LEANING_SURE if leaning else SURE), scores, -np.inf)
        pair_scores = np.where(confidences >= PAIR_SURE, scores, -np.inf)
        chosen: list[int] = []
        self.unread, self.replaced = [], []
        for index, spans in enumerate(self.spans):
            run = self.runs[index]
            indices = np.flatnonzero(owners == index)
            pair = self.replaces[run]
            if pair >= 0:
                if replaceable is None or not replaceable[pair]:
                    continue  # read as no digit, and a `Cutter` cuts it after the frame's first batch
                run_scores = pair_scores[indices]
            else:
                run_scores = (sure_scores if self.in_two[run] or leaning else scores)[indices]
            if pair >= 0 or self.in_two[run]:
                # Two digits written side by side are about as tall as each other: a piece of one is not, nor
                # the short arm of a tick.
                heights = np.array([self.boxes[i][3] for i in indices])
                run_scores = np.where(heights >= PAIR_HEIGHT * self.run_boxes[run][3], run_scores, -np.inf)
            cutting = indices[best_cutting(spans, run_scores, self.widths[index])].tolist()
            chosen += cutting
            if not cutting:
                self.unread.append(run)
            elif pair >= 0:
                self.replaced.append(pair)
        boxes = np.array([self.boxes[i] for i in chosen], np.int32).reshape(-1, 4)
        return boxes, chosen
