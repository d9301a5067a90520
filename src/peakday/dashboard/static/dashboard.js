"use strict";
const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const replay = document.body.dataset.replay === "1";
const auth = token ? "?token=" + encodeURIComponent(token) : "";
const $ = (id) => document.getElementById(id);
$("report-link").href = "/report" + auth;
if (params.get("projector") === "1") document.body.classList.add("projector");
$("projector").onclick = () => document.body.classList.toggle("projector");
const fmt = (v, unit, digits) => (v === null || v === undefined) ? "-" : v.toFixed(digits) + unit;
const mmss = (s) => { s = Math.max(0, Math.round(s)); return Math.floor(s / 60) + ":" +
  String(s % 60).padStart(2, "0"); };
function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text;
  if (cls) td.className = cls; tr.appendChild(td); return td; }
function rows(id, items, fill) { const body = $(id); body.replaceChildren();
  for (const item of items) { const tr = document.createElement("tr"); fill(tr, item); body.appendChild(tr); } }
let last = null;
function render(s) {
  last = s;
  document.body.dataset.state = s.state;
  $("name").textContent = s.name || "peakday";
  $("phase").textContent = s.phase;
  $("phase").className = s.phase.startsWith("fault") ? "fault" : (s.state === "ended" ? "ended" : "");
  $("clock").textContent = mmss(s.elapsed_s) + " / " + mmss(s.duration_s);
  $("outcome").textContent = s.final ? ("outcome: " + s.outcome +
    (s.score === null ? "" : "  score " + s.score.toFixed(0))) : "";
  $("report-link").classList.toggle("hidden", !s.final);
  rows("faults", s.faults, (tr, f) => { tr.className = f.state;
    cell(tr, f.label); cell(tr, f.target); cell(tr, f.state);
    cell(tr, f.countdown_s === null ? "" : (f.state === "current" ? "ends in " : "starts in ") +
      mmss(f.countdown_s)); cell(tr, f.detail); });
  rows("steps", s.steps, (tr, st) => { cell(tr, st.name); cell(tr, fmt(st.rps, "/s", 0));
    cell(tr, fmt(st.success_pct, "%", 1), st.success_pct !== null && st.success_pct < 99 ? "fail" : "");
    cell(tr, fmt(st.p50_ms, " ms", 0)); cell(tr, fmt(st.p95_ms, " ms", 0)); cell(tr, fmt(st.p99_ms, " ms", 0)); });
  $("throughput").innerHTML = s.throughput_svg;
  const charts = $("charts"); charts.replaceChildren();
  for (const st of s.steps) { for (const svg of [st.latency_svg, st.success_svg]) {
    const div = document.createElement("div"); div.innerHTML = svg; charts.appendChild(div); } }
  const server = $("server-charts"); server.replaceChildren();
  for (const line of s.server_series) { const div = document.createElement("div");
    div.innerHTML = line.chart_svg; server.appendChild(div); }
  $("server").classList.toggle("hidden", s.server_series.length === 0);
  $("baseline").textContent = s.baseline;
  rows("slos", s.slos, (tr, o) => { cell(tr, o.name); cell(tr, o.phase); cell(tr, o.objective);
    cell(tr, o.measured); cell(tr, o.verdict, o.verdict); });
  rows("stops", s.stops, (tr, c) => { cell(tr, c.name); cell(tr, c.condition);
    if (c.manual_by) { cell(tr, "pressed by " + c.manual_by + " at " + c.manual_at, "fail"); }
    else { const td = cell(tr, c.fired ? "FIRED" : fmt(c.in_breach_s, " s", 0) + " of " +
      fmt(c.sustained_s, " s", 0), c.fired ? "fail" : "");
      const bar = document.createElement("div"); bar.className = "bar"; const fill = document.createElement("div");
      fill.style.width = Math.min(100, 100 * c.in_breach_s / c.sustained_s) + "%"; bar.appendChild(fill);
      td.appendChild(bar); }
    cell(tr, c.action); });
  const head = $("matrix-head"); head.replaceChildren(); const htr = document.createElement("tr");
  for (const col of ["fault", ...s.matrix_columns]) { const th = document.createElement("th");
    th.textContent = col; htr.appendChild(th); } head.appendChild(htr);
  rows("matrix", s.matrix, (tr, m) => { cell(tr, m.fault);
    for (const [step, css, text] of m.cells) cell(tr, text, css); });
  $("generator").textContent = s.generator || "no generator data yet";
  $("generator").className = s.generator_trusted ? "" : "fail";
  const live = s.state !== "ended" && !replay;
  $("end-faults").disabled = !token || !live; $("end-run").disabled = !token || !live;
}
async function stop(action) {
  const who = $("who").value || "dashboard";
  const response = await fetch("/stop", { method: "POST",
    headers: { "Content-Type": "application/json", "X-Peakday-Token": token },
    body: JSON.stringify({ action, who }) });
  const reply = await response.json();
  $("press-result").textContent = response.status + ": " + (reply.error ||
    (reply.accepted ? "accepted: " + action : "already requested: " + action));
}
$("end-faults").onclick = () => stop("end_faults");
$("end-run").onclick = () => { if (confirm("End the whole run now?")) stop("end_run"); };
if (!token) $("notice").textContent = "read-only: open the URL with the token printed on the terminal to stop.";
if (replay) {
  const slider = $("slider"); $("replay").classList.remove("hidden");
  const show = async () => { const r = await fetch("/state" + (auth ? auth + "&" : "?") + "at=" + slider.value);
    render(await r.json()); $("at").textContent = slider.value + " s"; };
  slider.oninput = show;
  fetch("/state" + auth).then((r) => r.json()).then((s) => { slider.max = Math.ceil(s.duration_s);
    slider.value = slider.max; render(s); $("at").textContent = "end"; });
} else {
  const events = new EventSource("/events" + auth);
  events.onmessage = (e) => render(JSON.parse(e.data));
}
