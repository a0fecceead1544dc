"""Training end to end (--quick), the shipped model's accuracy, and the two runtimes agreeing."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from camrec.classifier import Classifier, shipped_model_path
from camrec.data import load_split
from camrec.evaluate import predict_all
from camrec.nondigits import HELD_OUT_KINDS, make_nondigits
from camrec.normalize import to_model_input
from tests.conftest import assert_one_error_line, run_camrec


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):
    images, labels = load_split(mnist_dir, "test")
    return to_model_input(images), labels


def test_quick_training_writes_every_artefact_and_learns(quick_model_dir, mnist_test):
    for name in ("digits.keras", "digits.onnx", "metrics.json", "training_curves.png", "confusion_matrix.png"):
        assert (quick_model_dir / name).stat().st_size > 0, name
    metrics = json.loads((quick_model_dir / "metrics.json").read_text())
    assert metrics["quick"] is True and metrics["epochs"] == 1
    assert len(metrics["confusion_matrix"]) == 10
    crops, labels = mnist_test
    digits, _ = Classifier.load(quick_model_dir / "digits.onnx").predict(crops[:2000])
    assert (digits.argmax(axis=1) == labels[:2000]).mean() > 0.80


def test_shipped_model_holds_the_accuracy_in_its_metrics(mnist_test):
    metrics = json.loads((shipped_model_path().parent / "metrics.json").read_text())
    classifier = Classifier.load(shipped_model_path())
    assert classifier.runtime == "onnx"  # the fast export ships beside the Keras file
    crops, labels = mnist_test
    digits, not_a_digit = predict_all(classifier, crops)
    accuracy = (digits.argmax(axis=1) == labels).mean()
    assert accuracy >= metrics["test_accuracy"] - 0.001  # regression floor: 0.1 point under the record
    assert (not_a_digit > 0.2).mean() < 0.01  # real digits are seldom called not-a-digit


def test_shipped_model_rejects_most_never_seen_nondigits():
    crops = to_model_input(make_nondigits(300, seed=5, kinds=HELD_OUT_KINDS))
    _, not_a_digit = Classifier.load(shipped_model_path()).predict(crops)
    assert (not_a_digit > 0.5).mean() > 0.6


def test_a_batch_split_over_two_cores_gives_the_same_outputs(mnist_test):
    """With OpenCV on two threads, a batch runs in two halves at once; with one, in one run."""
    digits, _ = mnist_test
    crops = np.concatenate([digits[:25], to_model_input(make_nondigits(16, seed=3))])
    classifier = Classifier.load(shipped_model_path())
    previous = cv2.getNumThreads()
    try:
        readings = []
        for threads in (2, 1):
            cv2.setNumThreads(threads)
            readings.append([classifier.predict(crops[:size]) for size in (1, 2, 3, 9, 41)])
    finally:
        cv2.setNumThreads(previous)
    for (split_digits, split_scores), (whole_digits, whole_scores) in zip(*readings):
        assert np.array_equal(split_digits, whole_digits) and np.array_equal(split_scores, whole_scores)


def test_onnx_and_keras_runtimes_agree(mnist_test):
    crops, _ = mnist_test
    fast = Classifier.load(shipped_model_path(), runtime="onnx")
    slow = Classifier.load(shipped_model_path(), runtime="keras")
    assert slow.runtime == "keras"
    agree = (predict_all(fast, crops)[0].argmax(axis=1) == predict_all(slow, crops)[0].argmax(axis=1)).mean()
    assert agree >= 0.999


def test_predict_checks_the_input_contract():
    classifier = Classifier.load(shipped_model_path())
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\) float32"):
        classifier.predict(np.zeros((2, 28, 28), np.float32))
    digits, not_a_digit = classifier.predict(np.zeros((0, 28, 28, 1), np.float32))
    assert digits.shape == (0, 10) and not_a_digit.shape == (0,)


def test_eval_json_reports_accuracy_n_and_rejected():
    result = run_camrec("eval", "--json", "-")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["n"] == 10_000 and record["accuracy"] > 0.99 and isinstance(record["rejected"], int)


def test_missing_model_is_one_line_saying_how_to_get_one(tmp_path):
    result = run_camrec("eval", "--model", str(tmp_path / "none.keras"))
    assert_one_error_line(result, 2, "none.keras: no such model file", "python train.py")


@pytest.mark.parametrize("suffix", [".onnx", ".keras"])
def test_corrupt_model_is_one_line_and_exit_2(tmp_path, suffix):
    broken = tmp_path / f"broken{suffix}"
    broken.write_bytes(b"PK\x03\x04 not really a model")
    result = run_camrec("eval", "--model", str(broken), "--set", "model.runtime=auto")
    assert_one_error_line(result, 2, f"broken{suffix}: not a readable", "python train.py")
