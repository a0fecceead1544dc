"""What `make run` starts: the live webcam recogniser when there is a display (`camrec webcam` itself
falls back to the drawing window, saying so, when no camera opens); with no display, the shipped demo
clip processed into a fresh runs/<date-time>/ (annotated video plus JSON Lines)."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

from camrec.cli import main as camrec

DEMO_CLIP = Path(__file__).resolve().parent.parent / "demo" / "digits.mp4"


def main() -> int:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return camrec(["webcam"])
    run_dir = Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"camrec: no display: reading the demo clip {DEMO_CLIP.name} into {run_dir}/", file=sys.stderr)
    return camrec(
        [
            "video",
            str(DEMO_CLIP),
            "--json",
            str(run_dir / "digits.jsonl"),
            "--save",
            str(run_dir / "digits_annotated.mp4"),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
