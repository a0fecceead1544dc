"""Key tables for the window apps: one table per app feeds its docstring, `--help` and the on-screen hint."""

from __future__ import annotations

Key = tuple[tuple[int, ...], str, str]  # key codes, action name, what it does (as shown to people)


def key_name(code: int) -> str:
    return {27: "Esc", 32: "space"}.get(code, chr(code))


def describe(keys: list[Key]) -> list[str]:
    """One line per entry, e.g. `q/Esc  quit`."""
    return [f"{'/'.join(key_name(c) for c in codes):8s} {text}" for codes, _, text in keys]


def action_for(keys: list[Key], code: int) -> str | None:
    for codes, action, _ in keys:
        if code in codes:
            return action
    return None


WEBCAM_KEYS: list[Key] = [
    ((ord("q"), 27), "quit", "quit (closing the window quits too)"),
    ((ord(" "),), "pause", "pause / resume"),
    ((ord("s"),), "snapshot", "snapshot: frame PNG and its JSON line into runs/"),
    ((ord("d"),), "debug", "debug view: threshold mask and the 28x28 crops the classifier sees"),
    ((ord("+"), ord("=")), "more", "raise the confidence threshold"),
    ((ord("-"),), "less", "lower the confidence threshold"),
    ((ord("m"),), "mirror", "mirror the preview (recognition is never mirrored)"),
    ((ord("h"),), "help", "show / hide this key list"),
    ((ord("w"),), "write", "write the trackbar settings to an overlay file under runs/"),
]

DRAW_KEYS: list[Key] = [
    ((ord("q"), 27), "quit", "quit (closing the window quits too)"),
    ((ord("c"),), "clear", "clear the canvas"),
    ((ord("u"),), "undo", "undo the last stroke"),
    ((ord("s"),), "save", "save the drawing (PNG) and its result (JSON) into runs/"),
    ((ord("h"),), "help", "show / hide this key list"),
]
