"""Shared fixtures: the MNIST directory, a camrec runner in a fresh process, a tiny trained model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("CAMREC_MNIST_DIR") or REPO.parent / "shared" / "data" / "mnist")


def run_camrec(
    *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """`python -m camrec ARGS` in a fresh process, as a user would run it; text output captured."""
    full_env = {**os.environ, "CAMREC_MNIST_DIR": str(MNIST_DIR), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "camrec", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def assert_one_error_line(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """The contract's failure shape: exit `code`, exactly one stderr line `camrec: error: ...`."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("camrec: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    assert (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(), f"MNIST not found at {MNIST_DIR}"
    return MNIST_DIR


@pytest.fixture(scope="session")
def quick_model_dir(tmp_path_factory, mnist_dir) -> Path:
    """A model trained by `train.py --quick` (about 30 s): the training pipeline end to end."""
    out = tmp_path_factory.mktemp("quick_model")
    result = subprocess.run(
        [sys.executable, str(REPO / "train.py"), "--quick", "--out", str(out), "--data-dir", str(mnist_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def xvfb_display():
    """A real X server (Xvfb) for the window tests; yields the DISPLAY value.

    Xvfb picks a free display number itself and says which (`-displayfd`): it takes the number's lock file
    as it starts, so two test sessions started at once cannot pick the same one, as they could when the
    free number was looked for here first."""
    import select
    import shutil
    import time

    assert shutil.which("Xvfb"), "Xvfb is missing: `make test` installs it (apt-get install xvfb)"
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=[write_end],
    )
    os.close(write_end)
    # It writes the number, then a newline, once it listens (an Xvfb that fails closes the pipe unwritten).
    # The whole line is read before the pipe closes: closed after the number alone, Xvfb died writing the newline.
    written, deadline = b"", time.monotonic() + 10
    try:
        while not written.endswith(b"\n") and select.select([read_end], [], [], max(0, deadline - time.monotonic()))[0]:
            more = os.read(read_end, 16)
            if not more:
                break
            written += more
    finally:
        os.close(read_end)
    number = written.decode().strip()
    if not number.isdigit():
        server.kill()
        server.wait()
        pytest.fail("Xvfb did not start within 10 s")
    display = f":{number}"
    yield display
    server.terminate()
    server.wait(timeout=10)
