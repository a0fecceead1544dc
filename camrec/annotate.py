"""Annotators: small draw functions, `(image, detections, *, style) -> image`. Drawing never decides."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from camrec.detections import Detections
from camrec.numbers import number_records


@dataclass(frozen=True)
class Style:
    box_color: tuple[int, int, int] = (0, 200, 0)
    text_color: tuple[int, int, int] = (255, 255, 255)
    label_background: tuple[int, int, int] = (0, 120, 0)
    number_color: tuple[int, int, int] = (0, 215, 255)  # amber: a number is not one more digit
    thickness: int = 2
    font_scale: float = 0.6


DEFAULT_STYLE = Style()


def draw_boxes(image: np.ndarray, detections: Detections, *, style: Style = DEFAULT_STYLE) -> np.ndarray:
    """A rectangle around every detection (in place; returns the image)."""
    for x, y, w, h in detections.boxes:
        cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), style.box_color, style.thickness)
    return image


def draw_labels(image: np.ndarray, detections: Detections, *, style: Style = DEFAULT_STYLE) -> np.ndarray:
    """`digit confidence%` on a filled tag above every box (below it when the box touches the top)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    for (x, y, _w, h), digit, confidence in zip(detections.boxes, detections.digits, detections.confidences):
        text = f"{int(digit)} {confidence:.0%}"
        (tw, th), base = cv2.getTextSize(text, font, style.font_scale, 1)
        top = int(y) - th - base - 2 if y - th - base - 2 >= 0 else int(y + h) + 2
        cv2.rectangle(image, (int(x), top), (int(x) + tw + 4, top + th + base + 2), style.label_background, -1)
        cv2.putText(image, text, (int(x) + 2, top + th + 1), font, style.font_scale, style.text_color, 1, cv2.LINE_AA)
    return image


def draw_numbers(image: np.ndarray, detections: Detections, *, style: Style = DEFAULT_STYLE) -> np.ndarray:
    """Each number of two digits or more (`camrec.numbers`): a thin box around its digits and its value on
    a tag under it (in place; returns the image)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    for record in number_records(detections):
        if len(record["digits"]) < 2:
            continue  # a lone digit's own label says it all
        x, y, w, h = record["box"]
        cv2.rectangle(image, (x - 3, y - 3), (x + w + 3, y + h + 3), style.number_color, 1)
        (tw, th), base = cv2.getTextSize(record["value"], font, style.font_scale, 1)
        top = y + h + 4 if y + h + 4 + th + base + 2 <= image.shape[0] else y - th - base - 6
        cv2.rectangle(image, (x - 3, top), (x + tw + 1, top + th + base + 2), style.number_color, -1)
        cv2.putText(image, record["value"], (x - 1, top + th + 1), font, style.font_scale, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def draw_hud(image: np.ndarray, lines: list[str], *, style: Style = DEFAULT_STYLE) -> np.ndarray:
    """Status lines (fps, threshold, key hints) in the top-left corner on a dark band."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i, line in enumerate(lines):
        y = 18 + 20 * i
        (tw, th), _ = cv2.getTextSize(line, font, 0.5, 1)
        cv2.rectangle(image, (4, y - th - 4), (10 + tw, y + 5), (0, 0, 0), -1)
        cv2.putText(image, line, (7, y), font, 0.5, style.text_color, 1, cv2.LINE_AA)
    return image


def annotate(image: np.ndarray, detections: Detections, *, style: Style = DEFAULT_STYLE) -> np.ndarray:
    """A copy of the frame with boxes, labels and numbers: what `--save` records."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    out = draw_numbers(draw_boxes(out, detections, style=style), detections, style=style)
    return draw_labels(out, detections, style=style)


def draw_patches(
    image: np.ndarray, crops: np.ndarray, probabilities: np.ndarray, kept: np.ndarray, *, style: Style = DEFAULT_STYLE
) -> np.ndarray:
    """What the classifier sees: the 28x28 crops, enlarged, each with its digit and probability
    (grey when rejected), in a strip under `image`. Returns a new, taller image."""
    size = 56
    per_row = max(1, image.shape[1] // size)
    rows = max(1, -(-len(crops) // per_row))
    strip = np.zeros((rows * (size + 16), image.shape[1], 3), np.uint8)
    for i, crop in enumerate(crops):
        row, col = divmod(i, per_row)
        x, y = col * size, row * (size + 16)
        patch = cv2.resize((crop[:, :, 0] * 255).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
        strip[y : y + size, x : x + size] = patch[:, :, None]
        digit, confidence = int(probabilities[i].argmax()), float(probabilities[i].max())
        color = style.box_color if kept[i] else (128, 128, 128)
        cv2.putText(
            strip,
            f"{digit} {confidence:.2f}",
            (x + 2, y + size + 12),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            color,
            1,
            cv2.LINE_AA,
        )
    return np.vstack([image, strip])


def draw_probability_bars(
    panel: np.ndarray, probabilities: np.ndarray, top: int = 3, *, origin=(10, 60), style: Style = DEFAULT_STYLE
) -> np.ndarray:
    """The `top` most likely digits as horizontal bars with percentages (the drawing window's side panel)."""
    x0, y0 = origin
    width = panel.shape[1] - x0 - 70
    for rank, digit in enumerate(np.argsort(probabilities)[::-1][:top]):
        y = y0 + rank * 34
        share = float(probabilities[digit])
        cv2.putText(panel, str(int(digit)), (x0, y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2, cv2.LINE_AA)
        cv2.rectangle(panel, (x0 + 24, y), (x0 + 24 + int(width * share), y + 22), style.label_background, -1)
        cv2.putText(
            panel, f"{share:.0%}", (x0 + 30 + width, y + 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA
        )
    return panel


def mirror(detections: Detections, width: int) -> Detections:
    """Detections as seen in a horizontally flipped preview (the recognised frame stays unflipped)."""
    boxes = detections.boxes.copy()
    boxes[:, 0] = width - boxes[:, 0] - boxes[:, 2]
    return replace(detections, boxes=boxes)
