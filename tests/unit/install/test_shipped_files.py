"""The package carries everything a run needs, and every input is checked before a run starts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from peakday.assets import (
    SHIPPED_EXPERIMENTS_DIR,
    STOREFRONT_LOCUSTFILE,
    shipped_experiment,
    shipped_experiment_files,
)
from peakday.cli import main
from peakday.errors import EnvironmentProblem, SpecError
from peakday.experiment.catalog import describe, resolve_experiment_path, shipped_experiments
from peakday.runconfig import RunOverrides, build_run_config, tools_dirs_for

REPO = Path(__file__).resolve().parents[3]
TOOLS = Path(os.environ.get("PEAKDAY_TOOLS_DIR") or REPO / ".tools" / "bin")


def test_the_repositorys_locustfile_is_a_link_to_the_packages_journeys() -> None:
    link = REPO / "locustfiles" / "storefront.py"
    assert link.is_symlink()
    assert link.resolve() == STOREFRONT_LOCUSTFILE.resolve()
    assert STOREFRONT_LOCUSTFILE.is_file()


def test_the_repositorys_experiments_are_the_shipped_ones() -> None:
    assert (REPO / "experiments").resolve() == SHIPPED_EXPERIMENTS_DIR.resolve()
    names = {path.stem for path in shipped_experiment_files()}
    assert {"smoke", "gate", "cyber-monday-login-outage"} <= names


def test_every_shipped_experiment_has_a_one_line_description() -> None:
    for item in shipped_experiments():
        assert item.description != "(no description)", item.name
        assert "\n" not in item.description


def test_describe_joins_a_folded_description_and_falls_back() -> None:
    assert describe("description: >\n  two\n  lines\n", "-") == "two lines"
    assert describe("name: x\n", "-") == "-"
    assert describe("[unclosed", "-") == "-"


def test_a_bare_name_is_a_shipped_experiment_unless_a_file_of_that_name_exists(
    tmp_path: Path,
) -> None:
    assert resolve_experiment_path("smoke", tmp_path) == shipped_experiment("smoke")
    assert resolve_experiment_path("smoke.yaml", tmp_path) == shipped_experiment("smoke")
    (tmp_path / "smoke").write_text("name: mine\n")
    assert resolve_experiment_path("smoke", tmp_path) == Path("smoke")
    assert resolve_experiment_path("sub/smoke", tmp_path) == Path("sub/smoke")
    assert resolve_experiment_path("nope", tmp_path) == Path("nope")


def test_peakday_experiments_lists_names_with_descriptions() -> None:
    result = CliRunner().invoke(main, ["experiments"])
    assert result.exit_code == 0
    line = next(row for row in result.output.splitlines() if row.startswith("smoke "))
    assert "Latency on the login proxy" in line


def test_validate_takes_a_shipped_name_from_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["validate", "smoke", "gate"]).exit_code == 0
    missing = CliRunner().invoke(main, ["validate", "no-such-experiment"])
    assert missing.exit_code == 2
    assert "peakday experiments" in missing.output


def test_a_run_by_name_uses_the_packages_journeys_from_any_folder(tmp_path: Path) -> None:
    config = build_run_config(
        Path("smoke"), RunOverrides(), environ={"PEAKDAY_TOOLS_DIR": str(TOOLS)}, cwd=tmp_path
    )
    assert config.experiment.name == "smoke"
    assert config.locustfile == STOREFRONT_LOCUSTFILE


def test_a_missing_toxiproxy_server_stops_the_run_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH either
    with pytest.raises(EnvironmentProblem, match="peakday tools install"):
        build_run_config(
            Path("smoke"), RunOverrides(), environ={"HOME": str(tmp_path)}, cwd=tmp_path
        )


def test_a_missing_external_locustfile_is_bad_input_naming_the_key(tmp_path: Path) -> None:
    example = REPO / "examples" / "own-stack" / "pretalx-session-store-hangs.yaml"
    spec = tmp_path / "mine.yaml"
    shutil.copy(example, spec)  # its locustfile (pretalx_locust.py) is not copied along
    with pytest.raises(SpecError) as raised:
        build_run_config(
            spec, RunOverrides(), environ={"PEAKDAY_TOOLS_DIR": str(TOOLS)}, cwd=tmp_path
        )
    (issue,) = raised.value.issues
    assert issue.key_path == "external.locustfile"
    assert "pretalx_locust.py" in issue.message
    assert raised.value.exit_code == 2


def test_tools_are_looked_for_in_the_override_else_the_xdg_data_dir(tmp_path: Path) -> None:
    spec = tmp_path / "exp" / "x.yaml"
    assert tools_dirs_for(spec, {"PEAKDAY_TOOLS_DIR": "/t"}, tmp_path)[0] == Path("/t")
    xdg = tools_dirs_for(spec, {"XDG_DATA_HOME": "/d", "HOME": "/h"}, tmp_path)[0]
    assert xdg == Path("/d/peakday/tools/bin")
    home = tools_dirs_for(spec, {"HOME": "/h"}, tmp_path)[0]
    assert home == Path("/h/.local/share/peakday/tools/bin")
