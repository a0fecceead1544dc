"""Train camrec's CNN on MNIST (plus generated not-a-digit crops) and write the shipped model files.

    python train.py                      # the shipped recipe (about 2 hours on two slow cores)
    python train.py --quick --out /tmp/m # 10,000 samples, one epoch, no augmentation, no fine-tune (tests)
    python train.py --start-from models/digits.keras   # only the camera fine-tune, on a trained model

Two stages. First the CNN learns MNIST digits (augmented for camera ink) and generated not-a-digit
crops. Then it is fine-tuned on what camrec's own pipeline cuts out of generated camera-like scenes
made from MNIST *train* digits: digit crops as the detector frames them, and the detector's mistakes
(scribbles, crosses, letters, a finger's edge, a worksheet's printed words) as not-a-digit.

Writes OUT/digits.keras, OUT/digits.onnx (the fast runtime's copy, quantised to int8), OUT/metrics.json
and OUT/training_curves.png, OUT/confusion_matrix.png. Everything is chosen on a validation split held
out of the training set; the test set is only measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import keras
import numpy as np
import tensorflow as tf
from keras import layers

from camrec import __version__
from camrec.classifier import Classifier
from camrec.config import DEFAULT_CONFIG
from camrec.data import load_mnist_or_download, resolve_data_dir
from camrec.detect import find_digit_boxes
from camrec.detections import iou_matrix
from camrec.errors import CamrecError
from camrec.model import NOT_A_DIGIT, NUM_DIGITS, build_model
from camrec.nondigits import HELD_OUT_KINDS, make_nondigits
from camrec.normalize import fit_mnist, normalize_crops, to_model_input
from camrec.pipeline import to_gray
from camrec.synth import Scene, make_scene, make_text_scene, with_flag

VALIDATION_SIZE = 6_000
SPLIT_SEED = 0  # the validation split is the same for every training seed
NONDIGIT_SHARE = 0.15  # not-a-digit crops as a share of the digit samples
BATCH_SIZE = 128
FINETUNE_SCENES = {"train": 3000, "val": 240}  # scenes rendered from the train / validation digits
FINETUNE_TEXT_SCENES = {"train": 800, "val": 60}  # more, with a worksheet's printed text (`make_text_scene`)
TEXT_OFFSET = 5_000_000  # their seeds: far from the other scenes'
EVEN_STROKES = {"train": 4000, "val": 400}  # digits redrawn with an even pen (`even_strokes`)
FLAGGED_ONES = {"train": 1500, "val": 150}  # MNIST 1s with a flag added at the top (`flagged_ones`)
FINETUNE_EPOCHS = 4
FINETUNE_MNIST = 30_000  # MNIST samples mixed in so that the fine-tune does not forget plain digits


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--data-dir", help="MNIST IDX directory (else $CAMREC_MNIST_DIR, else config)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "models"), help="output directory")
    parser.add_argument("--quick", action="store_true", help="10,000 samples, 1 epoch, no augmentation")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--no-finetune", action="store_true", help="skip the camera fine-tune stage")
    parser.add_argument("--start-from", metavar="MODEL", help="fine-tune this .keras model instead of training anew")
    parser.add_argument(
        "--finetune-rate", type=float, default=2e-4, help="the camera fine-tune's learning rate (default 2e-4)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 1
    return args


def load_data(args: argparse.Namespace) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train/validation/test arrays in the model's input form, with not-a-digit crops mixed in."""
    data_dir = resolve_data_dir(args.data_dir, DEFAULT_CONFIG.data.mnist_dir)
    (x_train, y_train), (x_test, y_test) = load_mnist_or_download(data_dir)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x_train))
    val_idx, train_idx = order[:VALIDATION_SIZE], order[VALIDATION_SIZE:]
    if args.quick:
        train_idx = train_idx[:10_000]
    splits = {
        "train": (x_train[train_idx], y_train[train_idx]),
        "val": (x_train[val_idx], y_train[val_idx]),
        "test": (x_test, y_test),
    }
    splits["train_raw"], splits["val_raw"] = splits["train"], splits["val"]  # uint8 digits for scenes
    for offset, name in enumerate(("train", "val")):
        images, labels = splits[name]
        junk = make_nondigits(int(len(images) * NONDIGIT_SHARE), seed=1000 * args.seed + offset)
        splits[name] = (
            np.concatenate([to_model_input(images), to_model_input(junk)]),
            np.concatenate([labels.astype(np.int64), np.full(len(junk), NOT_A_DIGIT, np.int64)]),
        )
    splits["test"] = (to_model_input(x_test), y_test.astype(np.int64))
    splits["held_out_nondigits"] = (to_model_input(make_nondigits(1000, 77, HELD_OUT_KINDS)), None)
    return splits


def make_augmenter():
    """Geometric jitter plus what a camera does to ink: thicker or thinner strokes, blur, noise, faint ink."""
    geometric = keras.Sequential(
        [
            layers.RandomRotation(0.035, fill_mode="constant"),  # about +-12 degrees
            layers.RandomZoom(0.1, fill_mode="constant"),
            layers.RandomTranslation(0.08, 0.08, fill_mode="constant"),
        ]
    )
    blur_kernel = tf.constant(np.outer([1, 2, 1], [1, 2, 1]).reshape(3, 3, 1, 1) / 16.0, tf.float32)

    def augment(images, labels):
        images = geometric(images, training=True)
        pick = tf.random.uniform((tf.shape(images)[0], 1, 1, 1))
        thick = tf.nn.max_pool2d(images, 3, 1, "SAME")
        thin = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
        images = tf.where(pick < 0.2, thick, tf.where(pick > 0.92, thin, images))
        blurred = tf.nn.conv2d(images, blur_kernel, 1, "SAME")
        images = tf.where(tf.random.uniform(tf.shape(pick)) < 0.25, blurred, images)
        faint = tf.random.uniform(tf.shape(pick), 0.6, 1.0)
        images = tf.where(tf.random.uniform(tf.shape(pick)) < 0.2, images * faint, images)
        noise = tf.random.normal(tf.shape(images), stddev=0.04)
        images = tf.where(tf.random.uniform(tf.shape(pick)) < 0.3, images + noise, images)
        return tf.clip_by_value(images, 0.0, 1.0), labels

    return augment


def train(
    model, splits: dict, args: argparse.Namespace, learning_rate: float = 1e-3, keep_last: bool = False
) -> dict[str, list[float]]:
    """Adam with cosine decay; keeps the weights of the epoch with the best validation accuracy, or of the
    last epoch (`keep_last`), where the schedule has come to rest."""
    x_train, y_train = splits["train"]
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=args.seed)
    dataset = dataset.batch(BATCH_SIZE)
    if not args.quick:
        dataset = dataset.map(make_augmenter(), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    steps = args.epochs * int(np.ceil(len(x_train) / BATCH_SIZE))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.01)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])
    keep_best = KeepBest()
    history = model.fit(
        dataset,
        epochs=args.epochs,
        validation_data=splits["val"],
        callbacks=[keep_best],
        verbose=1 if sys.stdout.isatty() else 2,
    )
    if keep_last:
        return {**history.history, "best_epoch": args.epochs}
    model.set_weights(keep_best.best_weights)
    return {**history.history, "best_epoch": keep_best.best_epoch + 1}


class KeepBest(keras.callbacks.Callback):
    """Remembers the weights of the epoch with the best validation accuracy (ties: the later one)."""

    def __init__(self) -> None:
        super().__init__()
        self.best, self.best_epoch, self.best_weights = -1.0, -1, None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        accuracy = (logs or {}).get("val_accuracy", 0.0)
        if accuracy >= self.best:
            self.best, self.best_epoch, self.best_weights = accuracy, epoch, self.model.get_weights()


def camera_scenes(pool: tuple[np.ndarray, np.ndarray], seeds: range, text_seeds: range) -> Iterator[Scene]:
    """Moderate, hard and digit-free scenes in turn; then scenes with a worksheet's printed text, with
    digits and without."""
    for seed in seeds:
        yield make_scene(seed, pool, ("moderate", "hard", "empty")[seed % 3])
    for seed in text_seeds:
        yield make_text_scene(seed, pool, ("moderate", "empty")[seed % 2])


def camera_crops(scenes: Iterable[Scene]) -> tuple[np.ndarray, np.ndarray]:
    """What the pipeline cuts out of generated scenes, labelled: the digit for a box that matches a true
    digit (IoU >= 0.5), not-a-digit for one that touches none; boxes in between, and digit-shaped
    letters (O, l, S, Z, B, and in printed text `synth.TEXT_DIGIT_LIKE`), are left out as ambiguous.
    Scenes use only the training distractors."""
    crops, labels = [], []
    for scene in scenes:
        gray = to_gray(scene.image)
        found = find_digit_boxes(gray, DEFAULT_CONFIG.detect)
        if not len(found.boxes):
            continue
        digit_iou = iou_matrix(found.boxes, scene.boxes) if len(scene.boxes) else np.zeros((len(found.boxes), 1))
        letter_iou = iou_matrix(found.boxes, scene.lookalikes) if len(scene.lookalikes) else digit_iou * 0
        normalized = normalize_crops(gray, found)
        for i in range(len(found.boxes)):
            if digit_iou[i].max() >= 0.5:
                labels.append(int(scene.digits[digit_iou[i].argmax()]))
            elif digit_iou[i].max() < 0.1 and letter_iou[i].max() < 0.1:
                labels.append(NOT_A_DIGIT)
            else:
                continue
            crops.append(normalized[i])
    return np.array(crops, np.float32).reshape(-1, 28, 28, 1), np.array(labels, np.int64)


def even_strokes(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits redrawn with an even pen along the middle of their strokes, as a mouse or a marker draws
    them. Printed letters, whose strokes are as even, are not-a-digit; these keep that class from learning
    that an even stroke means print."""
    rng = np.random.default_rng(seed)
    picks = rng.permutation(len(images))[:count]
    crops = np.zeros((len(picks), 28, 28, 1), np.float32)
    for i, index in enumerate(picks):
        big = cv2.resize(images[index], (112, 112), interpolation=cv2.INTER_CUBIC)
        distance = cv2.distanceTransform((big > 110).astype(np.uint8), cv2.DIST_L2, 5)
        middle = (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8))) & (distance > 1.5)
        radius = int(rng.integers(4, 11))
        pen = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        stroke = cv2.GaussianBlur(cv2.dilate(middle.astype(np.uint8) * 255, pen), (0, 0), 1.0)
        crops[i, :, :, 0] = fit_mnist(np.pad(stroke, 16))
    return crops, labels[picks].astype(np.int64)


def flagged_ones(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST 1s with a flag (`synth.with_flag`), as much of Europe writes a 1. MNIST's writers seldom did,
    and such a 1 read as not a digit or as a 7 (drawn with an even pen, 4 of 40 read right; 38 after)."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(np.flatnonzero(labels == 1), count, replace=False)
    crops = np.zeros((count, 28, 28, 1), np.float32)
    for i, index in enumerate(picks):
        crops[i, :, :, 0] = fit_mnist(np.pad(with_flag(images[index], rng), 16))
    return crops, np.ones(count, np.int64)


def finetune(model, splits: dict, args: argparse.Namespace) -> dict[str, list[float]]:
    """A few epochs at a low learning rate on camera crops mixed with MNIST and generated not-a-digits.
    The last epoch's weights are kept: the validation accuracies of the four epochs differ by less than
    one crop in a thousand, and a run that kept its first epoch for that read camera scenes worse."""
    rng = np.random.default_rng(args.seed)
    mixed = {}
    for name, offset in (("train", 10_000_000), ("val", 20_000_000)):
        seeds = range(offset, offset + FINETUNE_SCENES[name])
        text_seeds = range(offset + TEXT_OFFSET, offset + TEXT_OFFSET + FINETUNE_TEXT_SCENES[name])
        crops, labels = camera_crops(camera_scenes(splits[f"{name}_raw"], seeds, text_seeds))
        x, y = splits[name]
        keep = rng.permutation(len(x))[: FINETUNE_MNIST if name == "train" else len(x)]
        drawn, drawn_labels = even_strokes(*splits[f"{name}_raw"], EVEN_STROKES[name], args.seed + offset)
        flagged, ones = flagged_ones(*splits[f"{name}_raw"], FLAGGED_ONES[name], args.seed + offset + 1)
        mixed[name] = (
            np.concatenate([x[keep], crops, drawn, flagged]),
            np.concatenate([y[keep], labels, drawn_labels, ones]),
        )
        print(f"fine-tune {name}: {len(crops)} camera crops ({int((labels == NOT_A_DIGIT).sum())} not-a-digit)")
    tuned = argparse.Namespace(**{**vars(args), "epochs": FINETUNE_EPOCHS})
    return train(
        model, {"train": mixed["train"], "val": mixed["val"]}, tuned, learning_rate=args.finetune_rate, keep_last=True
    )


def evaluate(model, splits: dict) -> dict:
    """Test accuracy (argmax over the ten digits), per-class accuracy, confusion, rejections."""
    x_test, y_test = splits["test"]
    probabilities = model.predict(x_test, batch_size=1024, verbose=0)
    predicted = probabilities[:, :NUM_DIGITS].argmax(axis=1)
    confusion = np.zeros((NUM_DIGITS, NUM_DIGITS), np.int64)
    np.add.at(confusion, (y_test, predicted), 1)
    held_out = model.predict(splits["held_out_nondigits"][0], batch_size=1024, verbose=0)
    x_val, y_val = splits["val"]
    val_predicted = model.predict(x_val, batch_size=1024, verbose=0).argmax(axis=1)
    return {
        "test_accuracy": float((predicted == y_test).mean()),
        "n": len(y_test),
        "rejected": int((probabilities.argmax(axis=1) == NOT_A_DIGIT).sum()),
        "val_accuracy": float((val_predicted == y_val).mean()),
        "per_class_accuracy": (confusion.diagonal() / confusion.sum(axis=1)).round(5).tolist(),
        "confusion_matrix": confusion.tolist(),
        "held_out_nondigits_rejected": float((held_out.argmax(axis=1) == NOT_A_DIGIT).mean()),
    }


def export_int8_onnx(model, path: Path, calibration: np.ndarray) -> None:
    """The ONNX copy that camrec runs, with int8 weights and activations.

    Measured on the shipped model: a frame's 9 crops classify in 1.1 ms instead of 3.2 ms on one core,
    MNIST test accuracy 99.67 % (float 99.68 %); end-to-end figures equal to the float model's (measured on
    the previous model). Activation ranges are calibrated on `calibration`, validation samples (digits and
    not-a-digits), never on test digits.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_static

    class Batches(CalibrationDataReader):
        def __init__(self, name: str) -> None:
            self.batches = iter({name: calibration[i : i + 256]} for i in range(0, len(calibration), 256))

        def get_next(self) -> dict | None:
            return next(self.batches, None)

    float_path = path.with_suffix(".float.onnx")
    model.export(str(float_path), format="onnx", verbose=False)
    try:
        import onnx

        graph = onnx.load(str(float_path)).graph
        # The first convolution stays float: with one input channel int8 gains nothing, and the
        # quantise/dequantise around it cost more (measured: 9 crops in 1.08 instead of 1.18 ms).
        first_conv = [node.name for node in graph.node if node.op_type == "Conv"][:1]
        quantize_static(
            str(float_path), str(path), Batches(graph.input[0].name),
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
            nodes_to_exclude=first_conv,
        )  # fmt: skip
    finally:
        float_path.unlink(missing_ok=True)


def calibration_samples(splits: dict, seed: int, count: int = 2048) -> np.ndarray:
    """A random draw from the validation split for the int8 calibration."""
    x_val = splits["val"][0]
    return x_val[np.random.default_rng(seed).permutation(len(x_val))[:count]]


def onnx_test_accuracy(path: Path, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """MNIST test accuracy of the exported model as camrec runs it."""
    from camrec.evaluate import predict_all

    digits, _ = predict_all(Classifier.load(path), x_test)
    return float((digits.argmax(axis=1) == y_test).mean())


def save(model, metrics: dict, history: dict, args: argparse.Namespace, splits: dict) -> Path:
    """The Keras model, its int8 ONNX export, metrics.json and the plots."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "digits.keras")
    export_int8_onnx(model, out / "digits.onnx", calibration_samples(splits, args.seed))
    metrics["onnx_int8_test_accuracy"] = onnx_test_accuracy(out / "digits.onnx", *splits["test"])
    metrics.update(
        {
            "parameters": int(model.count_params()),
            "epochs": args.epochs,
            "seed": args.seed,
            "quick": args.quick,
            "start_from": Path(args.start_from).name if args.start_from else None,
            "finetune_rate": args.finetune_rate,
            "best_epoch": history.get("best_epoch"),
            "versions": {
                "camrec": __version__,
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
            "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.items() if isinstance(vals, list)},
        }
    )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    if not args.no_plots:
        from camrec.plots import plot_confusion, plot_history

        plot_history(metrics["history"], out / "training_curves.png")
        plot_confusion(np.array(metrics["confusion_matrix"]), out / "confusion_matrix.png")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        splits = load_data(args)
    except CamrecError as exc:
        print(f"train.py: error: {exc.line()}", file=sys.stderr)
        return 2
    keras.utils.set_random_seed(args.seed)
    if args.start_from:
        model, history = keras.saving.load_model(args.start_from, compile=False, safe_mode=True), {}
    else:
        model = build_model()
        # --quick has one short epoch to learn in, so it takes bolder steps.
        history = train(model, splits, args, learning_rate=3e-3 if args.quick else 1e-3)
    base = evaluate(model, splits)
    if not (args.quick or args.no_finetune):
        tuned = finetune(model, splits, args)
        history = {key: history.get(key, []) + values for key, values in tuned.items() if isinstance(values, list)}
        history["best_epoch"] = tuned["best_epoch"]
    metrics = evaluate(model, splits)
    metrics["before_finetune"] = {key: base[key] for key in ("test_accuracy", "val_accuracy", "rejected")}
    metrics["training_seconds"] = round(time.monotonic() - started, 1)
    out = save(model, metrics, history, args, splits)
    print(
        f"test accuracy {metrics['test_accuracy']:.4%} (val {metrics['val_accuracy']:.4%}, best epoch "
        f"{history.get('best_epoch')}), {metrics['parameters']:,} parameters, {metrics['training_seconds']:.0f} s"
        f" -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
