"""`make run` with no display: the shipped demo clip, processed into a fresh runs/<date-time>/."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO


def test_main_job_without_a_display_processes_the_demo_clip(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "camrec.start"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "no display" in result.stderr.splitlines()[0]
    (run_dir,) = (tmp_path / "runs").iterdir()
    records = [json.loads(line) for line in (run_dir / "digits.jsonl").read_text().splitlines()]
    assert len(records) == 120
    assert sum(len(r["detections"]) == 8 for r in records) >= 100  # the demo sheet holds 8 digits
    assert (run_dir / "digits_annotated.mp4").stat().st_size > 10_000
    assert (REPO / "demo" / "digits.mp4").stat().st_size < 2_000_000
