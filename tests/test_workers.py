"""Worker processes (`camrec.workers`): the same results as one process, and every way a run ends."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from camrec.classifier import shipped_model_path
from camrec.config import as_dict, for_stills, from_dict, load_config
from camrec.errors import SourceLost
from camrec.pipeline import load_recognizer
from camrec.sources import Frame
from camrec.synth import make_scene
from camrec.workers import WorkerPool
from tests.conftest import MNIST_DIR, REPO, assert_one_error_line, run_camrec
from tests.scenes import mnist_test_pool, write_test_clip

PROCESSES = ("--set", "process.parallel=processes")
THREADS = ("--set", "process.parallel=threads")


@pytest.fixture(scope="module")
def pool(mnist_dir):
    return mnist_test_pool(mnist_dir)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, pool) -> Path:
    path = tmp_path_factory.mktemp("clip") / "sheet.mp4"
    write_test_clip(path, pool, 40, seed=31)
    return path


def frames_of(images: list[np.ndarray]) -> list[Frame]:
    return [Frame(image, i, i / 30, "test") for i, image in enumerate(images)]


def test_the_config_goes_to_a_worker_and_back_unchanged():
    config = for_stills(load_config(overrides=["detect.block_size=41", "classify.min_confidence=0.7"]))
    assert from_dict(json.loads(json.dumps(as_dict(config)))) == config


def test_workers_read_frames_of_any_size_as_this_process_does(pool):
    """Frames bigger than a slot make it grow; gray, colour, BGRA and a view into a bigger frame alike (a
    worker gets each in gray)."""
    config = load_config()
    recognizer = load_recognizer(config)
    scenes = [make_scene(seed, pool, "moderate") for seed in (3, 4, 5)]
    images = (
        [
            scenes[0].image,
            cv2.resize(scenes[1].image, (1280, 960)),  # bigger than the first slots
            cv2.cvtColor(scenes[2].image, cv2.COLOR_BGR2GRAY),
            scenes[0].image[:300, :500],
            cv2.cvtColor(scenes[1].image, cv2.COLOR_BGR2BGRA),
        ]
        * 2
    )  # more frames than slots: every slot is used again
    with WorkerPool(config, shipped_model_path(), 2) as workers:
        results = list(workers.processed(frames_of(images)))
    assert [frame.index for frame, _ in results] == list(range(len(images)))
    for (_, result), image in zip(results, images):
        expected = recognizer(image).detections
        assert len(expected) >= 3
        np.testing.assert_array_equal(result.detections.boxes, expected.boxes)
        np.testing.assert_array_equal(result.detections.digits, expected.digits)
        np.testing.assert_allclose(result.detections.probabilities, expected.probabilities, atol=1e-6)
        assert result.found is None  # only the detections come back


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads where the slots' files are from /proc")
def test_without_memfd_the_slots_are_unlinked_files_that_grow(pool, monkeypatch, tmp_path):
    """Where there is no memfd (macOS), the slots are temporary files, unlinked at once: nothing is left
    behind, and a bigger frame still grows its slot."""
    monkeypatch.delattr(os, "memfd_create", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # tempfile reads TMPDIR again
    config = load_config()
    recognizer = load_recognizer(config)
    scene = make_scene(6, pool, "moderate").image
    images = [scene, cv2.resize(scene, (1280, 960)), scene]
    with WorkerPool(config, shipped_model_path(), 1) as workers:
        for slot in workers.slots:  # a file in TMPDIR, gone from its folder while still open
            target = os.readlink(f"/proc/self/fd/{slot.fd}")
            assert target.startswith(str(tmp_path)) and target.endswith("(deleted)"), target
        results = list(workers.processed(frames_of(images)))
    assert not list(tmp_path.glob("camrec-frame-*"))
    for (_, result), image in zip(results, images):
        expected = recognizer(image).detections
        assert len(expected) >= 3
        np.testing.assert_array_equal(result.detections.boxes, expected.boxes)
        np.testing.assert_array_equal(result.detections.digits, expected.digits)


def test_a_source_lost_mid_run_first_gives_the_frames_it_read(pool):
    images = [make_scene(seed, pool, "moderate").image for seed in range(6)]

    def source():
        yield from frames_of(images)
        raise SourceLost("clip.mp4", "frames end at 6 of the 60 the file declares")

    read = []
    with WorkerPool(load_config(), shipped_model_path(), 2) as workers, pytest.raises(SourceLost):
        for frame, _ in workers.processed(source()):
            read.append(frame.index)
    assert read == list(range(6))


def test_a_source_left_early_leaves_no_answer_behind_for_the_next(pool):
    """`--max-frames` stops reading one source with frames in flight; the next source gets its own answers."""
    images = [make_scene(seed, pool, "moderate").image for seed in range(10, 16)]
    recognizer = load_recognizer(load_config())
    with WorkerPool(load_config(), shipped_model_path(), 2) as workers:
        first = workers.processed(frames_of(images))
        assert next(first)[0].index == 0  # by now the other three slots hold frames in flight
        first.close()
        later = [result.detections for _, result in workers.processed(frames_of(images[3:]))]
    for detections, image in zip(later, images[3:]):
        np.testing.assert_array_equal(detections.boxes, recognizer(image).detections.boxes)


def test_a_video_reads_the_same_in_worker_processes_as_in_threads(clip, tmp_path):
    outputs = {}
    for name, mode in [("processes", PROCESSES), ("threads", THREADS)]:
        out, saved = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.avi"
        result = run_camrec("video", str(clip), "--json", str(out), "--save", str(saved), *mode)
        assert result.returncode == 0, result.stderr
        outputs[name] = out.read_text()
        capture = cv2.VideoCapture(str(saved))
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 40
        capture.release()
    assert outputs["processes"] == outputs["threads"]  # boxes, digits, confidences and track ids
    assert len(outputs["processes"].splitlines()) == 40


def test_an_image_set_reads_the_same_in_worker_processes_as_in_threads(pool, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, seed in enumerate(range(40, 46)):
        image = make_scene(seed, pool, "moderate").image
        cv2.imwrite(str(folder / f"photo{i}.png"), cv2.resize(image, None, fx=1 + i / 2, fy=1 + i / 2))
    outputs = []
    for mode in (PROCESSES, THREADS):
        out = tmp_path / f"{mode[1]}.jsonl"
        result = run_camrec("image", str(folder), "--json", str(out), *mode)
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert sum(len(json.loads(line)["detections"]) for line in outputs[0].splitlines()) >= 6 * 4


def test_a_bad_model_file_is_the_workers_one_line_exit_2(clip, tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    lines = []
    for mode in (PROCESSES, THREADS):
        result = run_camrec("video", str(clip), "--model", str(broken), "--json", str(tmp_path / "o.jsonl"), *mode)
        lines.append(assert_one_error_line(result, 2, "broken.onnx: not a readable ONNX model"))
    assert lines[0] == lines[1]


def test_a_truncated_file_in_worker_processes_is_read_then_exit_3(clip, tmp_path):
    cut = tmp_path / "cut.avi"
    write_test_clip(tmp_path / "whole.avi", mnist_test_pool(MNIST_DIR), 60, seed=31)
    data = (tmp_path / "whole.avi").read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the AVI header still declares 60 frames
    out = tmp_path / "out.jsonl"
    assert_one_error_line(run_camrec("video", str(cut), "--json", str(out), *PROCESSES), 3, "cut.avi: frames end at")
    frames = [json.loads(line)["frame"] for line in out.read_text().splitlines()]
    assert frames == list(range(len(frames))) and 20 <= len(frames) < 60


def children_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory, pool) -> Path:
    path = tmp_path_factory.mktemp("long") / "long.avi"
    write_test_clip(path, pool, 300, seed=9)
    return path


def start_long_run(long_clip: Path, out: Path, *options: str) -> tuple[subprocess.Popen, list[int]]:
    """`camrec video` on a 300-frame clip in worker processes, once 10 lines are written; and its workers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "camrec", "video", str(long_clip), "--json", str(out), *PROCESSES, *options],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CAMREC_MNIST_DIR": str(MNIST_DIR)},
        start_new_session=True,  # a process group of its own, as a command started from a terminal
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 10):
        time.sleep(0.05)
    return process, children_of(process.pid)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_ctrl_c_ends_the_run_and_its_workers(long_clip, tmp_path):
    out = tmp_path / "out.jsonl"
    process, workers = start_long_run(long_clip, out)
    assert len(workers) == 2
    os.killpg(process.pid, signal.SIGINT)  # as a terminal sends Ctrl-C: to the whole process group
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]  # no half-written line
    assert [r["frame"] for r in records] == list(range(len(records)))
    assert 10 <= len(records) < 300
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_a_worker_killed_mid_run_is_one_line_exit_1_and_the_frames_before_stay(long_clip, tmp_path):
    out = tmp_path / "out.jsonl"
    process, workers = start_long_run(long_clip, out)
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=30)
    lines = stderr.strip().splitlines()
    assert process.returncode == 1 and len(lines) == 1, stderr
    assert lines[0].startswith("camrec: error: worker process: ended unexpectedly"), lines[0]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(len(records))) and len(records) >= 10
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(workers[1]):
        time.sleep(0.05)
    assert not alive(workers[1])


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_a_worker_that_answers_nothing_is_stopped_and_the_run_ends_in_one_line(long_clip, tmp_path):
    """A worker stopped mid-run (SIGSTOP: as one stuck in a library) would hold the run for ever; after
    `process.stall_s` without an answer it is killed, and the run ends as when a worker dies."""
    out = tmp_path / "out.jsonl"
    process, workers = start_long_run(long_clip, out, "--set", "process.stall_s=3")
    os.kill(workers[0], signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(workers[0], signal.SIGKILL)
    waited = time.monotonic() - stopped
    lines = stderr.strip().splitlines()
    assert process.returncode == 1 and len(lines) == 1, stderr
    assert lines[0].startswith("camrec: error: worker process: answered nothing for 3 s and was stopped"), lines[0]
    assert waited >= 2.5, "the run ended before the worker had stalled for process.stall_s"
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(len(records))) and len(records) >= 10
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)


@pytest.mark.parametrize(
    ("counts", "stride", "max_frames", "parallel", "expected"),
    [
        ([60], 1, None, "auto", False),  # a short clip: starting workers would cost more than they win
        ([60, 60], 1, None, "auto", True),  # two clips of 60: 120 frames in all
        ([300], 4, None, "auto", False),  # 75 frames read
        ([None], 1, None, "auto", True),  # a count the file does not declare
        ([None], 1, 10, "auto", False),
        ([5000], 1, 50, "auto", False),
        ([60], 1, None, "processes", True),
        ([5000], 1, None, "threads", False),
    ],
)
def test_auto_starts_worker_processes_for_100_frames_or_more(counts, stride, max_frames, parallel, expected):
    from argparse import Namespace
    from types import SimpleNamespace

    from camrec.files import in_processes

    args = Namespace(stride=stride, max_frames=max_frames, show=False)
    sources = [SimpleNamespace(info=SimpleNamespace(frame_count=count)) for count in counts]
    assert in_processes(args, load_config(overrides=[f"process.parallel={parallel}"]), sources) is expected


@pytest.mark.parametrize("debug", [False, True])
def test_a_frame_a_worker_fails_on_is_one_error_and_its_traceback_only_with_debug(capfd, debug):
    from camrec.workers import WorkerError

    empty = np.zeros((0, 5), np.uint8)  # no source yields one; OpenCV refuses it
    with (
        WorkerPool(load_config(), shipped_model_path(), 1, debug=debug) as workers,
        pytest.raises(WorkerError, match=r"worker process: error: .*empty"),
    ):
        list(workers.processed(frames_of([empty])))
    traceback = capfd.readouterr().err
    assert ("Traceback" in traceback and "GaussianBlur" in traceback) is debug, traceback
