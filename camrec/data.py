"""MNIST from a local directory of the four standard gzipped IDX files, checked before use.

The directory comes from `--data-dir`, else the `CAMREC_MNIST_DIR` environment variable, else the
config's `data.mnist_dir`. Nothing is downloaded unless the caller asks for the Keras fallback.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from camrec.errors import DataError

ENV_VAR = "CAMREC_MNIST_DIR"
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
MNIST_SIZE = 28
SPLITS = {"train": 60_000, "test": 10_000}
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# SHA-256 of the uncompressed files as published; a SHA256SUMS.uncompressed beside the data wins.
KNOWN_SHA256 = {
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
}
WHERE_TO_PUT = "put the four MNIST .gz files there, or pass --data-dir / set CAMREC_MNIST_DIR"


def resolve_data_dir(cli_dir: str | os.PathLike | None, config_dir: str | os.PathLike | None) -> Path:
    """The MNIST directory: `--data-dir`, else `$CAMREC_MNIST_DIR`, else the config's value."""
    chosen = cli_dir or os.environ.get(ENV_VAR) or config_dir
    if not chosen:
        raise DataError("MNIST", "no data directory given", WHERE_TO_PUT)
    return Path(chosen).expanduser()


def load_split(data_dir: str | os.PathLike, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split, checking magic numbers, counts, sizes and checksums.

    Returns:
        images: (N, 28, 28) uint8, white ink on black; labels: (N,) uint8, 0-9.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(str(data_dir), "no such directory", WHERE_TO_PUT)
    sums = _expected_sums(data_dir)
    image_name, label_name = FILES[split]
    images = _read_idx(data_dir, image_name, IMAGE_MAGIC, sums)
    labels = _read_idx(data_dir, label_name, LABEL_MAGIC, sums)
    expected = SPLITS[split]
    if images.shape != (expected, MNIST_SIZE, MNIST_SIZE):
        raise DataError(str(data_dir / image_name), f"expected {expected}x28x28 images, got {images.shape}")
    if labels.shape != (expected,) or labels.max() > 9:
        raise DataError(str(data_dir / label_name), f"expected {expected} labels 0-9, got {labels.shape}")
    return images, labels


def load_mnist(data_dir: str | os.PathLike) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Both splits, ((x_train, y_train), (x_test, y_test)), like `keras.datasets.mnist.load_data()`."""
    return load_split(data_dir, "train"), load_split(data_dir, "test")


def load_mnist_or_download(data_dir: str | os.PathLike | None) -> tuple:
    """The local copy when there is one; otherwise the Keras download (needs the internet)."""
    if data_dir is not None and Path(data_dir).is_dir():
        return load_mnist(data_dir)
    try:
        import keras  # deferred: only training falls back to a download

        return keras.datasets.mnist.load_data()
    except Exception as exc:  # offline: say where the files belong instead of a network traceback
        raise DataError(str(data_dir or "MNIST"), "no local copy and the download failed", WHERE_TO_PUT) from exc


def _expected_sums(data_dir: Path) -> dict[str, str]:
    sums = dict(KNOWN_SHA256)
    listing = data_dir / "SHA256SUMS.uncompressed"
    if listing.is_file():
        for line in listing.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _read_idx(data_dir: Path, name: str, magic: int, sums: dict[str, str]) -> np.ndarray:
    path = data_dir / f"{name}.gz"
    if not path.is_file():
        plain = data_dir / name
        if not plain.is_file():
            raise DataError(str(path), "missing", WHERE_TO_PUT)
        path = plain
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(str(path), f"not a readable gzip file ({exc})") from exc
    if name in sums and hashlib.sha256(raw).hexdigest() != sums[name]:
        raise DataError(str(path), "SHA-256 does not match the published MNIST file")
    return _parse_idx(raw, magic, str(path))


def _parse_idx(raw: bytes, magic: int, where: str) -> np.ndarray:
    if len(raw) < 8:
        raise DataError(where, "too short for an IDX header")
    found = int.from_bytes(raw[0:4], "big")
    if found != magic:
        raise DataError(where, f"bad IDX magic number {found} (expected {magic})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(dims)):
        raise DataError(where, f"size {len(raw)} bytes does not match its header {dims}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
