"""`peakday init`: for each platform a commented experiment that validates as written, with a
schema line for editors; a starter locustfile on external; nothing overwritten unasked."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from peakday.assets import EXPERIMENT_SCHEMA
from peakday.cli import main
from peakday.experiment.loader import load_experiment
from peakday.experiment.schema import experiment_schema
from peakday.experiment.starter import starter_files


@pytest.mark.parametrize("platform", ["local", "docker", "external"])
def test_init_writes_an_experiment_that_validates(
    platform: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    written = CliRunner().invoke(main, ["init", "--platform", platform, "rehearsal"])
    assert written.exit_code == 0, written.output
    spec = tmp_path / "rehearsal.yaml"
    first_line = spec.read_text().splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema={EXPERIMENT_SCHEMA.as_uri()}"
    experiment = load_experiment(spec)
    assert (experiment.name, experiment.platform) == ("rehearsal", platform)
    jsonschema.validate(yaml.safe_load(spec.read_text()), experiment_schema())
    validated = CliRunner().invoke(main, ["validate", "rehearsal.yaml"])
    assert validated.exit_code == 0, validated.output
    locustfile = tmp_path / "rehearsal_locust.py"
    assert locustfile.is_file() == (platform == "external")


def test_the_external_starter_names_its_locustfile_and_the_requests_it_sends(
    tmp_path: Path,
) -> None:
    spec, locustfile = starter_files("external", "shop", "file:///s.json")
    experiment = yaml.safe_load(spec.text)
    assert experiment["external"]["locustfile"] == str(locustfile.path) == "shop_locust.py"
    compile(locustfile.text, "shop_locust.py", "exec")  # valid Python
    for slo in experiment["slos"]:
        assert f'name="{slo["request"]}"' in locustfile.text


def test_init_never_overwrites_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    refused = CliRunner().invoke(main, ["init", "mine"])
    assert refused.exit_code == 2
    assert "already exists" in refused.output
    assert (tmp_path / "mine.yaml").read_text() == "name: mine\n"
    assert CliRunner().invoke(main, ["init", "mine", "--force"]).exit_code == 0
    assert "platform: local" in (tmp_path / "mine.yaml").read_text()


def test_init_refuses_a_name_that_is_not_a_file_name(tmp_path: Path) -> None:
    refused = CliRunner().invoke(main, ["init", "--dir", str(tmp_path), "../Bad Name"])
    assert refused.exit_code == 2
    assert "not usable" in refused.output
    assert not list(tmp_path.iterdir())
