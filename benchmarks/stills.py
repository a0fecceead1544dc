"""Speed of `camrec image` on phone photos, as a ratio to decoding the same files, in the same run.

    python benchmarks/stills.py            # 12 photos 4032x3024 (12 megapixels, a phone's default), JPEG

- baseline: `cv2.imread(path)` of each photo, nothing else;
- camrec: the still-image pipeline (`for_stills`: three detection levels and the close-up) on each decoded
  photo, in process; the digits read are scored against the truth (IoU >= 0.5 and the right digit);
- per photo, the median of `--runs` passes; reported: the medians over the photos in milliseconds, and
  camrec's time in units of the same photo's decoding time (median over the photos), which lets hosts of
  different speed be compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import exit_with, publish  # noqa: E402
from benchmarks.scoring import Tally, score_frame  # noqa: E402
from camrec.config import for_stills, load_config  # noqa: E402
from camrec.data import load_split, resolve_data_dir  # noqa: E402
from camrec.pipeline import load_recognizer  # noqa: E402
from camrec.synth import as_photo, make_scene  # noqa: E402

KINDS = ("moderate", "hard")


def seconds(runs: int, work, *args) -> float:
    """The median wall time of `work(*args)` over `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--width", type=int, default=4032)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    config = load_config()
    pool = load_split(resolve_data_dir(None, config.data.mnist_dir), "test")
    recognizer = load_recognizer(for_stills(config))
    decode_ms, camrec_ms, ratios, tally = [], [], [], Tally()
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.photos):
            scene = make_scene(args.seed * 1000 + i, pool, KINDS[i % len(KINDS)])
            photo = as_photo(scene, args.seed * 1000 + i, args.width)
            path = str(Path(folder) / f"photo{i}.jpg")
            cv2.imwrite(path, photo.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
            image = cv2.imread(path)
            recognizer(image)  # the first call of a size pays for allocations; not what a photo costs
            decode_ms.append(1000 * seconds(args.runs, cv2.imread, path))
            camrec_ms.append(1000 * seconds(args.runs, recognizer, image))
            ratios.append(camrec_ms[-1] / decode_ms[-1])
            detections = recognizer(image).detections
            tally.add(score_frame(detections.boxes, detections.digits, photo.boxes, photo.digits, photo.lookalikes))
    report = {
        "photo": f"{args.width}x{round(args.width * 3 / 4)} JPEG",
        "photos": args.photos,
        "decode_ms": round(statistics.median(decode_ms), 1),
        "camrec_ms": round(statistics.median(camrec_ms), 1),
        "camrec_in_decodes": round(statistics.median(ratios), 2),
        "f1": round(tally.f1, 3),
    }
    publish(report, args.json)
    return 0


if __name__ == "__main__":
    exit_with(main)
