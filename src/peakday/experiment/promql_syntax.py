"""PromQL syntax of `source: prometheus` queries, checked offline with Prometheus's `promtool`
when it is installed, so `peakday validate` refuses what `peakday run` would (a run also asks
the server itself before any load, which needs no promtool).

Each query is put in a throw-away rules file as a recording rule; `promtool check rules` parses
it with Prometheus's own parser and prints the parse error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from peakday.errors import SpecIssue
from peakday.experiment.models import Experiment, Slo, StopCondition
from peakday.experiment.yaml_lines import Locator

# promtool's message after the rule's name: "could not parse expression: 1:16: parse error: ..."
_PARSE_ERROR = re.compile(r"could not parse expression:\s*(.*)$", re.MULTILINE)

# query -> Prometheus's parse error, or None when it parses (or cannot be checked here)
SyntaxChecker = Callable[[str], str | None]


def promtool_checker() -> SyntaxChecker | None:
    """A checker running promtool, or None when promtool is not installed."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return None

    def check(query: str) -> str | None:
        rules = {"groups": [{"name": "peakday", "rules": [{"record": "q", "expr": query}]}]}
        with tempfile.TemporaryDirectory(prefix="peakday-promql-") as folder:
            path = Path(folder) / "rules.yml"
            path.write_text(yaml.safe_dump(rules), encoding="utf-8")
            try:
                done = subprocess.run(
                    [promtool, "check", "rules", str(path)],
                    capture_output=True,
                    text=True,
                    timeout=20,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired):
                return None  # cannot say; the run asks the server
        if done.returncode == 0:
            return None
        found = _PARSE_ERROR.search(done.stdout + done.stderr)
        return found.group(1).strip() if found else None

    return check


def promql_issues(
    experiment: Experiment, locator: Locator, check: SyntaxChecker
) -> Iterator[SpecIssue]:
    entries: list[tuple[str, int, Slo | StopCondition]] = [
        ("slos", i, slo) for i, slo in enumerate(experiment.slos)
    ]
    entries += [("stop_conditions", i, c) for i, c in enumerate(experiment.stop_conditions)]
    for section, index, entry in entries:
        if entry.source != "prometheus" or entry.query is None:
            continue
        error = check(entry.query)
        if error is not None:
            yield locator.issue(
                (section, index, "query"),
                f"The PromQL query {entry.query.strip()!r} does not parse: {error}.",
                "Fix the expression (promtool check rules and Prometheus's expression "
                "browser give the same error); quote the query or use '>' in YAML.",
            )
