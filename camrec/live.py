"""`camrec webcam` and `camrec draw`: live sources and windows over the same runner and pipeline."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from camrec.annotate import annotate
from camrec.config import Config, for_drawing, for_live
from camrec.errors import SourceError
from camrec.pipeline import Recognizer, load_recognizer
from camrec.runner import Summary, run
from camrec.sinks import CsvSink, JsonlSink, VideoSink, check_each_once, written_paths
from camrec.sources import open_source
from camrec.window import check_display

Say = Callable[[str], None]


def run_live(args: argparse.Namespace, config: Config, say: Say) -> tuple[Summary, list[str]]:
    """Open the source (or fall back to drawing), then run the live loop, windowed or headless."""
    config = for_live(config)
    show = True if args.show is None else args.show
    if args.mirror:
        config.webcam.mirror = True
    overwrite = args.overwrite or config.output.overwrite
    check_each_once({"--json": args.json, "--csv": args.csv, "--save": args.save})
    sinks: list = [JsonlSink(args.json, overwrite)] if args.json else []
    sinks += [CsvSink(args.csv, overwrite)] if args.csv else []
    for sink in sinks:
        sink.check()
    if show:
        check_display()
    recognizer = load_recognizer(config, args.model)
    try:
        source = open_source(
            args.source if args.source is not None else "0",
            live=True,
            open_timeout_s=config.stream.open_timeout_s,
            reconnect_s=config.stream.reconnect_s,
            width=config.webcam.width,
            height=config.webcam.height,
        )
    except SourceError as exc:
        if args.source is None and show and config.webcam.fallback_to_draw:
            say(f"no camera ({exc.line()}); opening the drawing window instead")
            return run_drawing(args, config, say, recognizer)
        raise
    if args.save:
        video = VideoSink(args.save, source.info.fps, overwrite)
        try:
            video.check()
        except Exception:
            source.close()
            raise
        sinks.append(video)
    window = None
    try:
        if show:
            from camrec.apps.webcam import WebcamWindow

            window = WebcamWindow(config, say)
        draw = (lambda image, result: annotate(image, result.detections)) if args.save else None
        summary = run(
            [source],
            recognizer,
            sinks,
            draw=draw,
            on_frame=window.on_frame if window else None,
            max_frames=args.max_frames,
            track=config.track,
        )
    finally:
        source.close()
        if window is not None:
            window.close()
    return summary, written_paths(sinks)


def run_drawing(
    args: argparse.Namespace, config: Config, say: Say, recognizer: Recognizer | None = None
) -> tuple[Summary, list[str]]:
    """The mouse canvas; `--json` gets one line per recognition update. A webcam's recognizer, when the
    window stands in for an absent camera, lends it its classifier."""
    config = for_drawing(config)
    overwrite = getattr(args, "overwrite", False) or config.output.overwrite
    sink = JsonlSink(args.json, overwrite) if args.json else None
    if sink:
        sink.check()
    check_display()
    recognizer = Recognizer(config, recognizer.classifier) if recognizer else load_recognizer(config, args.model)
    from camrec.apps.draw import DrawWindow

    summary = Summary()
    window = DrawWindow(lambda image: recognizer(image).detections, sink, say)
    try:
        if sink:
            with sink:
                window.run()
        else:
            window.run()
    finally:
        window.close()
    summary.frames = window.updates
    summary.digits = len(window.detections)
    return summary, written_paths([sink] if sink else [])
