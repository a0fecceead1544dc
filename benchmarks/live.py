"""Live figures for the windows: the webcam path's displayed frame rate and frame age on a 30 fps
loopback MJPEG stream, and the drawing window's pen-to-label latency.

    python benchmarks/live.py --seconds 120     # starts its own Xvfb when there is no DISPLAY

Frame age: each streamed frame carries its counter in a corner; the server notes when it sent each one,
and the window hook notes when that frame was shown. Pen-to-label: `camrec draw --debug` logs the time
from each mouse-up to the updated label being drawn; digits are drawn with xdotool.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.mjpeg_server import MjpegServer, read_stamp, stamp_frame  # noqa: E402
from benchmarks.report import exit_with, publish  # noqa: E402
from camrec.cli import quiet_libraries  # noqa: E402
from camrec.config import for_live, load_config  # noqa: E402
from camrec.data import load_split, resolve_data_dir  # noqa: E402
from camrec.pipeline import load_recognizer  # noqa: E402
from camrec.runner import run  # noqa: E402
from camrec.sources import open_live  # noqa: E402
from camrec.synth import clip_scenes  # noqa: E402


def ensure_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    server = subprocess.Popen(
        ["Xvfb", ":97", "-screen", "0", "1600x1000x24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    os.environ["DISPLAY"] = ":97"
    time.sleep(1.0)
    return server


def webcam_figures(seconds: float) -> dict:
    from camrec.apps.webcam import WebcamWindow

    config = for_live(load_config())  # as `camrec webcam` reads frames: with the close-up
    pool = load_split(resolve_data_dir(None, config.data.mnist_dir), "test")
    frames = [scene.image for scene in clip_scenes(3, pool, 90, n_digits=8)]
    sent: dict[int, float] = {}

    def next_frame(counter: int) -> np.ndarray:
        sent[counter % 65536] = time.monotonic()
        return stamp_frame(frames[counter % len(frames)], counter % 65536)

    recognizer = load_recognizer(config)
    shown: list[tuple[float, float]] = []  # (display time, age)
    with MjpegServer(next_frame, fps=30, max_seconds=seconds + 30) as server:
        source = open_live(server.url, reconnect_s=2)
        window = WebcamWindow(config, say=lambda line: None)
        started = time.monotonic()

        def on_frame(frame, result, image) -> bool:
            keep_going = window.on_frame(frame, result, image)
            now = time.monotonic()
            counter = read_stamp(frame.image)
            if counter in sent:
                shown.append((now - started, now - sent[counter]))
            return keep_going and now - started < seconds

        try:
            run([source], recognizer, [], on_frame=on_frame)
        finally:
            source.close()
            window.close()
    times, ages = np.array(shown).T
    quarter = len(ages) // 4
    return {
        "seconds": round(float(times[-1]), 1),
        "display_fps": round(len(ages) / float(times[-1] - times[0]), 1),
        "frame_age_ms_p50": round(float(np.percentile(ages, 50) * 1000), 1),
        "frame_age_ms_p95": round(float(np.percentile(ages, 95) * 1000), 1),
        "frame_age_ms_first_quarter_median": round(float(np.median(ages[:quarter]) * 1000), 1),
        "frame_age_ms_last_quarter_median": round(float(np.median(ages[-quarter:]) * 1000), 1),
    }


def pen_to_label_figures() -> dict:
    from tests.strokes import digit_path

    env = {**os.environ}
    process = subprocess.Popen(
        [sys.executable, "-m", "camrec", "draw", "--debug"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    time.sleep(3.0)
    for _ in range(3):
        for digit in range(10):
            row, col = divmod(digit, 5)
            for stroke in digit_path(digit, 40 + col * 160, 10 + row * 135, 115):
                args = ["mousemove", *map(str, stroke[0]), "mousedown", "1"]
                for point in stroke[1:]:
                    args += ["sleep", "0.01", "mousemove", *map(str, point)]
                subprocess.run(["xdotool", *args, "mouseup", "1", "sleep", "0.1"], check=True)
        subprocess.run(["xdotool", "key", "c"], check=True)
        time.sleep(0.3)
    subprocess.run(["xdotool", "search", "--name", "^camrec draw$", "key", "q"], check=False)
    _, stderr = process.communicate(timeout=30)
    latencies = [float(m) for m in re.findall(r"pen-to-label ([0-9.]+) ms", stderr)]
    return {
        "strokes_timed": len(latencies),
        "pen_to_label_ms_p50": round(float(np.percentile(latencies, 50)), 1),
        "pen_to_label_ms_p95": round(float(np.percentile(latencies, 95)), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    if not shutil.which("xdotool"):
        print("benchmarks/live.py needs xdotool and Xvfb (make test installs them)", file=sys.stderr)
        return 2
    xvfb = ensure_display()
    quiet_libraries(debug=False)  # as the command does: Qt pointed at the system fonts, library chatter off
    try:
        report = {**webcam_figures(args.seconds), **pen_to_label_figures()}
    finally:
        if xvfb is not None:
            xvfb.terminate()
    publish(report, args.json)
    return 0


if __name__ == "__main__":
    exit_with(main)
