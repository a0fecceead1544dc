"""The `camrec` command: parses options, runs one subcommand, and is the only place that prints errors
and chooses exit codes (see CONTRACT.md: 0 done, 1 unexpected, 2 bad input, 3 source lost, 130/143).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable

from camrec import __version__
from camrec.allocator import keep_freed_memory
from camrec.errors import CamrecError

COMMANDS = {
    "webcam": "live recognition in a window (default source: camera 0)",
    "draw": "mouse-drawing window, recognised as you draw",
    "video": "every frame of one or more video files, headless by default",
    "image": "image files (a PDF: its pages), directories and globs",
    "eval": "the model's accuracy on the MNIST test set",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2, like every other camrec error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"camrec: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that sinks close in their `__exit__` as on Ctrl-C."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="YAML config overlay (else $CAMREC_CONFIG)")
    common.add_argument(
        "--set",
        metavar="SECTION.KEY=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override one config value (repeatable)",
    )
    common.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    common.add_argument("--debug", action="store_true", help="tracebacks and library logs")
    classifying = argparse.ArgumentParser(add_help=False)
    classifying.add_argument("--model", metavar="PATH", help="model file (.keras or .onnx; default: the shipped one)")
    classifying.add_argument("--json", metavar="PATH|-", help="JSON Lines output ('-' = stdout)")

    parser = OneLineParser(
        prog="camrec", description="Recognise handwritten digits from a camera, a video, images or the mouse."
    )
    parser.add_argument("--version", action="version", version=f"camrec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True

    outputs = argparse.ArgumentParser(add_help=False)
    outputs.add_argument("--csv", metavar="PATH", help="CSV output, one row per detection")
    outputs.add_argument("--overwrite", action="store_true", help="replace existing output files")
    shows = outputs.add_mutually_exclusive_group()
    shows.add_argument("--show", action="store_true", default=None, help="show a window")
    shows.add_argument("--no-show", action="store_false", dest="show", help="no window")

    webcam = commands.add_parser(
        "webcam",
        parents=[common, classifying, outputs],
        help=COMMANDS["webcam"],
        description=COMMANDS["webcam"],
        epilog=webcam_keys(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    webcam.add_argument("--source", metavar="S", help="camera index, video file (replayed in real time) or URL")
    webcam.add_argument("--save", metavar="PATH", help="record the annotated frames (.mp4, .mov, .avi or .mkv)")
    webcam.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N processed frames")
    webcam.add_argument("--mirror", action="store_true", default=None, help="mirror the preview")
    webcam.set_defaults(handler=run_webcam)

    draw = commands.add_parser(
        "draw",
        parents=[common, classifying],
        help=COMMANDS["draw"],
        description=COMMANDS["draw"],
        epilog=draw_keys(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    draw.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    draw.set_defaults(handler=run_draw)

    video = commands.add_parser(
        "video", parents=[common, classifying, outputs], help=COMMANDS["video"], description=COMMANDS["video"]
    )
    video.add_argument("paths", nargs="+", metavar="PATH", help="video files")
    video.add_argument("--save", metavar="PATH", help="annotated video (a directory when several inputs)")
    video.add_argument("--stride", type=positive_int, default=1, metavar="N", help="every Nth frame (N >= 1)")
    video.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N processed frames")
    video.set_defaults(handler=run_files, kind="video")

    image = commands.add_parser(
        "image", parents=[common, classifying, outputs], help=COMMANDS["image"], description=COMMANDS["image"]
    )
    image.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="image files (PNG, JPEG, TIFF, WebP, HEIC, PDF, ...), directories or globs",
    )
    image.add_argument(
        "--save", metavar="DIR", help="directory for annotated images (for one image, a file: annotated.png or .jpg)"
    )
    image.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N images")
    image.set_defaults(handler=run_files, kind="image", stride=1)

    evaluate = commands.add_parser(
        "eval", parents=[common, classifying], help=COMMANDS["eval"], description=COMMANDS["eval"]
    )
    evaluate.add_argument("--data-dir", metavar="DIR", help="MNIST IDX directory (else $CAMREC_MNIST_DIR, else config)")
    evaluate.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    evaluate.set_defaults(handler=run_eval)
    return parser


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def webcam_keys() -> str:
    from camrec.apps.keys import WEBCAM_KEYS, describe

    return "keys in the window:\n" + "\n".join("  " + line for line in describe(WEBCAM_KEYS))


def draw_keys() -> str:
    from camrec.apps.keys import DRAW_KEYS, describe

    return "mouse: left button draws, right button erases\nkeys:\n" + "\n".join(
        "  " + line for line in describe(DRAW_KEYS)
    )


def run_webcam(args: argparse.Namespace) -> int:
    from camrec.config import load_config
    from camrec.live import run_live

    config = load_config(args.config, args.overrides)
    summary, written = run_live(args, config, say)
    print_summary(args, summary, written)
    return 0


def run_draw(args: argparse.Namespace) -> int:
    from camrec.config import load_config
    from camrec.live import run_drawing

    config = load_config(args.config, args.overrides)
    summary, written = run_drawing(args, config, say)
    print_summary(args, summary, written)
    return 0


def say(line: str) -> None:
    """A one-line notice on stderr (not an error)."""
    print(f"camrec: {line}", file=sys.stderr)


def run_files(args: argparse.Namespace) -> int:
    """`camrec video` and `camrec image`: check every input and output, then process them in order."""
    from camrec.config import load_config
    from camrec.files import process_files

    config = load_config(args.config, args.overrides)
    summary, written = process_files(args, config)
    print_summary(args, summary, written)
    return 0


def print_summary(args: argparse.Namespace, summary, written: list[str]) -> None:
    """The closing line on stderr: frames (images for `camrec image`), digits, seconds, outputs (not with
    --quiet), e.g. `camrec: 1 image, 5 digits, 0.7 s; wrote out.jsonl`."""
    if args.quiet:
        return
    noun = "image" if args.command == "image" else "frame"
    rate = f" ({summary.frames / summary.seconds:.0f} {noun}s/s)" if summary.frames > 1 and summary.seconds > 0 else ""
    outputs = ", ".join(written) if written else "no output files"
    print(
        f"camrec: {counted(summary.frames, noun)}, {counted(summary.digits, 'digit')}, {summary.seconds:.1f} s"
        f"{rate}; wrote {outputs}",
        file=sys.stderr,
    )


def counted(number: int, noun: str) -> str:
    """`1 digit`, `0 digits`, `5 digits`."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def run_eval(args: argparse.Namespace) -> int:
    from camrec.config import load_config
    from camrec.evaluate import evaluate_mnist, format_eval
    from camrec.sinks import JsonlSink

    config = load_config(args.config, args.overrides)
    sink = JsonlSink(args.json, overwrite=args.overwrite or config.output.overwrite) if args.json else None
    if sink:
        sink.check()
    result = evaluate_mnist(config, model_path=args.model, data_dir=args.data_dir)
    if sink:
        with sink:
            sink.write_record(result)
    if not args.quiet or args.json is None:
        print(format_eval(result), file=sys.stderr if args.json == "-" else sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `camrec` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    if sys.stderr is None:  # started with stderr closed (`2>&-`): the lines it would get go nowhere
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    quiet_libraries(debug)
    tune_process()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return run_guarded(args.handler, args, debug)


def run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace, debug: bool) -> int:
    """Run a command, turning every way it can end into CONTRACT.md's one line and exit status."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    # Ctrl-C must end a run cleanly (exit 130) even when started from a shell that ignores SIGINT for
    # background jobs: Python keeps an inherited "ignore" unless told otherwise.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return handler(args)
    except CamrecError as exc:
        _report(exc.line(), debug)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Terminated:
        return 143
    except BrokenPipeError:
        # `camrec ... --json - | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        _report(f"unexpected failure: {type(exc).__name__}: {exc} (run with --debug for details)", debug)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def _report(line: str, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    print(f"camrec: error: {line}", file=sys.stderr)


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise Terminated()


def tune_process() -> None:
    """Settings for frame-by-frame work, made by the command only: `import camrec` leaves a process alone.

    - One OpenBLAS thread: camrec does no linear algebra, and OpenBLAS's idle pool spins for a tenth of a
      second of CPU at start-up (measured, `camrec image`: 0.18 instead of 0.34 s user time).
    - glibc keeps freed blocks of up to 32 MB for reuse (`allocator.keep_freed_memory`). Each frame
      allocates a few MB of temporaries; by default glibc gives every block over 128 kB back to the kernel
      when freed and the next frame faults it in again, zeroed (measured, `camrec video` on two cores in
      two A/B runs: 0.7 and 0.9 ms less CPU per frame, 8 and 11 % more frames/s).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # read when numpy loads, which is later
    keep_freed_memory()


def quiet_libraries(debug: bool) -> None:
    """Silence OpenCV, TensorFlow and onnxruntime chatter so that an error line stands alone."""
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="camrec: %(name)s: %(message)s")
        return
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("QT_LOGGING_RULES", "*.debug=false;*.warning=false")  # OpenCV's Qt windows
    if os.path.isdir("/usr/share/fonts/truetype/dejavu"):  # Qt no longer ships fonts; point it at the system's
        os.environ.setdefault("QT_QPA_FONTDIR", "/usr/share/fonts/truetype/dejavu")
    logging.basicConfig(level=logging.WARNING, format="camrec: %(message)s")
