"""Config: defaults, the YAML overlay, --set, and the one-line errors for bad keys and values."""

from __future__ import annotations

import re

import pytest
import yaml

from camrec.config import Config, as_dict, for_drawing, for_live, for_stills, load_config, render_yaml
from camrec.errors import ConfigError
from tests.conftest import REPO, assert_one_error_line, run_camrec


def test_config_yaml_holds_exactly_the_builtin_defaults():
    assert yaml.safe_load((REPO / "config.yaml").read_text()) == as_dict(Config())


def test_every_key_in_config_yaml_has_a_comment():
    lines = (REPO / "config.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^  \w+:", line):
            assert lines[i - 1].strip().startswith("#"), f"no comment above {line.strip()}"


def test_config_yaml_is_what_render_yaml_writes():
    assert (REPO / "config.yaml").read_text() == render_yaml()


def test_an_overlay_changes_only_its_keys_and_resolves_paths_against_its_folder(tmp_path):
    overlay = tmp_path / "mine.yaml"
    overlay.write_text("detect:\n  block_size: 21\nmodel:\n  path: models/x.onnx\n")
    config = load_config(overlay)
    assert config.detect.block_size == 21
    assert config.detect.offset == Config().detect.offset
    assert config.model.path == str(tmp_path / "models" / "x.onnx")


def test_set_comes_after_the_overlay_and_converts_by_type(tmp_path):
    overlay = tmp_path / "mine.yaml"
    overlay.write_text("detect:\n  block_size: 21\n")
    config = load_config(overlay, ["detect.block_size=41", "webcam.mirror=yes", "classify.min_confidence=0.9"])
    assert config.detect.block_size == 41
    assert config.webcam.mirror is True
    assert config.classify.min_confidence == 0.9


def test_each_way_in_keeps_its_own_not_a_digit_threshold():
    config = load_config(None, ["classify.still_max_not_a_digit=0.3", "classify.drawn_max_not_a_digit=0.4"])
    assert for_live(config).classify.max_not_a_digit == config.classify.max_not_a_digit == 0.005
    assert for_stills(config).classify.max_not_a_digit == 0.3
    assert for_drawing(config).classify.max_not_a_digit == 0.4
    assert for_drawing(config).detect.close_up == config.detect.live_close_up  # a live source's detection
    assert for_drawing(for_live(config)).classify.max_not_a_digit == 0.4  # the webcam's fallback to drawing


def test_the_environment_variable_names_the_overlay(tmp_path, monkeypatch):
    overlay = tmp_path / "env.yaml"
    overlay.write_text("stream:\n  reconnect_s: 3\n")
    monkeypatch.setenv("CAMREC_CONFIG", str(overlay))
    assert load_config().stream.reconnect_s == 3.0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("detect.block_size=4", "config detect.block_size=4: must be an odd integer ≥ 3"),
        ("detect.block_size=abc", "must be an integer"),
        ("classify.min_confidence=1.7", "config classify.min_confidence=1.7: must be between 0 and 1"),
        ("detect.ink=blue", "must be one of dark, light, auto"),
        ("webcam.mirror=maybe", "must be true or false"),
        ("detect.blok_size=5", "unknown key (did you mean detect.block_size?)"),
        ("detekt.block_size=5", "unknown section (did you mean detect?)"),
        ("nodot=5", "expected section.key=value"),
    ],
)
def test_bad_overrides_raise_one_clear_message(override, message):
    with pytest.raises(ConfigError) as caught:
        load_config(None, [override])
    assert message in caught.value.line()


def test_bad_yaml_types_are_rejected(tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("detect:\n  block_size: true\n")
    with pytest.raises(ConfigError, match="must be an integer"):
        load_config(overlay)
    overlay.write_text("detect: [1, 2]\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(overlay)
    overlay.write_text("detect:\n  block_size: [oops\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(overlay)


def test_yaml_tags_that_would_run_code_are_refused(tmp_path):
    overlay = tmp_path / "evil.yaml"
    overlay.write_text("detect: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(overlay)


def test_cli_bad_config_value_is_one_line_and_exit_2():
    result = run_camrec("eval", "--set", "detect.block_size=4")
    assert_one_error_line(result, 2, "config detect.block_size=4: must be an odd integer ≥ 3")


def test_cli_missing_config_file_is_one_line_and_exit_2(tmp_path):
    result = run_camrec("eval", "--config", str(tmp_path / "none.yaml"))
    assert_one_error_line(result, 2, "none.yaml: no such config file")
