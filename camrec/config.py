"""Typed configuration: built-in defaults, an optional YAML overlay, then `--set section.key=value`.

Every key is a dataclass field whose metadata carries its rule and its comment; `config.yaml` at the top
of the repo is these defaults written out (`render_yaml`), and a test keeps the two equal.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camrec.errors import ConfigError

ENV_VAR = "CAMREC_CONFIG"


def setting(
    default: Any,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    odd: bool = False,
    path: bool = False,
) -> Any:
    """A config field: its default, its one-line comment and the rule its values must follow."""
    rule = {"doc": doc, "low": low, "high": high, "choices": choices, "odd": odd, "path": path}
    return field(default=default, metadata=rule)


@dataclass
class DataConfig:
    mnist_dir: str = setting(
        "", "MNIST IDX directory (four .gz files); empty: $CAMREC_MNIST_DIR, else the Keras download", path=True
    )


@dataclass
class ModelConfig:
    path: str = setting("", "model file (.keras or .onnx); empty: the shipped models/digits.keras", path=True)
    runtime: str = setting(
        "auto", "auto: the fast ONNX export when present, else Keras; onnx; keras", choices=("auto", "onnx", "keras")
    )
    threads: int = setting(
        1, "onnxruntime threads; with 1, camrec runs a batch in two halves when a frame has both cores", low=1, high=64
    )


@dataclass
class DetectConfig:
    ink: str = setting(
        "dark",
        "dark ink on light paper, light ink on a dark board, or auto (both; the one with more digits)",
        choices=("dark", "light", "auto"),
    )
    work_width: int = setting(
        640, "frames wider than this are thresholded at this width (crops come from the full frame)", low=160, high=8000
    )
    block_size: int = setting(41, "adaptive threshold neighbourhood in working pixels", low=3, high=301, odd=True)
    offset: float = setting(
        12.0, "adaptive threshold: how much darker than its surroundings ink must be", low=0, high=255
    )
    min_contrast: float = setting(
        18.0, "least mean darkness of a digit's ink against its surroundings (grey levels)", low=0, high=255
    )
    min_height: float = setting(0.03, "smallest digit height as a share of the frame's shorter side", low=0.001, high=1)
    max_height: float = setting(0.8, "largest digit height as a share of the working frame height", low=0.001, high=1)
    max_aspect: float = setting(1.9, "widest digit box: width / height", low=0.1, high=10)
    min_fill: float = setting(0.06, "least share of the box that is ink", low=0, high=1)
    thin_pens: bool = setting(
        True,
        "video and live: read digits drawn with a thin pen, as stills do: a ballpoint or a pencil held up to a webcam",
    )
    still_thin_pens: bool = setting(
        True, "the same for still images: a digit drawn with a 1-px brush, or written large with a fine pen"
    )
    max_clutter: float = setting(
        0.12, "most speckle ink around a digit (share of a ring around its box); more is desk, not paper", low=0, high=1
    )
    max_boxes: int = setting(
        256,
        "video and live: most digit boxes classified per frame, the tallest first (a page of print in view keeps "
        "the frame rate)",
        low=1,
        high=100_000,
    )
    still_max_boxes: int = setting(
        5000, "the same for still images: a scanned worksheet may hold hundreds of digits", low=1, high=100_000
    )
    levels: int = setting(
        1,
        "video and live: reads at 1x, 2x, 4x... the work width (wide frames), each for digits half as tall",
        low=1,
        high=5,
    )
    still_levels: int = setting(
        3, "the same for still images (camrec image, camrec.recognize): small digits on page scans", low=1, high=5
    )
    close_up: bool = setting(
        False, "video files: also read each frame as a close-up, for digits over 35 % of its height (+2 ms a frame)"
    )
    live_close_up: bool = setting(
        True, "the same for camrec webcam and camrec draw: a digit held close to the camera, or drawn big"
    )
    still_close_up: bool = setting(True, "the same for still images: an image of one digit, drawn or cropped")
    close_up_when_big: bool = setting(
        True,
        "video files without close_up: the close-up only for a frame with a box over 35 % of its height, or few boxes",
    )
    printed_boxes: bool = setting(
        True,
        "take printed boxes (a form's answer boxes) out of the ink first; off in the drawing window, where a boxy 0 "
        "drawn with the mouse can pass for one",
    )
    touching: bool = setting(
        True, "cut a box of touching digits (a number written fast) where each piece reads as a digit"
    )
    upright: bool = setting(
        True, "a frame whose rows of digits lean (a sheet held turned) has its digits turned upright to be read"
    )
    marks: bool = setting(
        True,
        "a box that reads as no digit is read again without a line under it or a ring around it that touches it, "
        "and one read as a 0 without a ring around a digit",
    )
    light_on_dark: bool = setting(
        False, "video and live: with ink dark, a frame that looks like light ink on a dark background is read both ways"
    )
    still_light_on_dark: bool = setting(
        True, "the same for still images: MNIST's own digits, and PNG sets made from them, are white on black"
    )


@dataclass
class ProcessConfig:
    workers: int = setting(2, "frames of a video or image set processed at once; results stay in order", low=1, high=64)
    parallel: str = setting(
        "auto",
        "how workers run: processes, threads, or auto (processes for 100 frames or more; one takes 0.3 s to start)",
        choices=("auto", "processes", "threads"),
    )
    stall_s: float = setting(
        300.0,
        "a worker process that answers no frame for this many seconds is stopped, and the run ends (exit 1)",
        low=1,
        high=86400,
    )


@dataclass
class ClassifyConfig:
    min_confidence: float = setting(0.8, "detections whose digit probability is lower are dropped", low=0, high=1)
    # The int8 model's scores come in steps of 1/256: 0.005 keeps a score of at most 1/256, 0.02 at most 5/256.
    max_not_a_digit: float = setting(
        0.005, "video and live frames: detections whose not-a-digit score is higher are dropped", low=0, high=1
    )
    still_max_not_a_digit: float = setting(0.02, "the same for still images: photos and scans of pages", low=0, high=1)
    drawn_max_not_a_digit: float = setting(
        0.1, "the same for the drawing window, whose canvas holds only what is drawn on it", low=0, high=1
    )


@dataclass
class TrackConfig:
    enabled: bool = setting(True, "video and camera frames: each digit keeps one track_id from frame to frame")
    min_iou: float = setting(
        0.3, "a box continues the track whose last box it overlaps this much (IoU)", low=0.01, high=1
    )
    max_missed: int = setting(
        10, "frames a track waits for its digit to be read again before it ends", low=0, high=10000
    )


@dataclass
class StreamConfig:
    open_timeout_s: float = setting(5.0, "give up opening a stream URL after this many seconds", low=0.1, high=300)
    reconnect_s: float = setting(
        10.0, "keep reopening a dropped stream for this many seconds, then exit 3", low=0, high=3600
    )


@dataclass
class WebcamConfig:
    fallback_to_draw: bool = setting(True, "camrec webcam with no camera and no --source opens the drawing window")
    width: int = setting(640, "requested camera frame width", low=16, high=8000)
    height: int = setting(480, "requested camera frame height", low=16, high=8000)
    mirror: bool = setting(False, "mirror the preview (what is recognised is never mirrored)")


@dataclass
class OutputConfig:
    overwrite: bool = setting(False, "replace existing output files without --overwrite")
    progress: bool = setting(True, "progress bar on stderr when it is a terminal")


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    detect: DetectConfig = field(default_factory=DetectConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    process: ProcessConfig = field(default_factory=ProcessConfig)
    track: TrackConfig = field(default_factory=TrackConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    webcam: WebcamConfig = field(default_factory=WebcamConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


DEFAULT_CONFIG = Config()


def for_stills(config: Config) -> Config:
    """The config for still images: detection reads `detect.still_levels` levels instead of `detect.levels`,
    a close-up when `detect.still_close_up` says so, and both inks for an image that looks like light ink on
    a dark background (`detect.still_light_on_dark`). Finer levels find a page scan's small digits but
    cost a wide frame about six times the work (measured, 1920-wide frames: 8 -> 49 ms), which a still
    image can afford and a video or live frame cannot. Its not-a-digit threshold is
    `classify.still_max_not_a_digit`: a photo's blurred digits score higher as not-a-digit, and a page shows
    fewer stray marks than a camera's view of a desk. It classifies up to `detect.still_max_boxes` digits
    rather than `detect.max_boxes`: a worksheet of 30 rows of 22 digits holds 660 of them. It reads digits
    drawn with a thin pen (`detect.still_thin_pens`): a paint program's 1-px brush, a fine pen written large."""
    detect = dataclasses.replace(
        config.detect,
        levels=config.detect.still_levels,
        close_up=config.detect.still_close_up,
        close_up_when_big=False,  # a video setting: `still_close_up` alone says whether
        light_on_dark=config.detect.still_light_on_dark,
        max_boxes=config.detect.still_max_boxes,
        thin_pens=config.detect.still_thin_pens,
    )
    classify = dataclasses.replace(config.classify, max_not_a_digit=config.classify.still_max_not_a_digit)
    return dataclasses.replace(config, detect=detect, classify=classify)


def for_live(config: Config) -> Config:
    """The config for live sources and the drawing window: detection also reads a close-up when
    `detect.live_close_up` says so. A student holds one digit up to the camera; a live frame can afford the
    close-up's 2 ms; a video file processed for throughput pays it only for frames that show a big box, or
    few boxes (`detect.close_up_when_big`), unless `detect.close_up` asks for every frame."""
    detect = dataclasses.replace(config.detect, close_up=config.detect.live_close_up, close_up_when_big=False)
    return dataclasses.replace(config, detect=detect)


def for_drawing(config: Config) -> Config:
    """The config for the drawing window: a live source's (`for_live`), with `classify.drawn_max_not_a_digit`
    and no `detect.printed_boxes`. Nothing is on its canvas but what is drawn: a mouse's even strokes, small
    ones most, score higher as not-a-digit than a pen's, and a boxy 0 can pass for a printed box (a
    superellipse of exponent 5, 110x200 px, read as a 1 with boxes taken out)."""
    live = for_live(config)
    classify = dataclasses.replace(live.classify, max_not_a_digit=config.classify.drawn_max_not_a_digit)
    detect = dataclasses.replace(live.detect, printed_boxes=False)  # nothing on the canvas is printed
    return dataclasses.replace(live, classify=classify, detect=detect)


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Defaults, then the YAML file (`path`, else `$CAMREC_CONFIG`, else none), then `key=value` overrides."""
    config = Config()
    path = path or os.environ.get(ENV_VAR) or None
    if path:
        _apply_mapping(config, _read_yaml(Path(path)), base=Path(path).resolve().parent)
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or "." not in key:
            raise ConfigError(f"--set {override}", "expected section.key=value")
        _set(config, key.strip(), text.strip(), from_text=True, base=Path.cwd())
    return config


def as_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The config as plain nested dicts (what `config.yaml` holds)."""
    return dataclasses.asdict(config)


def from_dict(mapping: dict) -> Config:
    """The config that `as_dict` wrote out, checked as a config file is (a worker process gets it so)."""
    config = Config()
    _apply_mapping(config, mapping, base=Path.cwd())
    return config


def render_yaml(config: Config = DEFAULT_CONFIG) -> str:
    """The config written out as YAML, every key with its comment (this is how `config.yaml` is made)."""
    lines = [
        "# camrec configuration: the built-in defaults written out. Copy it, keep the keys you change,",
        "# and pass it with --config FILE (or CAMREC_CONFIG); relative paths resolve against its folder.",
    ]
    for section in dataclasses.fields(config):
        lines.append(f"\n{section.name}:")
        for item in dataclasses.fields(getattr(config, section.name)):
            value = getattr(getattr(config, section.name), item.name)
            lines.append(f"  # {item.metadata['doc']}")
            lines.append(f"  {item.name}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _read_yaml(path: Path) -> dict:
    import yaml  # deferred: most runs read no config file

    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(str(path), "no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read config file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(str(path), f"not valid YAML{where}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(str(path), "expected a mapping of sections (data:, model:, detect:, ...)")
    return loaded


def _apply_mapping(config: Config, mapping: dict, base: Path) -> None:
    for section, values in mapping.items():
        if not isinstance(values, dict):
            _section(config, str(section))  # an unknown name gets its hint first
            raise ConfigError(f"config {section}", "expected a mapping of keys")
        for key, value in values.items():
            _set(config, f"{section}.{key}", value, from_text=False, base=base)


def _section(config: Config, name: str) -> Any:
    names = [f.name for f in dataclasses.fields(config)]
    if name not in names:
        raise ConfigError(f"config {name}", "unknown section", _hint(name, names))
    return getattr(config, name)


def _set(config: Config, key: str, value: Any, *, from_text: bool, base: Path) -> None:
    section_name, _, name = key.partition(".")
    section = _section(config, section_name)
    fields = {f.name: f for f in dataclasses.fields(section)}
    if name not in fields:
        raise ConfigError(f"config {key}", "unknown key", _hint(name, list(fields), prefix=section_name + "."))
    item = fields[name]
    converted = _convert(key, value, type(getattr(DEFAULT_CONFIG_SECTIONS[section_name], name)), from_text)
    _check(key, converted, item.metadata)
    if item.metadata["path"] and converted:
        converted = str((base / Path(converted).expanduser()).resolve())
    setattr(section, name, converted)


def _convert(key: str, value: Any, kind: type, from_text: bool) -> Any:
    shown = f"config {key}={value}"
    if kind is bool:
        if isinstance(value, bool):
            return value
        if from_text and str(value).lower() in {"true", "yes", "on", "1", "false", "no", "off", "0"}:
            return str(value).lower() in {"true", "yes", "on", "1"}
        raise ConfigError(shown, "must be true or false")
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(shown, "must be an integer")
        try:
            number = float(value) if from_text else value
        except ValueError:
            raise ConfigError(shown, "must be an integer") from None
        if isinstance(number, (int, float)) and float(number).is_integer():
            return int(number)
        raise ConfigError(shown, "must be an integer")
    if kind is float:
        if isinstance(value, bool):
            raise ConfigError(shown, "must be a number")
        try:
            return float(value) if from_text or isinstance(value, (int, float)) else _not_a_number(shown)
        except ValueError:
            raise ConfigError(shown, "must be a number") from None
    if value is None:
        return ""
    if not isinstance(value, str) and not from_text:
        raise ConfigError(shown, "must be a string")
    return str(value)


def _not_a_number(shown: str) -> float:
    raise ConfigError(shown, "must be a number")


def _check(key: str, value: Any, rule: dict) -> None:
    shown = f"config {key}={value}"
    low, high = rule["low"], rule["high"]
    if rule["choices"] and value not in rule["choices"]:
        raise ConfigError(shown, f"must be one of {', '.join(rule['choices'])}")
    if rule["odd"] and (value % 2 == 0 or (low is not None and value < low)):
        raise ConfigError(shown, f"must be an odd integer ≥ {low:g}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(shown, f"must be between {low:g} and {high:g}")


def _hint(name: str, known: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {prefix}{close[0]}?" if close else f"known: {', '.join(prefix + k for k in known)}"


DEFAULT_CONFIG_SECTIONS = {f.name: getattr(DEFAULT_CONFIG, f.name) for f in dataclasses.fields(DEFAULT_CONFIG)}
