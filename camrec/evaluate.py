"""`camrec eval`: the model's accuracy on the MNIST test set, through the same classifier as live use."""

from __future__ import annotations

import time

import numpy as np

from camrec.classifier import Classifier, resolve_model_path
from camrec.config import Config
from camrec.data import load_split, resolve_data_dir
from camrec.normalize import to_model_input

BATCH = 1000


def evaluate_mnist(config: Config, model_path: str | None = None, data_dir: str | None = None) -> dict:
    """Accuracy (argmax over the ten digits), n, and how many test digits the model calls not-a-digit."""
    classifier = Classifier.load(
        resolve_model_path(model_path, config.model.path), config.model.runtime, threads=max(config.model.threads, 2)
    )
    images, labels = load_split(resolve_data_dir(data_dir, config.data.mnist_dir), "test")
    started = time.perf_counter()
    digit_probabilities, not_a_digit = predict_all(classifier, to_model_input(images))
    correct = digit_probabilities.argmax(axis=1) == labels
    return {
        "accuracy": round(float(correct.mean()), 6),
        "n": len(labels),
        "rejected": int((not_a_digit > config.classify.max_not_a_digit).sum()),
        "model": str(classifier.path),
        "runtime": classifier.runtime,
        "seconds": round(time.perf_counter() - started, 3),
    }


def predict_all(classifier: Classifier, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classify a large array in batches (one call per batch)."""
    parts = [classifier.predict(crops[i : i + BATCH]) for i in range(0, len(crops), BATCH)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def format_eval(result: dict) -> str:
    return (
        f"accuracy {result['accuracy']:.2%} on {result['n']} MNIST test digits, {result['rejected']} rejected "
        f"as not-a-digit ({result['model']}, {result['runtime']})"
    )
