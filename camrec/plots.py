"""Training plots for models/: learning curves and the confusion matrix (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: training runs on machines without a display
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: dict[str, list[float]], path: Path) -> None:
    """Loss and accuracy per epoch, training and validation, side by side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy")):
        for prefix in ("", "val_"):
            values = history.get(prefix + metric)
            if values:
                axis.plot(range(1, len(values) + 1), values, label=(prefix or "train_") + metric)
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_confusion(confusion: np.ndarray, path: Path) -> None:
    """The 10x10 MNIST test confusion matrix, counts in each cell."""
    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(6, 6))
    axis.imshow(np.log1p(confusion), cmap="Blues")
    for (row, col), count in np.ndenumerate(confusion):
        axis.text(col, row, str(count), ha="center", va="center", fontsize=7)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_xticks(range(10))
    axis.set_yticks(range(10))
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
