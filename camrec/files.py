"""`camrec video` and `camrec image`: inputs and outputs checked up front, then the shared runner."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from camrec.annotate import annotate
from camrec.classifier import resolve_model_path
from camrec.config import Config, for_stills
from camrec.errors import SinkError, SourceError
from camrec.pipeline import load_recognizer
from camrec.runner import Summary, run
from camrec.sinks import (
    IMAGE_FILE_SUFFIXES,
    CsvSink,
    ImageDirSink,
    ImageFileSink,
    JsonlSink,
    VideoSink,
    check_each_once,
    written_paths,
)
from camrec.sources import Source, open_images, open_video
from camrec.window import Viewer, check_display
from camrec.workers import WorkerPool, can_start

# `process.parallel: auto` starts worker processes for this many frames or more: a worker takes about 0.3 s
# of a core to start (numpy, OpenCV, onnxruntime and the model), which a short run would not win back.
PROCESSES_FROM = 100


def process_files(args: argparse.Namespace, config: Config) -> tuple[Summary, list[str]]:
    """Open all sources and sinks (failing before any frame), load the model, run. Returns what was written."""
    overwrite = args.overwrite or config.output.overwrite
    check_each_once({"--json": args.json, "--csv": args.csv, "--save": args.save})
    sources = open_sources(args)
    viewer = progress = None
    stack = contextlib.ExitStack()
    try:
        sinks = make_sinks(args, sources, overwrite)
        for sink in sinks:
            sink.check()
        if args.show:
            check_display()
        pipeline_config = for_stills(config) if args.kind == "image" else config
        if in_processes(args, config, sources):
            path = resolve_model_path(args.model, config.model.path)
            process = stack.enter_context(WorkerPool(pipeline_config, path, config.process.workers, args.debug))
        else:
            process = load_recognizer(pipeline_config, args.model)
        needs_image = args.save is not None or args.show
        viewer = Viewer(f"camrec {args.kind}") if args.show else None
        progress = make_progress(args, config, sources)
        summary = run(
            sources,
            process,
            sinks,
            draw=(lambda image, result: annotate(image, result.detections)) if needs_image else None,
            on_frame=viewer.show if viewer else None,
            max_frames=args.max_frames,
            progress=progress,
            workers=1 if viewer else config.process.workers,
            track=config.track if args.kind == "video" else None,  # images are each a scene of their own
        )
    finally:
        stack.close()
        if progress is not None:
            progress.close()
        if viewer is not None:
            viewer.close()
        for source in sources:
            source.close()
    return summary, written_paths(sinks)


def in_processes(args: argparse.Namespace, config: Config, sources: list[Source]) -> bool:
    """Whether the frames go to worker processes (`process.parallel`; never for a window or one worker)."""
    if config.process.workers <= 1 or args.show or config.process.parallel == "threads" or not can_start():
        return False
    if config.process.parallel == "processes":
        return True
    frames = expected_frames(args, sources) or args.max_frames
    return frames is None or frames >= PROCESSES_FROM


def expected_frames(args: argparse.Namespace, sources: list[Source]) -> int | None:
    """How many frames the run will process, from the sources' declared counts; None when one is unknown."""
    counts = [source.info.frame_count for source in sources]
    total = None if None in counts else sum(count // max(1, args.stride) for count in counts)
    return min(total, args.max_frames) if args.max_frames and total else total


def open_sources(args: argparse.Namespace) -> list[Source]:
    """Every input opened (videos read their first frame): one bad path fails before any output exists."""
    opened: list[Source] = []
    try:
        for spec in args.paths:
            opened.append(open_images(spec) if args.kind == "image" else open_video(spec, args.stride))
    except SourceError:
        for source in opened:
            source.close()
        raise
    return opened


def make_sinks(args: argparse.Namespace, sources: list[Source], overwrite: bool) -> list:
    sinks: list = []
    if args.json:
        sinks.append(JsonlSink(args.json, overwrite))
    if args.csv:
        sinks.append(CsvSink(args.csv, overwrite))
    if args.save and args.kind == "image":
        sinks.append(image_sink(args.save, sources, overwrite))
    elif args.save:
        sinks.extend(video_sinks(args.save, sources, overwrite))
    return sinks


def image_sink(target: str, sources: list[Source], overwrite: bool) -> ImageDirSink | ImageFileSink:
    """`--save` for images: a directory of `NAME_out` files, or, named like an image (`annotated.png`), that
    one file, when there is one image to save."""
    if Path(target).suffix.lower() not in IMAGE_FILE_SUFFIXES:
        return ImageDirSink(target, [key for source in sources for key in source.frame_keys()], overwrite)
    count = sum(source.info.frame_count for source in sources)
    if count != 1:
        raise SinkError(target, f"names one image file, and there are {count} images to save", "give a directory")
    return ImageFileSink(target, overwrite)


def video_sinks(target: str, sources: list[Source], overwrite: bool) -> list:
    """`--save` for videos: the file itself for one input, `DIR/<stem>_out.mp4` per input for several."""
    target = Path(target)
    if len(sources) == 1:
        return [VideoSink(target, sources[0].info.fps, overwrite)]
    paths = [target / f"{Path(source.name).stem}_out.mp4" for source in sources]
    for i, path in enumerate(paths):
        if path in paths[:i]:
            first = sources[paths.index(path)].name
            raise SinkError(str(path), f"both {first} and {sources[i].name} would be saved as it")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SinkError(str(target), f"cannot make this folder ({exc.strerror or exc})") from None
    return [_OnlyFrom(source.name, VideoSink(path, source.info.fps, overwrite)) for source, path in zip(sources, paths)]


class _OnlyFrom:
    """A sink that passes on only the frames of one source (one output video per input)."""

    def __init__(self, source_name: str, sink: VideoSink) -> None:
        self.source_name, self.sink, self.path = source_name, sink, sink.path

    def check(self) -> None:
        self.sink.check()

    def __enter__(self):
        self.sink.__enter__()
        return self

    def write(self, frame, detections, image=None) -> None:
        if frame.source == self.source_name:
            self.sink.write(frame, detections, image)

    def __exit__(self, *exc_info: object) -> None:
        self.sink.__exit__(*exc_info)

    @property
    def made(self) -> bool:
        return self.sink.made


def make_progress(args: argparse.Namespace, config: Config, sources: list[Source]):
    """A tqdm bar with frames per second on stderr, only for a terminal and without --quiet."""
    if args.quiet or not config.output.progress or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from tqdm import tqdm

    total = expected_frames(args, sources)
    unit = "image" if args.kind == "image" else "frame"  # a PDF page counts as an image, as in the summary
    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)
