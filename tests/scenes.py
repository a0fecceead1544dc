"""Generated test material: scenes, clips and images made from MNIST test digits, deterministically."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from camrec.data import load_split
from camrec.synth import clip_scenes, make_scene, write_clip

_pool = {}


def mnist_test_pool(mnist_dir: Path):
    if "test" not in _pool:
        _pool["test"] = load_split(mnist_dir, "test")
    return _pool["test"]


def write_scene_images(folder: Path, pool, count: int, seed: int = 500) -> list:
    """`count` moderate scenes as PNG files; returns their Scenes (truth)."""
    folder.mkdir(parents=True, exist_ok=True)
    scenes = []
    for i in range(count):
        scene = make_scene(seed + i, pool, "moderate")
        cv2.imwrite(str(folder / f"scene{i:02d}.png"), scene.image)
        scenes.append(scene)
    return scenes


def write_test_clip(path: Path, pool, frames: int, seed: int = 77, n_digits: int | None = None) -> list:
    return write_clip(path, clip_scenes(seed, pool, frames, n_digits))


def write_blank_page(path: Path) -> Path:
    """A small image of bare paper: an input that reads as no digits, for tests of everything around reading."""
    cv2.imwrite(str(path), np.full((48, 64, 3), 235, np.uint8))
    return path
