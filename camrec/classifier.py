"""Batch classification of MNIST-form crops with the shipped CNN, without TensorFlow where possible.

`Classifier.load(path)` picks the runtime: an `.onnx` file (or the `.onnx` export beside a `.keras` file)
runs on onnxruntime, which starts in about 0.1 s; a `.keras` file with no export beside it loads Keras,
which costs seconds of `import tensorflow`. Either way `predict` takes the whole frame's crops at once.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from camrec.cores import beside, two_cores
from camrec.errors import ModelError
from camrec.native import stderr_captured
from camrec.normalize import MNIST_SIZE

log = logging.getLogger(__name__)

MODEL_NAME = "digits.keras"
HOW_TO_GET_ONE = "train one with: python train.py, or reinstall camrec"
PACKAGE_DIR = Path(__file__).resolve().parent
# From this many crops a batch runs in two halves on two cores. Measured with the shipped int8 model:
# 2 crops 0.31 ms whole, 0.32 split; 3 crops 0.48 / 0.37; 9 crops 1.08 / 0.71.
SPLIT_FROM = 3


def shipped_model_path() -> Path:
    """The model that ships with camrec: inside the installed package, else `models/` of the checkout."""
    for folder in (PACKAGE_DIR / "models", PACKAGE_DIR.parent / "models"):
        if (folder / MODEL_NAME).is_file() or (folder / "digits.onnx").is_file():
            return folder / MODEL_NAME
    return PACKAGE_DIR.parent / "models" / MODEL_NAME


def resolve_model_path(cli_path: str | os.PathLike | None, config_path: str | None) -> Path:
    """`--model`, else the config's `model.path`, else the shipped model."""
    chosen = cli_path or config_path
    return Path(chosen).expanduser() if chosen else shipped_model_path()


class Classifier:
    """Digit probabilities and a not-a-digit score for a batch of crops: a frame's crops in one call."""

    def __init__(self, run, path: Path, runtime: str) -> None:
        self._run = run
        self.path = path
        self.runtime = runtime

    @classmethod
    def load(cls, path: str | os.PathLike, runtime: str = "auto", threads: int = 1) -> Classifier:
        """Open a `.keras` or `.onnx` model; `runtime` is auto, onnx or keras. Raises ModelError."""
        path = Path(path)
        onnx_path = path if path.suffix == ".onnx" else path.with_suffix(".onnx")
        if runtime == "onnx" or (runtime == "auto" and onnx_path.is_file()):
            return cls(_load_onnx(onnx_path, threads), onnx_path, "onnx")
        _check_keras_file(path)
        if runtime == "auto":
            log.warning("%s: no %s beside it; loading Keras instead (slow to start)", path, onnx_path.name)
        return cls(_load_keras(path), path, "keras")

    def predict(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classify crops in one call.

        Args:
            crops: (N, 28, 28, 1) float32 in [0, 1], white ink on black (`camrec.normalize`).
        Returns:
            digits: (N, 10) float32, probabilities of the ten digits (summing to 1);
            not_a_digit: (N,) float32 in [0, 1], how surely the crop is no digit at all.
        """
        if crops.dtype != np.float32 or crops.ndim != 4 or crops.shape[1:] != (MNIST_SIZE, MNIST_SIZE, 1):
            raise ValueError(f"crops must be (N, 28, 28, 1) float32, got {crops.shape} {crops.dtype}")
        if len(crops) == 0:
            return np.zeros((0, 10), np.float32), np.zeros(0, np.float32)
        outputs = np.asarray(self._run(crops), dtype=np.float32)
        if outputs.shape[1] == 10:  # a model without the not-a-digit class
            return outputs, np.zeros(len(outputs), np.float32)
        digits = outputs[:, :10]
        return digits / np.maximum(digits.sum(axis=1, keepdims=True), 1e-12), outputs[:, 10]


def _check_exists(path: Path) -> None:
    if not path.is_file():
        raise ModelError(str(path), "no such model file", HOW_TO_GET_ONE)


def _load_onnx(path: Path, threads: int):
    _check_exists(path)
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for every kind of bad file
        raise ModelError(str(path), "not a readable ONNX model", HOW_TO_GET_ONE) from exc
    inputs, outputs = session.get_inputs(), session.get_outputs()
    _check_shapes(path, inputs[0].shape[1:], outputs[0].shape[-1])
    name = inputs[0].name

    def run(crops: np.ndarray) -> np.ndarray:
        return session.run(None, {name: crops})[0]

    # On more onnxruntime threads, onnxruntime shares the work out itself.
    return run if threads > 1 else lambda crops: _on_two_cores(run, crops)


def _on_two_cores(run, crops: np.ndarray) -> np.ndarray:
    """One batch on both cores when this process may use two: the helper thread runs the second half
    while this thread runs the first. A crop's result does not depend on the other crops of its batch, so
    the outputs are the same as those of one run (tested)."""
    if len(crops) < SPLIT_FROM or not two_cores():
        return run(crops)
    half = (len(crops) + 1) // 2
    second = beside(run, crops[half:])
    return np.concatenate([run(crops[:half]), second.result()])


def _check_keras_file(path: Path) -> None:
    """Cheap checks before the slow Keras import: the file exists and is a Keras 3 archive."""
    import zipfile

    _check_exists(path)
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise ModelError(str(path), "not a Keras model archive (no config.json)", HOW_TO_GET_ONE)
    except (zipfile.BadZipFile, OSError):
        raise ModelError(str(path), "not a readable Keras model", HOW_TO_GET_ONE) from None


def _load_keras(path: Path):
    with stderr_captured():  # TensorFlow's C++ logging, written before any Python setting can stop it
        import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # corrupt zip, wrong format, unsafe lambda: all mean "get a good model"
        raise ModelError(str(path), "not a readable Keras model", HOW_TO_GET_ONE) from exc
    _check_shapes(path, list(model.input_shape[1:]), model.output_shape[-1])
    return lambda crops: model(crops, training=False).numpy()


def _check_shapes(path: Path, input_shape: list, classes: int) -> None:
    if list(input_shape) != [MNIST_SIZE, MNIST_SIZE, 1] or classes not in (10, 11):
        raise ModelError(
            str(path), f"expects input {list(input_shape)} and {classes} classes, not 28x28x1 and 10 or 11"
        )
