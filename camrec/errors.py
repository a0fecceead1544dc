"""Typed errors: library code raises these, only `cli.py` turns them into one line and an exit code."""

from __future__ import annotations


class CamrecError(Exception):
    """Base of every error camrec reports to the user as one line.

    `subject` names the input at fault (a path, `camera 2`, `config detect.block_size=4`); the message
    says what is wrong, and `hint` what to do about it.
    """

    exit_code = 2

    def __init__(self, subject: str, problem: str, hint: str | None = None) -> None:
        self.subject = subject
        self.problem = problem
        self.hint = hint
        super().__init__(self.line())

    def line(self) -> str:
        text = f"{self.subject}: {self.problem}"
        return f"{text} ({self.hint})" if self.hint else text


class ConfigError(CamrecError):
    """An unknown config key or a bad value."""


class DataError(CamrecError):
    """The MNIST files are missing or corrupt."""


class ModelError(CamrecError):
    """The model file is missing, unreadable or of the wrong shape."""


class SourceError(CamrecError):
    """A source cannot be opened."""


class SourceLost(CamrecError):
    """A source stopped delivering frames mid-run (exit 3)."""

    exit_code = 3


class SinkError(CamrecError):
    """An output cannot be written."""


class OutputFailed(SinkError):
    """An output stopped taking what was written mid-run: a full disk, an encoder that ended (exit 1)."""

    exit_code = 1


class DisplayError(CamrecError):
    """A window was asked for where there is no display."""
