"""`pip install .` into a fresh virtual environment works outside the repo, with no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import MNIST_DIR, REPO


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_classifies_outside_the_repo(tmp_path):
    wheels, venv, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
        check=True,
        timeout=300,
    )
    wheel = next(wheels.glob("camrec-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = venv / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", str(wheel)], check=True, timeout=600)
    listed = subprocess.run([str(pip), "list"], capture_output=True, text=True, check=True).stdout.lower()
    assert "tensorflow" not in listed and "onnxruntime" in listed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CAMREC_CONFIG")}

    def installed_camrec(*args: str) -> subprocess.CompletedProcess:
        command = [str(venv / "bin" / "camrec"), *args]
        return subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)

    result = installed_camrec("eval", "--data-dir", str(MNIST_DIR), "--json", "-")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["accuracy"] > 0.99
    assert str(venv) in record["model"]  # the model inside the installed package, not the checkout's
    page = elsewhere / "photo.png"
    page_text = np.full((240, 480), 235, np.uint8)
    cv2.putText(page_text, "4 7", (80, 170), cv2.FONT_HERSHEY_SIMPLEX, 4, 20, 10, cv2.LINE_AA)
    cv2.imwrite(str(page), page_text)
    result = installed_camrec("image", "photo.png", "--json", "-")
    assert result.returncode == 0, result.stderr
    assert [d["digit"] for d in json.loads(result.stdout)["detections"]] == [4, 7]
