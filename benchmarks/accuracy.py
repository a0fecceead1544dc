"""End-to-end accuracy on generated camera-like scenes: F1 per scene kind and hard condition, false
detections per digit-free frame, and per-frame F1 on encoded clips. Still images as `camrec image` reads
them (`detect.still_levels`, `detect.still_close_up`): scanned worksheets of small digits, the scenes as
2560-wide phone photos, and images of one digit. Camera frames of one digit held close, as `camrec webcam`
reads them (`detect.live_close_up`) and as `camrec video` does by default (`detect.close_up_when_big`). The pen
worksheets again as a scanner's PDF. Numbers written fast, neighbouring digits touching: their digits, and
the numbers read whole (every digit right, none missing or added; `camrec.numbers`). The scenes again as a
phone held upright films them, in a 1080x1920 portrait frame. Scenes with a worksheet's printed text around
the digits (instructions, headings), and with text but no digits. Forms: digits written in printed answer
boxes, as a camera frame and as a phone photo. Marked worksheets (`--marks`), and sheets turned 12-35
degrees either way (`--turned`), each as a camera frame and as a phone photo; numbers written fast on a
sheet turned as much, and one digit held close, turned. Digits written with a ballpoint pen or a pencil,
whose line is a pixel or two wide in a webcam's frame (`--thin-pens`), as camera frames, and one digit
written with a ballpoint and held close to a webcam. Digits written in the cells of a printed grid, a sudoku
or a table (`--grids`), as a camera frame and as a phone photo, turned a little and seen square on,
and held so close to a webcam that it runs out of view. Hard scenes on ruled and squared paper whose lines are
drawn bold (`--ruling`).

    python benchmarks/accuracy.py --seed 2            # the report seed (never used for tuning)
    python benchmarks/accuracy.py --seed 1 --pool train  # the tuning seed, on MNIST train digits

A detection is right when its box overlaps a true digit's ink box with IoU >= 0.5 and the digit matches.
Scenes use MNIST *test* digits unless --pool train. Prints a table and, with --json, writes the figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import exit_with, publish
from benchmarks.scoring import Tally, score_frame, score_whole_numbers
from camrec.config import for_live, for_stills, load_config
from camrec.data import load_split, resolve_data_dir
from camrec.numbers import number_records
from camrec.pipeline import Recognizer, load_recognizer
from camrec.sources import open_images, open_video
from camrec.synth import (
    BOLD_RULING,
    DISTRACTORS,
    HARD_CONDITIONS,
    HELD_OUT_DISTRACTORS,
    TURNS,
    Scene,
    as_photo,
    clip_scenes,
    held_upright,
    make_close_up,
    make_digit_image,
    make_form_scene,
    make_grid_scene,
    make_marked_scene,
    make_numbers,
    make_scene,
    make_text_scene,
    make_thin_pen_scene,
    make_turned_scene,
    make_worksheet,
    write_clip,
    write_pdf,
)

TARGETS = {"moderate": 0.98, "hard": 0.90, "empty_false_per_frame": 0.05, "clip_frame_f1": 0.97}


def scene_groups(scenes: int) -> dict[str, list[tuple[str, str | None, tuple | None]]]:
    """Name -> list of (kind, condition, distractors) specs."""
    groups: dict[str, list] = {"moderate": [("moderate", None, None)] * scenes}
    for condition in HARD_CONDITIONS:
        groups[f"hard:{condition}"] = [("hard", condition, None)] * max(4, scenes // 4)
    groups["empty"] = [("empty", None, None)] * scenes
    groups["empty:held_out"] = [("empty", None, HELD_OUT_DISTRACTORS)] * max(4, scenes // 2)
    return groups


def tally_of(recognizer: Recognizer, scenes: Iterable[Scene]) -> Tally:
    """Hits, false and missed detections over scenes, each made only when it is scored."""
    tally = Tally()
    for scene in scenes:
        found = recognizer(scene.image).detections
        tally.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits, scene.lookalikes))
    return tally


def score_scenes(recognizer: Recognizer, pool, seed: int, scenes: int) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for g, (name, specs) in enumerate(scene_groups(scenes).items()):
        tallies[name] = tally_of(
            recognizer,
            (
                make_scene(seed * 1_000_000 + g * 10_000 + i, pool, kind, condition, distractors or DISTRACTORS)
                for i, (kind, condition, distractors) in enumerate(specs)
            ),
        )
    return tallies


def score_portrait(recognizer: Recognizer, pool, seed: int, scenes: int) -> dict[str, Tally]:
    """Scenes as a phone held upright films them (`held_upright`): 1080x1920, as `camrec video` reads them."""
    groups = {
        "portrait:moderate": ("moderate", None),
        "portrait:small": ("hard", "small"),
        "portrait:hard": ("hard", None),
        "portrait:empty": ("empty", None),
    }
    return {
        name: tally_of(
            recognizer,
            (
                held_upright(make_scene(seed * 1_000_000 + 800_000 + g * 10_000 + i, pool, kind, condition))
                for i in range(scenes if kind == "moderate" else max(4, scenes // 2))
            ),
        )
        for g, (name, (kind, condition)) in enumerate(groups.items())
    }


def score_text(recognizer: Recognizer, pool, seed: int, scenes: int) -> dict[str, Tally]:
    """Scenes with a worksheet's printed text (`make_text_scene`), with digits and without; its letters that
    read as digits once normalised (`synth.TEXT_DIGIT_LIKE`: o, l, s, ...) count neither way."""
    kinds = {"text:moderate": "moderate", "text:empty": "empty"}
    return {
        name: tally_of(
            recognizer,
            (make_text_scene(seed * 1_000_000 + 700_000 + g * 10_000 + i, pool, kind) for i in range(scenes)),
        )
        for g, (name, kind) in enumerate(kinds.items())
    }


def score_stills(
    recognizer: Recognizer, pool, seed: int, photos: int, sheets: int, digit_images: int
) -> dict[str, Tally]:
    """Worksheets (pen, pencil, and pen filled in densely: 400-500 digits a page), phone-photo versions of
    moderate, hard and digit-free scenes, and images of one digit (28x28 MNIST-like, dark on white and white
    on black; drawn in a paint program with a thick brush, or with a thin one; cropped from a photo; a 1
    with a flag, cropped from a photo)."""
    tallies: dict[str, Tally] = {}
    for g, (name, make) in enumerate(
        [
            ("stills:worksheet", lambda i: make_worksheet(i, pool)),
            ("stills:pencil_worksheet", lambda i: make_worksheet(i, pool, pencil=True)),
            ("stills:photo_moderate", lambda i: as_photo(make_scene(i, pool, "moderate"), i)),
            ("stills:photo_hard", lambda i: as_photo(make_scene(i, pool, "hard"), i)),
            ("stills:photo_empty", lambda i: as_photo(make_scene(i, pool, "empty"), i)),
            ("stills:digit_mnist", lambda i: make_digit_image(i, pool, "mnist")),
            ("stills:digit_drawn", lambda i: make_digit_image(i, pool, "drawn")),
            ("stills:digit_cropped", lambda i: make_digit_image(i, pool, "cropped")),
            # Last, so that the groups above keep their seeds (a group's seeds follow its place).
            ("stills:digit_mnist_light", lambda i: make_digit_image(i, pool, "mnist_light")),
            ("stills:dense_worksheet", lambda i: make_worksheet(i, pool, dense=True)),
            ("stills:digit_thin", lambda i: make_digit_image(i, pool, "thin")),
            ("stills:digit_flagged_one", lambda i: make_digit_image(i, pool, "flagged_one")),
        ]
    ):
        count = sheets if "worksheet" in name else digit_images if "digit_" in name else photos
        tallies[name] = tally_of(recognizer, (make(seed * 1_000_000 + 500_000 + g * 10_000 + i) for i in range(count)))
    return tallies


def score_pdf_scans(recognizer: Recognizer, pool, seed: int, sheets: int) -> Tally:
    """The pen worksheets of `score_stills` saved as a scanner saves them (a PDF of JPEG pages at 300 dpi)
    and read back as `camrec image` reads a PDF: each page drawn by PDFium, then detected."""
    tally = Tally()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scans.pdf"
        truth = write_pdf(path, (make_worksheet(seed * 1_000_000 + 500_000 + i, pool) for i in range(sheets)))
        with open_images(str(path)) as source:
            for frame in source:
                found = recognizer(frame.image).detections
                scene = truth[frame.index]
                tally.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits))
    return tally


def score_numbers(recognizer: Recognizer, pool, seed: int, scenes: int) -> dict[str, Tally]:
    """Camera frames of numbers written fast, most neighbouring digits touching (`make_numbers`): their
    digits, and the numbers read whole (`camrec.numbers`)."""
    digits, numbers = Tally(), Tally()
    for i in range(scenes):
        scene = make_numbers(seed * 1_000_000 + 800_000 + i, pool)
        found = recognizer(scene.image).detections
        digits.add(score_frame(found.boxes, found.digits, scene.boxes, scene.digits, scene.lookalikes))
        numbers.add(score_whole_numbers(number_records(found), scene.boxes, scene.digits, scene.numbers))
    return {"numbers:touching": digits, "numbers:whole": numbers}


def score_close_ups(recognizers: dict[str, Recognizer], pool, seed: int, frames: int) -> dict[str, Tally]:
    """Camera frames of one digit held close (45-85 % of the frame's height), read by each recognizer."""
    seeds = [seed * 1_000_000 + 700_000 + i for i in range(frames)]
    return {
        name: tally_of(recognizer, (make_close_up(i, pool) for i in seeds)) for name, recognizer in recognizers.items()
    }


def score_forms(camera: Recognizer, still: Recognizer, pool, seed: int, forms: int) -> dict[str, Tally]:
    """A form's answer boxes with digits written in them (`make_form_scene`), as a camera frame and as a
    phone photo: the printed boxes must not read as digits, nor hide the digits written against them. Then
    combs, rows of boxes sharing their lines across most of the sheet, as a camera frame."""
    kinds = {
        "forms:camera": (camera, False, False),
        "forms:photo": (still, True, False),
        "forms:comb": (camera, False, True),
    }
    return {
        name: tally_of(
            recognizer,
            (
                make_form_scene(seed * 1_000_000 + 900_000 + g * 10_000 + i, pool, photo=photo, comb=comb)
                for i in range(forms)
            ),
        )
        for g, (name, (recognizer, photo, comb)) in enumerate(kinds.items())
    }


def camera_and_photo(make, kinds: dict[str, tuple[Recognizer, bool]], pool, first: int, count: int) -> dict[str, Tally]:
    """Per kind name -> (recognizer, photo): `count` scenes `make(seed, pool, photo=photo)`, the g-th kind's
    seeds from `first + g * 10_000`."""
    return {
        name: tally_of(recognizer, (make(first + g * 10_000 + i, pool, photo=photo) for i in range(count)))
        for g, (name, (recognizer, photo)) in enumerate(kinds.items())
    }


def score_marks(camera: Recognizer, still: Recognizer, pool, seed: int, sheets: int) -> dict[str, Tally]:
    """Marked worksheets (`make_marked_scene`: lines under digits, rings around them, ticks after them), as
    a camera frame and as a phone photo: no mark reads as a digit, nor hides the digit it marks."""
    kinds = {"marks:camera": (camera, False), "marks:photo": (still, True)}
    return camera_and_photo(make_marked_scene, kinds, pool, seed * 1_000_000 + 950_000, sheets)


def score_turned(camera: Recognizer, still: Recognizer, pool, seed: int, sheets: int) -> dict[str, Tally]:
    """Sheets turned 12-35 degrees either way (`make_turned_scene`), as a camera frame and as a phone photo;
    as camera frames, numbers written fast (`make_numbers`) on a sheet turned as much, and one digit held
    close (`make_close_up`) turned as much."""
    kinds = {"turned:camera": (camera, False), "turned:photo": (still, True)}
    tallies = camera_and_photo(make_turned_scene, kinds, pool, seed * 1_000_000 + 970_000, sheets)
    for name, make, first in (("turned:numbers", make_numbers, 990_000), ("turned:close_up", make_close_up, 995_000)):
        seeds = [seed * 1_000_000 + first + i for i in range(sheets)]
        turns = [float(np.random.default_rng(s).uniform(*TURNS) * (1 if s % 2 else -1)) for s in seeds]
        tallies[name] = tally_of(camera, (make(s, pool, turn) for s, turn in zip(seeds, turns)))
    return tallies


def score_thin_pens(camera: Recognizer, live: Recognizer, pool, seed: int, sheets: int) -> dict[str, Tally]:
    """Camera frames of digits written with a ballpoint pen and with a pencil (`make_thin_pen_scene`), and of
    one digit written with a ballpoint and held close, as `camrec webcam` reads it (`make_close_up` with a
    line 1-3 px wide)."""
    tallies = {
        name: tally_of(
            camera,
            (make_thin_pen_scene(seed * 1_000_000 + 600_000 + g * 10_000 + i, pool, pencil) for i in range(sheets)),
        )
        for g, (name, pencil) in enumerate((("thin_pen:ballpoint", False), ("thin_pen:pencil", True)))
    }
    seeds = [seed * 1_000_000 + 620_000 + i for i in range(sheets)]
    pens = [float(np.random.default_rng(s).uniform(1.0, 3.0)) for s in seeds]
    tallies["thin_pen:close_up"] = tally_of(live, (make_close_up(s, pool, pen=pen) for s, pen in zip(seeds, pens)))
    return tallies


def score_grids(camera: Recognizer, still: Recognizer, pool, seed: int, grids: int) -> dict[str, Tally]:
    """Digits written in the cells of a printed grid, a sudoku or a table (`make_grid_scene`), as a camera
    frame and as a phone photo: the grid's lines must not read as digits, nor hide the digits written
    against them. Then grids seen square on (held level to a webcam, or scanned), whose long lines are
    as long as ruling; and grids held so close to a webcam that they run out of view."""
    kinds = {"grid:camera": (camera, False), "grid:photo": (still, True)}
    tallies = camera_and_photo(make_grid_scene, kinds, pool, seed * 1_000_000 + 630_000, grids)
    level = {"grid:level_camera": (camera, False), "grid:level_photo": (still, True)}
    square_on = partial(make_grid_scene, turn=0.0)
    tallies |= camera_and_photo(square_on, level, pool, seed * 1_000_000 + 650_000, grids)
    close = partial(make_grid_scene, zoom=1.3)  # held close to a webcam: it runs out of view
    return tallies | camera_and_photo(
        close, {"grid:close_camera": (camera, False)}, pool, seed * 1_000_000 + 670_000, grids
    )


def score_ruling(camera: Recognizer, pool, seed: int, scenes: int) -> dict[str, Tally]:
    """Hard scenes on ruled and on squared paper whose lines are drawn bold (`synth.BOLD_RULING`: 2 px wide,
    dark grey), as a notebook held close to a webcam shows them: the lines run through the digits written
    on them, and lean with the sheet."""
    return {
        f"ruling:{condition}": tally_of(
            camera,
            (make_scene(seed * 1_000_000 + 680_000 + g * 10_000 + i, pool, "hard", condition) for i in range(scenes)),
        )
        for g, condition in enumerate(BOLD_RULING)
    }


def score_clips(recognizer: Recognizer, pool, seed: int, clips: int, frames: int) -> dict[str, float]:
    """Per-frame F1 (mean over frames) on clips written as H.264 .mp4 and MJPEG .avi, then decoded."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".mp4", ".avi"):
            per_frame = []
            for c in range(clips):
                path = Path(folder) / f"clip{c}{suffix}"
                truth = write_clip(path, clip_scenes(seed * 1000 + c, pool, frames))
                with open_video(str(path)) as source:
                    for frame in source:
                        found = recognizer(frame.image).detections
                        scene = truth[frame.index]
                        per_frame.append(score_frame(found.boxes, found.digits, scene.boxes, scene.digits).f1)
            results[suffix] = float(np.mean(per_frame))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--scenes", type=int, default=60, help="scenes per main group")
    parser.add_argument("--clips", type=int, default=2)
    parser.add_argument("--clip-frames", type=int, default=90)
    parser.add_argument("--photos", type=int, default=30, help="phone photos per kind (still images)")
    parser.add_argument("--sheets", type=int, default=4, help="worksheet scans per ink (still images)")
    parser.add_argument("--digit-images", type=int, default=60, help="images of one digit per style (stills)")
    parser.add_argument("--close-ups", type=int, default=60, help="camera frames of one digit held close")
    parser.add_argument("--numbers", type=int, default=60, help="camera frames of numbers, digits touching")
    parser.add_argument("--portrait", type=int, default=60, help="scenes filmed by a phone held upright")
    parser.add_argument("--text", type=int, default=60, help="scenes with a worksheet's printed text, per kind")
    parser.add_argument("--forms", type=int, default=60, help="forms with digits in answer boxes, per kind")
    parser.add_argument("--marks", type=int, default=40, help="marked worksheets (ticks, rings, underlines), per kind")
    parser.add_argument("--turned", type=int, default=40, help="sheets turned 12-35 degrees, per kind")
    parser.add_argument("--thin-pens", type=int, default=40, help="frames of ballpoint and of pencil digits, each")
    parser.add_argument("--grids", type=int, default=40, help="sudokus and tables with digits in their cells, per kind")
    parser.add_argument("--ruling", type=int, default=40, help="scenes on bold ruled and squared paper, per kind")
    parser.add_argument("--pool", choices=("test", "train"), default="test")
    parser.add_argument("--model")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    config = load_config(None, args.overrides)
    pool = load_split(resolve_data_dir(None, config.data.mnist_dir), args.pool)
    recognizer = load_recognizer(config, args.model)
    started = time.perf_counter()
    tallies = score_scenes(recognizer, pool, args.seed, args.scenes)
    hard = Tally()
    for name, tally in tallies.items():
        if name.startswith("hard:"):
            hard.add(tally)
    clips = score_clips(recognizer, pool, args.seed, args.clips, args.clip_frames) if args.clips else {}
    portrait = score_portrait(recognizer, pool, args.seed, args.portrait)
    text = score_text(recognizer, pool, args.seed, args.text)
    still_recognizer = load_recognizer(for_stills(config), args.model)
    stills = score_stills(still_recognizer, pool, args.seed, args.photos, args.sheets, args.digit_images)
    if args.sheets:
        stills["stills:worksheet_pdf"] = score_pdf_scans(still_recognizer, pool, args.seed, args.sheets)
    numbers = score_numbers(recognizer, pool, args.seed, args.numbers)
    forms = score_forms(recognizer, still_recognizer, pool, args.seed, args.forms)
    marks = score_marks(recognizer, still_recognizer, pool, args.seed, args.marks)
    turned = score_turned(recognizer, still_recognizer, pool, args.seed, args.turned)
    live_recognizer = load_recognizer(for_live(config), args.model)
    thin_pens = score_thin_pens(recognizer, live_recognizer, pool, args.seed, args.thin_pens)
    grids = score_grids(recognizer, still_recognizer, pool, args.seed, args.grids)
    ruling = score_ruling(recognizer, pool, args.seed, args.ruling)
    close_ups = score_close_ups(
        {"close_up:live": live_recognizer, "close_up:video": recognizer},
        pool,
        args.seed,
        args.close_ups,
    )
    groups = {**tallies, **portrait, **text, **stills, **close_ups, **numbers, **forms, **marks, **turned}
    groups |= {**thin_pens, **grids, **ruling}
    report = {
        "seed": args.seed,
        "pool": args.pool,
        "f1": {name: round(t.f1, 4) for name, t in tallies.items() if not name.startswith("empty")},
        "f1_hard_all": round(hard.f1, 4),
        "false_per_empty_frame": round(tallies["empty"].false_per_frame, 3),
        "false_per_empty_frame_held_out": round(tallies["empty:held_out"].false_per_frame, 3),
        "lookalike_reads_per_frame": round(
            sum(t.lookalike_reads for t in tallies.values()) / sum(t.frames for t in tallies.values()), 3
        ),
        "clip_frame_f1": {k: round(v, 4) for k, v in clips.items()},
        "portrait_f1": {name: round(t.f1, 4) for name, t in portrait.items() if not name.endswith("empty")},
        "portrait_false_per_empty_frame": round(portrait["portrait:empty"].false_per_frame, 3),
        "text_f1": round(text["text:moderate"].f1, 4),
        "text_false_per_frame": {name: round(t.false_per_frame, 3) for name, t in text.items()},
        "stills_f1": {name: round(t.f1, 4) for name, t in stills.items() if not name.endswith("empty")},
        "stills_false_per_empty_photo": round(stills["stills:photo_empty"].false_per_frame, 3),
        "close_up_f1": {name: round(t.f1, 4) for name, t in close_ups.items()},
        "numbers_f1": round(numbers["numbers:touching"].f1, 4),
        "whole_numbers_f1": round(numbers["numbers:whole"].f1, 4),
        "forms_f1": {name: round(t.f1, 4) for name, t in forms.items()},
        "marks_f1": {name: round(t.f1, 4) for name, t in marks.items()},
        "turned_f1": {name: round(t.f1, 4) for name, t in turned.items()},
        "thin_pen_f1": {name: round(t.f1, 4) for name, t in thin_pens.items()},
        "grid_f1": {name: round(t.f1, 4) for name, t in grids.items()},
        "ruling_f1": {name: round(t.f1, 4) for name, t in ruling.items()},
        "counts": {
            name: {"hits": t.hits, "false": t.false, "missed": t.missed, "frames": t.frames}
            for name, t in groups.items()
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    for name, tally in groups.items():
        if not tally.frames:
            continue  # a group asked for none (e.g. --photos 0): an F1 of nothing would read as perfect
        print(
            f"{name:20s} F1 {tally.f1:.3f}  hits {tally.hits:4d}  false {tally.false:4d}  missed {tally.missed:4d}"
            f"  false/frame {tally.false_per_frame:.2f}"
        )
    print(f"{'hard (all)':20s} F1 {hard.f1:.3f}")
    for suffix, value in clips.items():
        print(f"clip {suffix:15s} per-frame F1 {value:.3f}")
    print(f"targets: {TARGETS}")
    publish(report, args.json, show=False)
    return 0


if __name__ == "__main__":
    exit_with(main)
