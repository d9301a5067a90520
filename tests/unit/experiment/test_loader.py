from __future__ import annotations

from pathlib import Path

import pytest

from peakday.errors import SpecError
from peakday.experiment.loader import load_experiment, validate_files
from peakday.experiment.units import parse_objective

FIXTURES = Path(__file__).parent / "fixtures"


def test_smoke_experiment_loads_with_durations_in_seconds() -> None:
    experiment = load_experiment(FIXTURES / "smoke.yaml")

    assert experiment.name == "smoke"
    assert (experiment.load.duration, experiment.load.warmup) == (180.0, 30.0)
    (fault,) = experiment.faults
    assert (fault.proxy, fault.toxic, fault.at, fault.end) == ("auth_login", "latency", 60.0, 120.0)
    assert fault.attributes == {"latency": 500.0, "jitter": 50.0}
    assert [slo.request for slo in experiment.slos] == ["login", "checkout"]
    assert experiment.slos[0].parsed_objective == parse_objective("< 800ms", "p95")


def test_experiment_with_every_toxic_type_loads() -> None:
    experiment = load_experiment(FIXTURES / "all_toxics.yaml")

    assert {fault.toxic for fault in experiment.faults} == {
        "latency",
        "bandwidth",
        "slow_close",
        "timeout",
        "reset_peer",
        "slicer",
        "limit_data",
        "down",
    }
    assert experiment.load.request_timeout == 2.5
    assert [stage.until for stage in experiment.load.stages] == [300.0, 900.0, 1200.0]


def test_merge_keys_copy_fields_from_the_anchored_fault() -> None:
    experiment = load_experiment(FIXTURES / "all_toxics.yaml")

    merged = experiment.faults[1]
    assert (merged.proxy, merged.duration, merged.toxic) == ("auth_introspect", 60.0, "bandwidth")
    assert merged.attributes == {"rate": 50.0}


def test_invalid_file_raises_spec_error_with_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nload:\n  users: many\n  spawn_rate: 1\n  duration: 1m\n")

    with pytest.raises(SpecError) as caught:
        load_experiment(path)

    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{path}:3: load.users: ")


def test_missing_file_is_an_issue_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(SpecError) as caught:
        load_experiment(path)

    (issue,) = caught.value.issues
    assert (issue.file, issue.line) == (str(path), None)
    assert "does not exist" in issue.message
    assert "path" in issue.hint


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"", "empty", id="empty-file"),
        pytest.param(b"# only a comment\n\n", "empty", id="only-comments"),
        pytest.param(b"name: caf\xe9\n", "UTF-8", id="not-utf8"),
    ],
)
def test_unreadable_content_is_one_issue(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)

    (issue,) = validate_files([path])[str(path)]

    assert words in issue.message
    assert issue.hint


def test_not_utf8_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\n")

    (issue,) = validate_files([path])[str(path)]

    assert issue.line == 2
    assert "0xe9" in issue.message


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "smoke.yaml").read_bytes())

    assert load_experiment(path).name == "smoke"


def test_directory_is_an_issue(tmp_path: Path) -> None:
    (issue,) = validate_files([tmp_path])[str(tmp_path)]

    assert "directory" in issue.message


def test_validate_files_reports_every_file_in_one_pass(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nload: {users: 0, spawn_rate: 1, duration: 1m}\nsloss: []\n")
    missing = tmp_path / "missing.yaml"
    good = FIXTURES / "smoke.yaml"

    results = validate_files([good, bad, missing])

    assert list(results) == [str(good), str(bad), str(missing)]
    assert results[str(good)] == []
    assert [(issue.line, issue.key_path) for issue in results[str(bad)]] == [
        (2, "load.users"),
        (3, "sloss"),
    ]
    assert len(results[str(missing)]) == 1
