"""Workers started elsewhere, attached exactly as docs/load.md says: `peakday run --master-bind
--expect-workers`, then the documented shell block run twice, as a user would."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from integration.peakday_process import REPO, cli_env, start_run
from integration.test_measurement import locust_request_count
from peakday.processes.children import free_loopback_ports
from peakday.results.folder import RunFolder
from peakday.results.model import Result

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCS = REPO / "docs" / "load.md"
DOCS_RUN_DIR = "results/rehearsal-1"
DOCS_PORT = "5557"


def documented_worker_block() -> str:
    """The shell block docs/load.md gives for starting one worker."""
    text = DOCS.read_text()
    section = text[text.index("### Attaching workers from other machines") :]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    (block,) = [b for b in blocks if "--worker" in b]
    assert DOCS_RUN_DIR in block and DOCS_PORT in block, block
    return block


def wait_for(path: Path, popen: subprocess.Popen[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if popen.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{path} did not appear (run exit code {popen.poll()})")
        time.sleep(0.1)


def stop_group(worker: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=5)
            return


def test_workers_attached_as_the_docs_say_are_measured_and_merged_exactly(
    tmp_path: Path,
) -> None:
    port = free_loopback_ports(1)[0]
    spec = tmp_path / "external-workers.yaml"
    spec.write_text(
        textwrap.dedent(
            """
            name: external-workers
            load:
              arrival_rate: 20
              max_concurrency: 40
              duration: 10s
              warmup: 2s
            """
        )
    )
    run_dir = tmp_path / "run"
    script = documented_worker_block().replace(DOCS_RUN_DIR, str(run_dir))
    script = script.replace(DOCS_PORT, str(port))
    workers: list[subprocess.Popen[bytes]] = []
    run = start_run(
        ["run", str(spec), "--no-color", "--master-bind", f"127.0.0.1:{port}",
         "--expect-workers", "2"],
        run_dir,
    )  # fmt: skip
    try:
        wait_for(RunFolder(run_dir).worker_env, run.popen, timeout_s=60)
        for index in range(2):
            with open(tmp_path / f"worker-{index}.log", "wb") as log:
                workers.append(
                    subprocess.Popen(
                        ["bash", "-c", script],
                        cwd=REPO,
                        env=cli_env(),
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        started = time.monotonic()
        code, out, err = run.wait(timeout_s=150)
        run_s = time.monotonic() - started
        # The workers quit when the master does.
        exits = [worker.wait(timeout=15) for worker in workers]
    finally:
        if run.popen.poll() is None:
            run.popen.kill()
            run.popen.wait(timeout=10)
        for worker in workers:
            stop_group(worker)

    output = out + err
    logs = "".join((tmp_path / f"worker-{i}.log").read_text() for i in range(len(workers)))
    assert code in (0, 4), output + logs
    assert f"waits for 2 external workers; their settings are in {run_dir}" in output, output
    assert exits == [0, 0], logs
    assert not run.survivors(), run.survivors()
    result = Result.model_validate_json((run_dir / "result.json").read_text())
    assert result.run.status == "completed"
    health = result.load_health
    assert health is not None
    assert {sample.process for sample in health.generator} == {"master", "worker-0", "worker-1"}
    assert abs(health.planned_journeys - 200) <= 2
    merged = sum(row.requests for row in result.timeline)
    assert merged == locust_request_count(run_dir) > 0
    # Each worker wrote its confirmations where worker.env said, so integrity saw them.
    integrity = result.integrity
    assert integrity is not None and integrity.checked, integrity
    assert integrity.confirmation_files == 2 and integrity.lost == 0, integrity
    print(f"merged {merged} requests == Locust's count; run took {run_s:.1f} s")
