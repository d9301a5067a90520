"""result.json written in pieces: one document, the same result, a smaller timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peakday.errors import ResultError
from peakday.results.encoding import result_json_chunks
from peakday.results.folder import RunFolder
from peakday.results.model import Result
from peakday.results.store import load_result
from peakday.scoring.evaluate import rescore
from unit.reporting.sample_results import load_smoke, open_model, scored

SAMPLES = {"smoke": load_smoke, "scored": lambda: scored(load_smoke())}
SAMPLES["open-model"] = lambda: open_model(load_smoke())


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_the_pieces_read_back_as_the_same_result(sample: str, tmp_path: Path) -> None:
    # schema 3: older results drop `traffic` when read (the samples start from a schema-1 run)
    result = SAMPLES[sample]().model_copy(update={"schema_version": 3})
    RunFolder(tmp_path).write_result(result_json_chunks(result))
    assert load_result(tmp_path) == result


def test_rescoring_the_compact_file_gives_the_same_answers_as_the_indented_one(
    tmp_path: Path,
) -> None:
    result = scored(load_smoke())
    old = tmp_path / "old.json"
    old.write_text(result.model_dump_json(indent=2))  # how every result was written before
    new = tmp_path / "new.json"
    new.write_text("".join(result_json_chunks(result)))
    assert rescore(load_result(new)) == rescore(load_result(old))
    assert new.stat().st_size < 0.8 * old.stat().st_size


def test_rows_leave_out_default_fields_and_keep_the_required_ones() -> None:
    document = json.loads("".join(result_json_chunks(load_smoke())))
    row = document["timeline"][0]
    assert "uncorrected_histogram" not in row  # closed model: no uncorrected series
    assert {"t_s", "name", "requests", "failures", "p50_ms", "p95_ms", "p99_ms"} <= row.keys()


def test_an_empty_timeline_is_still_one_document() -> None:
    result = load_smoke().model_copy(update={"timeline": ()})
    assert Result.model_validate_json("".join(result_json_chunks(result))) == result


def test_more_rows_than_one_piece_stay_one_document() -> None:
    result = load_smoke()
    many = result.model_copy(update={"timeline": result.timeline * 40})
    assert len(many.timeline) > 2_000  # more than one chunk of rows
    assert Result.model_validate_json("".join(result_json_chunks(many))) == many


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_results_written_before_still_read(sample: str, tmp_path: Path) -> None:
    result = SAMPLES[sample]().model_copy(update={"schema_version": 3})
    (tmp_path / "result.json").write_text(result.model_dump_json(indent=2))  # the old layout
    assert load_result(tmp_path) == result
    (tmp_path / "result.json").write_text(result.model_dump_json())  # one line
    assert load_result(tmp_path) == result


def test_a_bad_row_is_refused_like_any_bad_result(tmp_path: Path) -> None:
    text = "".join(result_json_chunks(load_smoke()))
    (tmp_path / "result.json").write_text(text.replace('"requests":', '"requestz":', 1))
    with pytest.raises(ResultError, match="not a peakday result"):
        load_result(tmp_path)
