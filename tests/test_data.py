"""The MNIST loader on the real IDX files and on damaged copies; the benchmarks without any."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from camrec.data import ENV_VAR, FILES, load_split, resolve_data_dir
from camrec.errors import DataError
from tests.conftest import REPO


def test_loads_both_real_splits_with_their_shapes(mnist_dir):
    x_train, y_train = load_split(mnist_dir, "train")
    x_test, y_test = load_split(mnist_dir, "test")
    assert x_train.shape == (60_000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10_000, 28, 28)
    assert sorted(np.unique(y_test)) == list(range(10))
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first training labels


def _copy_test_split(mnist_dir, tmp_path):
    for name in FILES["test"]:
        shutil.copy(mnist_dir / f"{name}.gz", tmp_path / f"{name}.gz")
    return tmp_path


def _rewrite(path, raw: bytes, listing_dir=None):
    path.write_bytes(gzip.compress(raw))
    if listing_dir is not None:  # a checksum listing that matches, so that the deeper checks are reached
        name = path.name[:-3]
        (listing_dir / "SHA256SUMS.uncompressed").write_text(f"{hashlib.sha256(raw).hexdigest()}  {name}\n")


def test_a_truncated_gzip_is_a_data_error(mnist_dir, tmp_path):
    data_dir = _copy_test_split(mnist_dir, tmp_path)
    path = data_dir / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match="gzip"):
        load_split(data_dir, "test")


def test_a_changed_byte_fails_the_checksum(mnist_dir, tmp_path):
    data_dir = _copy_test_split(mnist_dir, tmp_path)
    path = data_dir / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    _rewrite(path, bytes(raw))
    with pytest.raises(DataError, match="SHA-256"):
        load_split(data_dir, "test")


def test_a_bad_magic_number_is_named(mnist_dir, tmp_path):
    data_dir = _copy_test_split(mnist_dir, tmp_path)
    path = data_dir / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[3] = 1
    _rewrite(path, bytes(raw), listing_dir=data_dir)
    with pytest.raises(DataError, match="magic"):
        load_split(data_dir, "test")


def test_a_short_file_does_not_match_its_header(mnist_dir, tmp_path):
    data_dir = _copy_test_split(mnist_dir, tmp_path)
    path = data_dir / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())[:-784]
    _rewrite(path, raw, listing_dir=data_dir)
    with pytest.raises(DataError, match="does not match its header"):
        load_split(data_dir, "test")


def test_a_missing_file_says_where_to_put_the_files(tmp_path):
    with pytest.raises(DataError, match="CAMREC_MNIST_DIR"):
        load_split(tmp_path, "test")


def test_directory_lookup_order(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "cli", "cfg") == tmp_path / "cli"
    assert resolve_data_dir(None, "cfg") == tmp_path / "env"
    monkeypatch.delenv(ENV_VAR)
    assert str(resolve_data_dir(None, "cfg")) == "cfg"


@pytest.mark.parametrize("script", ["accuracy.py", "throughput.py", "stills.py", "make_demo.py"])
def test_a_benchmark_without_mnist_says_so_in_one_line(script, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("CAMREC_MNIST_DIR", "CAMREC_CONFIG")}
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines() == [
        f"{script}: error: MNIST: no data directory given"
        " (put the four MNIST .gz files there, or pass --data-dir / set CAMREC_MNIST_DIR)"
    ]
