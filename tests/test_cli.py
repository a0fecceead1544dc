"""The command line itself: help, version, usage errors, outputs that are never overwritten silently."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, assert_one_error_line, run_camrec

NO_TENSORFLOW = """
import sys
from camrec.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = [m for m in ("tensorflow", "keras", "torch") if m in sys.modules]
print("HEAVY", heavy)
"""


def _modules_loaded_by(argv: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW.format(argv=argv)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    return result.stdout


def test_help_lists_every_command_without_importing_tensorflow():
    result = run_camrec("--help")
    assert result.returncode == 0
    for command in ("eval",):
        assert command in result.stdout
    assert "HEAVY []" in _modules_loaded_by(["--help"])


def test_version_and_config_errors_do_not_import_tensorflow():
    assert "HEAVY []" in _modules_loaded_by(["--version"])
    assert "HEAVY []" in _modules_loaded_by(["eval", "--set", "detect.block_size=4"])


def test_version_prints_the_package_version():
    from camrec import __version__

    result = run_camrec("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_unknown_command_and_bad_option_are_one_line_exit_2():
    assert_one_error_line(run_camrec("evaluate"), 2, "invalid choice")
    assert_one_error_line(run_camrec("eval", "--frobnicate"), 2, "--frobnicate")


def test_existing_output_is_not_overwritten_without_overwrite(tmp_path):
    out = tmp_path / "eval.json"
    out.write_text("keep me\n")
    assert_one_error_line(run_camrec("eval", "--json", str(out)), 2, "eval.json: already exists", "--overwrite")
    assert out.read_text() == "keep me\n"
    result = run_camrec("eval", "--json", str(out), "--overwrite", "--quiet")
    assert result.returncode == 0, result.stderr
    assert '"accuracy"' in out.read_text()
