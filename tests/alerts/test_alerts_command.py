"""``taowatch alerts generate|check``, the shape of ``taowatch dashboards``, and
``python -m alerts.generate`` kept as its alias."""

from __future__ import annotations

from alerts import generate as gen
from taowatch.cli import main as taowatch


def test_check_passes_on_the_committed_files(capsys):
    assert taowatch(["alerts", "check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_generate_writes_into_dir_and_check_names_a_file_that_drifted(tmp_path, capsys):
    assert taowatch(["alerts", "--dir", str(tmp_path), "generate"]) == 0
    rules = tmp_path / "rules" / "events.rules.yaml"
    assert rules.read_text() == (gen.RULES_DIR / "events.rules.yaml").read_text()
    assert taowatch(["alerts", "check", "--dir", str(tmp_path)]) == 0
    rules.write_text(rules.read_text() + "# edited by hand\n")
    capsys.readouterr()
    assert taowatch(["alerts", "check", "--dir", str(tmp_path)]) == 1
    assert "out of date: rules/events.rules.yaml" in capsys.readouterr().err


def test_a_knob_set_on_the_command_line_is_rendered(tmp_path):
    assert taowatch(["alerts", "generate", "--dir", str(tmp_path), "--set", "event_for=7m"]) == 0
    assert "for: 7m" in (tmp_path / "rules" / "events.rules.yaml").read_text()


def test_a_missing_thresholds_file_is_an_error_naming_it(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert taowatch(["alerts", "--thresholds", str(missing), "check"]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "cannot read the thresholds file" in err


def test_the_module_keeps_its_original_flags_and_takes_the_new_shape(tmp_path):
    assert gen.main(["--check"]) == 0
    assert gen.main(["check"]) == 0
    assert gen.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "events.rules.yaml").is_file()  # --out: the rule files, flat
