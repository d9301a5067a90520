"""The dashboard's one page: HTML with its CSS and script (static/) inline; no build step, nothing
from a CDN.

The script follows /events (server-sent events, one JSON snapshot of dashboard.state each) or,
when replaying a finished run, asks /state?at=SECONDS as the time slider moves. Text is set with
textContent; only the SVG charts rendered by peakday's report code are inserted as markup.
"""

from __future__ import annotations

import html
from importlib import resources


def _static(name: str) -> str:
    return (resources.files("peakday.dashboard") / "static" / name).read_text(encoding="utf-8")


def _chart_css() -> str:
    """The report's own rules for its SVG charts (the page reuses the report's chart code)."""
    css = (resources.files("peakday.reporting") / "templates" / "report.css").read_text("utf-8")
    # Both `svg .x` and `svg.chart`: the latter sets the charts' font size in the viewBox's
    # units; without it the page's 16 px (or the projector's) clipped the y-axis labels.
    return "\n".join(line for line in css.splitlines() if line.startswith(("svg ", "svg.")))


def render_page(title: str, replay: bool) -> str:
    """The page; the same for a live run and a replay (`replay` shows the time slider)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · peakday live</title>
<style>{_static("dashboard.css")}
{_chart_css()}</style></head>
<body data-replay="{"1" if replay else "0"}" data-state="waiting">
<header><h1 id="name">peakday</h1><div id="phase">connecting…</div><div id="clock"></div>
<div id="outcome"></div>
<a id="report-link" class="hidden" href="/report" style="color:#9cf">report</a>
<button id="projector" title="large type for a projector">projector mode</button></header>
<main>
<section class="wide hidden" id="replay"><h2>replay <span id="at"></span></h2>
<input id="slider" type="range" min="0" max="1" step="1" value="0"></section>
<section class="wide"><h2>stop</h2><div class="buttons">
<input id="who" placeholder="your name" size="14">
<button id="end-faults" class="stop" disabled>end all faults now</button>
<button id="end-run" class="stop" disabled>end the run now</button>
<span id="press-result"></span><span id="notice"></span></div></section>
<section><h2>fault timeline</h2><table><thead><tr><th>fault</th><th>target</th><th>state</th>
<th>countdown</th><th>when</th></tr></thead><tbody id="faults"></tbody></table></section>
<section><h2>steps (last second)</h2><table><thead><tr><th>step</th><th>rps</th><th>success</th>
<th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody id="steps"></tbody></table></section>
<section class="wide"><div id="throughput"></div></section>
<section class="wide"><h2>per step</h2><div class="charts" id="charts"></div></section>
<section class="wide hidden" id="server"><h2>server-side series (Prometheus)</h2>
<div class="charts" id="server-charts"></div></section>
<section><h2>steady state</h2><p id="baseline"></p>
<h2>load generator</h2><p id="generator"></p></section>
<section><h2>SLOs so far</h2><table><thead><tr><th>SLO</th><th>phase</th><th>objective</th>
<th>measured</th><th>verdict</th></tr></thead><tbody id="slos"></tbody></table></section>
<section><h2>stop conditions</h2><table><thead><tr><th>name</th><th>when</th><th>in breach</th>
<th>action</th></tr></thead><tbody id="stops"></tbody></table></section>
<section><h2>resiliency matrix</h2><table><thead id="matrix-head"></thead>
<tbody id="matrix"></tbody></table></section>
</main>
<script>{_static("dashboard.js")}</script>
</body></html>
"""
