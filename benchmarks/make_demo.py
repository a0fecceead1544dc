"""Write the shipped demo clip, demo/digits.mp4: 4 s of a sheet of MNIST test digits moving (H.264).

python benchmarks/make_demo.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import exit_with  # noqa: E402
from camrec.config import load_config  # noqa: E402
from camrec.data import load_split, resolve_data_dir  # noqa: E402
from camrec.synth import clip_scenes, write_clip  # noqa: E402


def main() -> int:
    pool = load_split(resolve_data_dir(None, load_config().data.mnist_dir), "test")
    target = ROOT / "demo" / "digits.mp4"
    target.parent.mkdir(exist_ok=True)
    write_clip(target, clip_scenes(2024, pool, 120, n_digits=8), crf=27)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    exit_with(main)
