"""Which fast runtime ships: onnxruntime or LiteRT, measured on the same weights.

    python benchmarks/runtimes.py [--model models/digits.keras]

Exports the Keras model to LiteRT in a temporary folder (the ONNX export ships beside it), then times
each runtime's start (fresh process: import + load) and a batch of 8 crops on one thread (median of 200).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import exit_with, publish  # noqa: E402

START = {
    "onnx": "import onnxruntime as o; s=o.SessionOptions(); s.intra_op_num_threads=1; "
    "o.InferenceSession({path!r}, s, providers=['CPUExecutionProvider'])",
    "litert": "from ai_edge_litert.interpreter import Interpreter; i=Interpreter({path!r}, num_threads=1); "
    "i.allocate_tensors()",
}
BATCH = """
import time, numpy as np
x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
{setup}
times = []
for _ in range(200):
    t = time.perf_counter(); run(x); times.append(time.perf_counter() - t)
print(sorted(times)[100] * 1000)
"""
SETUP = {
    "onnx": "import onnxruntime as o; s=o.SessionOptions(); s.intra_op_num_threads=1; "
    "q=o.InferenceSession({path!r}, s, providers=['CPUExecutionProvider']); n=q.get_inputs()[0].name\n"
    "run = lambda x: q.run(None, {{n: x}})",
    "litert": "from ai_edge_litert.interpreter import Interpreter; i=Interpreter({path!r}, num_threads=1)\n"
    "d=i.get_input_details()[0]; i.resize_tensor_input(d['index'], [8, 28, 28, 1]); i.allocate_tensors()\n"
    "o=i.get_output_details()[0]['index']\n"
    "def run(x):\n    i.set_tensor(d['index'], x); i.invoke(); return i.get_tensor(o)",
}


def timed(code: str) -> float:
    import time

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "models" / "digits.keras"))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        import keras

        model = keras.saving.load_model(args.model, compile=False)
        paths = {"onnx": str(Path(args.model).with_suffix(".onnx")), "litert": str(Path(folder) / "digits.tflite")}
        model.export(paths["litert"], format="litert")
        report = {}
        for name, path in paths.items():
            starts = [timed(START[name].format(path=path)) for _ in range(5)]
            batch = subprocess.run(
                [sys.executable, "-c", BATCH.format(setup=SETUP[name].format(path=path))],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            report[name] = {
                "start_s": round(statistics.median(starts), 3),
                "batch8_ms": round(float(batch), 3),
                "bytes": Path(path).stat().st_size,
            }
    publish(report, args.json)
    return 0


if __name__ == "__main__":
    exit_with(main)
