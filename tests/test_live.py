"""`camrec webcam` on a real HTTP MJPEG stream (127.0.0.1), replayed files and an absent camera."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import cv2
import pytest

from benchmarks.mjpeg_server import MjpegServer
from tests.conftest import MNIST_DIR, REPO, assert_one_error_line, run_camrec
from tests.scenes import mnist_test_pool, write_test_clip
from tests.test_files import frame_f1, read_jsonl


@pytest.fixture(scope="module")
def sheet(tmp_path_factory, mnist_dir):
    """A clip of one sheet moving (the digits stay the same) as frames, with truth per frame."""
    path = tmp_path_factory.mktemp("live") / "sheet.avi"
    truth = write_test_clip(path, mnist_test_pool(mnist_dir), 90, seed=31)
    capture = cv2.VideoCapture(str(path))
    frames = []
    while (item := capture.read())[0]:
        frames.append(item[1])
    return path, frames, truth


def test_stream_frames_are_read_right(sheet, tmp_path):
    _, frames, truth = sheet
    out = tmp_path / "out.jsonl"
    with MjpegServer(frames, fps=30) as server:
        result = run_camrec("webcam", "--source", server.url, "--no-show", "--json", str(out), "--max-frames", "60")
    assert result.returncode == 0, result.stderr
    records = read_jsonl(out)
    assert len(records) == 60 and records[0]["source"] == server.url
    digits = sorted(int(d) for d in truth[0].digits)
    right = sum(sorted(d["digit"] for d in r["detections"]) == digits for r in records)
    assert right / len(records) >= 0.9


def _start_webcam(url: str, out, reconnect_s: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "camrec",
            "webcam",
            "--source",
            url,
            "--no-show",
            "--json",
            str(out),
            "--set",
            f"stream.reconnect_s={reconnect_s}",
            "--set",
            "stream.open_timeout_s=1",
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CAMREC_MNIST_DIR": str(MNIST_DIR)},
    )


def _wait_for_lines(path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (not path.exists() or len(path.read_text().splitlines()) < count):
        time.sleep(0.05)


def test_a_stream_that_dies_ends_with_exit_3_and_complete_output(sheet, tmp_path):
    _, frames, _ = sheet
    out = tmp_path / "out.jsonl"
    server = MjpegServer(frames, fps=30).start()
    process = _start_webcam(server.url, out, reconnect_s=1.5)
    _wait_for_lines(out, 20)
    server.stop()
    started = time.monotonic()
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3, stderr
    assert time.monotonic() - started < 10
    assert "stopped sending" in stderr.strip().splitlines()[-1]
    records = read_jsonl(out)
    assert len(records) >= 20


def test_a_stream_that_comes_back_in_time_continues(sheet, tmp_path):
    _, frames, _ = sheet
    out = tmp_path / "out.jsonl"
    server = MjpegServer(frames, fps=30).start()
    process = _start_webcam(server.url, out, reconnect_s=8)
    try:
        _wait_for_lines(out, 20)
        server.stop()
        time.sleep(1.0)
        before = len(out.read_text().splitlines())
        threading.Timer(0.0, server.start).start()
        _wait_for_lines(out, before + 30, timeout=30)
        indices = [r["frame"] for r in read_jsonl(out)]
        assert len(indices) >= before + 30
        assert indices == sorted(indices) and len(set(indices)) == len(indices)  # the counter carries on
    finally:
        process.terminate()
        process.communicate(timeout=30)
        server.stop()


def test_an_unreachable_stream_fails_fast(tmp_path):
    from benchmarks.mjpeg_server import free_port

    started = time.monotonic()
    result = run_camrec(
        "webcam",
        "--source",
        f"http://user:secret@127.0.0.1:{free_port()}/video",
        "--no-show",
        "--set",
        "stream.open_timeout_s=2",
    )
    line = assert_one_error_line(result, 2, "stream unreachable")
    assert "secret" not in line and "***@127.0.0.1" in line
    assert time.monotonic() - started < 8


def test_an_absent_camera_is_exit_2_and_no_window(xvfb_display):
    result = run_camrec("webcam", "--source", "7", env={"DISPLAY": xvfb_display})
    assert_one_error_line(result, 2, "camera 7: no such device", "camrec draw")


def test_no_display_for_a_window_is_exit_2():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "camrec", "webcam", "--source", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_error_line(result, 2, "no display (use --no-show)")


def test_a_replayed_file_runs_at_its_own_frame_rate(sheet, tmp_path):
    path, _, truth = sheet
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    result = run_camrec("webcam", "--source", str(path), "--no-show", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 90 / 30  # replayed in real time, not as fast as it decodes
    records = read_jsonl(out)
    assert records[-1]["frame"] >= 85
    assert frame_f1(records, truth) >= 0.9
