"""camrec: recognise handwritten digits live from a camera, a video, an image or the mouse.

>>> import camrec
>>> detections = camrec.recognize("page.jpg")      # or a BGR / grayscale numpy array
>>> detections.digits, detections.boxes, detections.confidences
"""

from __future__ import annotations

__version__ = "0.1.0"

_recognizers: dict = {}


def recognize(image, config=None, model: str | None = None):
    """All digits in one image: a path, or a BGR or grayscale uint8 array. Returns `Detections`.

    Read as a still image: detection also looks for small digits at finer levels (`detect.still_levels`).

    The model is loaded once per (model, config) and reused, so calling this in a loop is cheap.
    """
    from camrec.config import for_stills, load_config
    from camrec.pipeline import load_recognizer
    from camrec.sources import read_image

    key = (model, None if config is None else id(config))
    config = config or load_config()
    if key not in _recognizers:
        _recognizers[key] = load_recognizer(for_stills(config), model)
    if isinstance(image, str) or hasattr(image, "__fspath__"):
        image = read_image(image)
    return _recognizers[key](image).detections
