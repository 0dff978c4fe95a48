// The trace viewer's page: asks /api for one run (already indexed and decimated by the
// server) and draws the timeline, run tree, map, plots and events. Plain JS, uPlot for plots.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const state = { runs: [], run: null, other: null, t: 0, selected: null, plots: [] };
const $ = (id) => document.getElementById(id);

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function fmt(x, digits = 2) { return x === null || x === undefined ? "-" : Number(x).toFixed(digits); }
function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}
async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({ error: `${url}: ${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error || `${url}: ${response.status}`);
  return body;
}
function showError(message) { const e = $("error"); e.textContent = message; e.hidden = !message; }

// ---- URL state: #run=ID&cmp=ID, so a link or a reload keeps what was open -------------------

function hashState() { return Object.fromEntries(new URLSearchParams(location.hash.slice(1))); }
function setHash(run, cmp) {
  const p = new URLSearchParams({ run });
  if (cmp) p.set("cmp", cmp);
  history.replaceState(null, "", "#" + p.toString());
}

// ---- loading --------------------------------------------------------------------------------

async function init() {
  try {
    const list = await getJSON("/api/runs");
    state.runs = list.runs;
  } catch (err) { showError(err.message); return; }
  const runSelect = $("run-select"), cmpSelect = $("compare-select");
  for (const r of state.runs) {
    const label = `${r.name}${r.command ? " — " + r.command : ""}${r.error ? " (unreadable)" : ""}`;
    runSelect.add(new Option(label, r.id));
    cmpSelect.add(new Option(label, r.id));
  }
  const h = hashState();
  const first = state.runs.find((r) => r.id === h.run) || state.runs[state.runs.length - 1];
  runSelect.addEventListener("change", () => loadRun(runSelect.value, cmpSelect.value));
  cmpSelect.addEventListener("change", () => loadCompare(cmpSelect.value));
  if (first) { runSelect.value = first.id; if (h.cmp) cmpSelect.value = h.cmp; await loadRun(first.id, h.cmp || ""); }
}

async function loadRun(id, cmp) {
  document.body.dataset.ready = "";
  $("status").textContent = "loading…";
  showError("");
  try {
    state.run = await getJSON(`/api/runs/${encodeURIComponent(id)}`);
  } catch (err) {
    $("main").hidden = true; $("damage-banner").hidden = true; $("outcome").textContent = "";
    $("status").textContent = ""; showError(err.message); document.body.dataset.ready = "error"; return;
  }
  state.selected = null;
  render();
  await loadCompare(cmp);
  $("status").textContent = "";
  document.body.dataset.ready = id;  // tests and the benchmark wait for this
}

async function loadCompare(otherId) {
  const run = state.run;
  setHash(run.id, otherId);
  if (!otherId || otherId === run.id) { $("compare").hidden = true; state.other = null; return; }
  try {
    const [other, cmp] = await Promise.all([
      getJSON(`/api/runs/${encodeURIComponent(otherId)}`),
      getJSON(`/api/compare?a=${encodeURIComponent(run.id)}&b=${encodeURIComponent(otherId)}`),
    ]);
    state.other = other;
    renderCompare(run, other, cmp);
  } catch (err) { showError(err.message); }
}

// ---- rendering ------------------------------------------------------------------------------

function render() {
  const run = state.run;
  $("main").hidden = false;
  const outcome = $("outcome");
  outcome.textContent = run.outcome; outcome.className = "badge " + run.outcome;
  const banner = $("damage-banner");
  banner.hidden = !run.damage; banner.textContent = run.damage ? "⚠ " + run.damage.note : "";
  renderSummary(run);
  renderTimeline(run);
  renderTree(run);
  renderPlans(run);
  renderMap(run);
  renderPlots(run);
  renderClip(run);
  renderEvents(run);
  const scrub = $("scrub");
  scrub.min = run.span.sim0; scrub.max = Math.max(run.span.sim1, run.span.sim0 + 0.01);
  scrub.oninput = () => setTime(Number(scrub.value));
  setTime(run.span.sim0);
  $("details").innerHTML = '<p class="muted">Click a subgoal, plan or motion.</p>';
}

function renderSummary(run) {
  const h = run.header, end = run.end || {};
  const ok = run.subgoals.filter((s) => s.status === "ok").length;
  const failed = run.subgoals.filter((s) => s.status === "failed").length;
  const max = run.telemetry.max;
  $("summary").innerHTML = `
    <h2>“${esc(h.command)}”</h2>
    <div>robot <b>${esc(h.robot)}</b> · scene <b>${esc(h.scene)}</b> · scenario <b>${esc(h.scenario)}</b> · seed <b>${esc(h.seed)}</b> · started ${esc(h.start_wall_time)}</div>
    <div>outcome <b>${esc(run.outcome)}</b>${end.reason ? ": " + esc(end.reason) : ""}</div>
    <div>sim ${fmt(run.span.sim1 - run.span.sim0)} s · wall ${fmt(run.span.wall1)} s ·
      subgoals ${ok} ok, ${failed} failed · plan versions ${run.plans.length} ·
      safety events ${run.events.filter((e) => e.kind === "safety").length} ·
      max tracking error ${fmt(max.err_max, 4)} rad · max torque ${fmt(max.torque, 1)} N m ·
      max policy latency ${fmt(max.latency_ms, 3)} ms</div>
    <div class="muted">${esc(run.path)} · ${(run.size_bytes / 1024).toFixed(0)} KiB · ${run.messages} messages</div>`;
}

// The timeline: lanes on a sim-time axis; a message with no sim time sits at the last one seen.
const LANES = [["plan", "plans"], ["subgoal", "subgoals"], ["safety", "safety"], ["approval", "operator"], ["log", "warnings"]];
const LANE_OF = { plan: "plan", replan: "plan", command: "plan", goal: "plan", end: "plan", safety: "safety",
                  approval: "approval", log: "log", unreadable: "log", planner: "plan", llm: "plan", other: "log" };
const TL = { left: 70, right: 10, lane: 22, top: 6 };

function xScale(run, width) {
  const t0 = run.span.sim0, t1 = Math.max(run.span.sim1, t0 + 1e-3);
  return (t) => TL.left + ((t - t0) / (t1 - t0)) * (width - TL.left - TL.right);
}

function renderTimeline(run) {
  const box = $("timeline");
  box.innerHTML = "";
  const width = box.clientWidth || 1000, height = TL.top + LANES.length * TL.lane + 18;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, height });
  const x = xScale(run, width);
  LANES.forEach(([, label], i) => {
    el("text", { x: 4, y: TL.top + i * TL.lane + 15, class: "lane-label" }, svg).textContent = label;
    el("line", { x1: TL.left, x2: width - TL.right, y1: TL.top + (i + 1) * TL.lane, y2: TL.top + (i + 1) * TL.lane, stroke: "#eee" }, svg);
  });
  const laneY = (name) => TL.top + LANES.findIndex(([n]) => n === name) * TL.lane;
  for (const s of run.subgoals) {
    const t1 = s.t1 ?? run.span.sim1;
    const bar = el("rect", { x: x(s.t0), y: laneY("subgoal") + 3, width: Math.max(3, x(t1) - x(s.t0)), height: TL.lane - 6,
      class: `sg-bar ${s.status}`, "data-subgoal": s.id, "data-testid": "subgoal-bar" }, svg);
    el("title", {}, bar).textContent = `${s.label}: ${s.status}${s.reason ? " (" + s.reason + ")" : ""}, sim ${fmt(s.t0)}–${fmt(s.t1)} s`;
    bar.addEventListener("click", () => selectSubgoal(s.id));
    const w = x(t1) - x(s.t0);
    if (w > 60) {
      const label = el("text", { x: x(s.t0) + 4, y: laneY("subgoal") + 15, class: "sg-label" }, svg);
      label.textContent = s.label.length * 6 > w - 8 ? s.label.slice(0, Math.max(0, Math.floor((w - 8) / 6) - 1)) + "…" : s.label;
    }
  }
  for (const e of run.events) {
    const lane = LANE_OF[e.kind];
    if (!lane) continue;
    const cx = x(e.t), cy = laneY(lane) + TL.lane / 2;
    const mark = el("path", { d: `M${cx} ${cy - 6} L${cx + 5} ${cy} L${cx} ${cy + 6} L${cx - 5} ${cy} Z`, class: `mark ${e.kind}` }, svg);
    el("title", {}, mark).textContent = `sim ${fmt(e.sim_time)} s, wall +${fmt(e.wall)} s: ${e.text}`;
    mark.addEventListener("click", () => { setTime(e.t); showEvent(e); });
  }
  if (run.damage && !run.damage.in_summary) {
    const dx = x(run.span.sim1);
    el("line", { x1: dx, x2: dx, y1: 0, y2: height - 16, class: "damage-line" }, svg);
    el("text", { x: Math.max(TL.left, dx - 92), y: 12, class: "lane-label" }, svg).textContent = "trace ends here ▸";
  }
  el("text", { x: TL.left, y: height - 4, class: "lane-label" }, svg).textContent = `sim ${fmt(run.span.sim0)} s`;
  el("text", { x: width - TL.right - 70, y: height - 4, class: "lane-label" }, svg).textContent = `sim ${fmt(run.span.sim1)} s`;
  state.cursor = el("line", { x1: TL.left, x2: TL.left, y1: 0, y2: height - 16, class: "cursor" }, svg);
  state.x = x;
  svg.addEventListener("click", (ev) => {
    if (ev.target.tagName !== "svg") return;
    const rect = svg.getBoundingClientRect(), px = ((ev.clientX - rect.left) / rect.width) * width;
    const t0 = run.span.sim0, t1 = Math.max(run.span.sim1, t0 + 1e-3);
    setTime(t0 + ((px - TL.left) / (width - TL.left - TL.right)) * (t1 - t0));
  });
  box.appendChild(svg);
}

// Wall time at sim time t, from the telemetry's (sim, wall) pairs.
function wallAt(run, t) {
  const ts = run.telemetry.series.t, ws = run.telemetry.series.wall;
  if (!ts.length) {  // no telemetry: the last event at or before t
    const before = run.events.filter((e) => e.sim_time !== null && e.sim_time <= t).pop();
    return before ? before.wall : null;
  }
  let lo = 0, hi = ts.length - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (ts[mid] < t) lo = mid + 1; else hi = mid; }
  return ws[lo];
}

function setTime(t) {
  const run = state.run;
  t = Math.min(Math.max(t, run.span.sim0), run.span.sim1);
  state.t = t;
  $("scrub").value = t;
  const wall = wallAt(run, t);
  $("clock").textContent = `sim ${fmt(t)} s · wall ${wall === null ? "-" : "+" + fmt(wall)} s`;
  if (state.cursor) { const cx = state.x(t); state.cursor.setAttribute("x1", cx); state.cursor.setAttribute("x2", cx); }
  const active = run.subgoals.find((s) => s.t0 <= t && t <= (s.t1 ?? run.span.sim1));
  const label = run.telemetry.labels.filter((l) => l.t <= t).pop();
  $("now").textContent = active ? `now: ${active.label} (plan v${active.plan_version})${label ? " · motion " + label.label : ""}` : "";
  for (const u of state.plots) {
    const left = u.valToPos(t, "x");
    if (Number.isFinite(left)) u.setCursor({ left, top: 10 });
  }
  moveRobot(t);
}

// ---- run tree and details -------------------------------------------------------------------

function renderTree(run) {
  const root = document.createElement("ul");
  const byVersion = new Map();
  for (const s of run.subgoals) {
    if (!byVersion.has(s.plan_version)) byVersion.set(s.plan_version, []);
    byVersion.get(s.plan_version).push(s);
  }
  const versions = run.plans.length ? run.plans.map((p) => p.version) : [...byVersion.keys()];
  for (const v of versions) {
    const plan = run.plans.find((p) => p.version === v);
    const li = document.createElement("li");
    li.innerHTML = `<span class="tree-plan" data-plan="${esc(v)}"><i class="dot plan"></i>plan v${esc(v)}: ${esc(plan ? plan.reason : "")}</span>`;
    li.firstChild.addEventListener("click", () => showPlan(v));
    const ul = document.createElement("ul");
    for (const s of byVersion.get(v) || []) {
      const sli = document.createElement("li");
      sli.innerHTML = `<span class="tree-subgoal" data-subgoal="${s.id}" data-testid="tree-subgoal"><i class="dot ${s.status}"></i>[${esc(s.index)}] ${esc(s.label)} <span class="muted">${s.status}${s.reason ? " · " + esc(s.reason) : ""} · ${fmt(s.duration_s)} s</span></span>`;
      sli.firstChild.addEventListener("click", () => selectSubgoal(s.id));
      const mul = document.createElement("ul");
      for (const mid of s.motions) {
        const m = run.motions[mid];
        const mli = document.createElement("li");
        mli.innerHTML = `<span class="tree-motion" data-motion="${m.id}"><i class="dot motion"></i>${esc(m.label)} <span class="muted">${esc(m.status)} · ${m.waypoints} wp</span></span>`;
        mli.firstChild.addEventListener("click", () => showMotion(m.id));
        mul.appendChild(mli);
      }
      sli.appendChild(mul);
      ul.appendChild(sli);
    }
    li.appendChild(ul);
    root.appendChild(li);
  }
  $("tree").innerHTML = "";
  $("tree").appendChild(run.plans.length || run.subgoals.length ? root : Object.assign(document.createElement("p"), { className: "muted", textContent: "No plan in this trace." }));
}

function markSelected(selector) {
  document.querySelectorAll(".selected").forEach((n) => n.classList.remove("selected"));
  document.querySelectorAll(selector).forEach((n) => n.classList.add("selected"));
}

function dl(rows) {
  return "<dl>" + rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("") + "</dl>";
}
function pre(obj) { return `<pre>${esc(JSON.stringify(obj, null, 2))}</pre>`; }

function selectSubgoal(id) {
  const run = state.run, s = run.subgoals[id];
  state.selected = id;
  markSelected(`[data-subgoal="${id}"]`);
  setTime(s.t0);
  const motions = s.motions.map((m) => run.motions[m]);
  $("details").innerHTML = `<h3 data-testid="detail-title">subgoal [${esc(s.index)}] ${esc(s.label)}</h3>` + dl([
    ["result", `<b class="result ${s.status}" data-testid="detail-result">${esc(s.status)}</b>`],
    ["failure reason", s.reason ? `<b data-testid="detail-reason">${esc(s.reason)}</b>` : ""],
    ["message", esc(s.message)],
    ["plan version", esc(s.plan_version)],
    ["skill", esc(s.skill)],
    ["inputs (args)", pre(s.args)],
    ["success predicate", s.success ? esc(JSON.stringify(s.success)) : ""],
    ["time budget", s.time_budget_s !== null && s.time_budget_s !== undefined ? `${fmt(s.time_budget_s)} s` : ""],
    ["sim time", `${fmt(s.t0)} → ${fmt(s.t1)} s (${fmt(s.duration_s)} s)`],
    ["wall time", `+${fmt(s.wall0)} → ${s.wall1 === null ? "-" : "+" + fmt(s.wall1)} s`],
    ["outputs (observations)", Object.keys(s.observations || {}).length ? pre(s.observations) : ""],
    ["motion plans", motions.map((m) => `${esc(m.label)}: ${esc(m.status)}, ${m.waypoints} waypoints${m.planning_time_s !== null ? `, planned in ${fmt(m.planning_time_s, 3)} s` : ""}`).join("<br>")],
  ]);
}

function showPlan(version) {
  const p = state.run.plans.find((q) => q.version === version);
  if (!p) return;
  markSelected(`[data-plan="${version}"]`);
  setTime(p.t);
  $("details").innerHTML = `<h3 data-testid="detail-title">plan v${esc(p.version)}</h3>` + dl([
    ["why", esc(p.reason)], ["trigger", esc(p.trigger)], ["failed subgoal", esc(p.failed_subgoal)],
    ["failure reason", esc(p.failure_reason)], ["backend", esc(p.backend)],
    ["planning time", p.planning_time_s !== null ? fmt(p.planning_time_s, 3) + " s" : ""],
    ["subgoals", p.subgoals.map((s, i) => `${i}. ${esc(s)}`).join("<br>")],
    ["change from previous", p.diff ? diffHtml(p.diff) : "(first plan)"],
    ["LLM prompt / response / tokens", Object.keys(p.llm || {}).length ? pre(p.llm) : ""],
  ]);
}

function showMotion(id) {
  const m = state.run.motions[id];
  markSelected(`[data-motion="${id}"]`);
  setTime(m.t);
  $("details").innerHTML = `<h3 data-testid="detail-title">motion ${esc(m.label)}</h3>` + dl([
    ["status", esc(m.status)], ["planner", esc(m.planner)], ["arm", esc(m.arm)],
    ["planning time", m.planning_time_s !== null ? fmt(m.planning_time_s, 3) + " s" : ""],
    ["waypoints", m.waypoints], ["joints", esc(m.joint_names.join(", "))],
    ["start (rad)", m.start ? esc(m.start.map((v) => fmt(v, 3)).join(", ")) : ""],
    ["goal (rad)", m.goal ? esc(m.goal.map((v) => fmt(v, 3)).join(", ")) : ""],
    ["sim time", fmt(m.t)], ["wall time", "+" + fmt(m.wall)],
  ]);
}

function showEvent(e) {
  $("details").innerHTML = `<h3 data-testid="detail-title">${esc(e.kind)}</h3>` + dl([
    ["sim time", fmt(e.sim_time)], ["wall time", "+" + fmt(e.wall)], ["topic", esc(e.topic)], ["what", esc(e.text)],
    ["LLM prompt / response / tokens", e.llm ? pre(e.llm) : ""], ["details", e.details ? pre(e.details) : ""],
    ["payload", e.payload ? pre(e.payload) : ""],
  ]);
}

function diffHtml(d) {
  const parts = [];
  for (const s of d.removed) parts.push(`<span class="diff-del">− ${esc(s)}</span>`);
  for (const s of d.added) parts.push(`<span class="diff-add">+ ${esc(s)}</span>`);
  if (!parts.length) parts.push(`<span class="muted">same ${d.kept.length} subgoals (retried)</span>`);
  return parts.join("<br>");
}

function renderPlans(run) {
  $("plans").innerHTML = run.plans.map((p) => `<div class="plan-card" data-testid="plan-version">
      <b>v${esc(p.version)}</b> <span class="muted">sim ${fmt(p.sim_time)} s · wall +${fmt(p.wall)} s · ${esc(p.trigger)}</span><br>
      why: ${esc(p.reason)}<br>${p.diff ? diffHtml(p.diff) : p.subgoals.map((s) => esc(s)).join(" → ")}</div>`).join("")
    || '<p class="muted">No plan in this trace.</p>';
}

// ---- map ------------------------------------------------------------------------------------

function renderMap(run) {
  const box = $("map");
  box.innerHTML = "";
  const scene = run.map.scene, path = run.map.executed_path;
  if (!scene && !path.length) { box.innerHTML = '<p class="muted">This trace has no /scene/map and no base positions (recorded from this version on).</p>'; return; }
  const items = [...(scene ? scene.places.map((p) => ({ ...p, group: "place" })) : []),
                 ...(scene ? scene.objects.map((o) => ({ ...o, group: "object" })) : [])];
  let xs = path.map((p) => p[0]), ys = path.map((p) => p[1]);
  for (const it of items) { xs.push(it.pos[0] - it.half_size[0], it.pos[0] + it.half_size[0]); ys.push(it.pos[1] - it.half_size[1], it.pos[1] + it.half_size[1]); }
  if (scene && scene.robot_start) { xs.push(scene.robot_start[0]); ys.push(scene.robot_start[1]); }
  const pad = 0.3, x0 = Math.min(...xs) - pad, x1 = Math.max(...xs) + pad, y0 = Math.min(...ys) - pad, y1 = Math.max(...ys) + pad;
  // top-down, x to the right and y up: SVG's y grows downwards, so flip it
  const svg = el("svg", { viewBox: `${x0} ${-y1} ${x1 - x0} ${y1 - y0}`, "data-testid": "map" });
  const g = el("g", {}, svg);
  const colours = { furniture: "#d8c8b0", appliance: "#868e96", mug: "#4dabf7", item: "#ffa94d" };
  const font = Math.max(x1 - x0, y1 - y0) / 60;
  for (const it of items.sort((a, b) => (a.group === "place" ? -1 : 1) - (b.group === "place" ? -1 : 1))) {
    const [hx, hy] = it.half_size;
    const rect = el("rect", { x: it.pos[0] - hx, y: -it.pos[1] - hy, width: 2 * hx, height: 2 * hy,
      fill: it.group === "place" ? "#b2f2bb66" : colours[it.kind] || "#ced4da", stroke: it.group === "place" ? "#2f9e44" : "#495057",
      "stroke-width": font / 10, "stroke-dasharray": it.group === "place" ? `${font / 3} ${font / 5}` : "" , class: "map-" + it.group }, g);
    el("title", {}, rect).textContent = `${it.group} ${it.id}${it.kind ? " (" + it.kind + ")" : ""} at (${fmt(it.pos[0])}, ${fmt(it.pos[1])})`;
    if (it.group === "object" && it.kind !== "item" && it.kind !== "mug" || it.group === "place" && hx > 0.15)
      el("text", { x: it.pos[0], y: -it.pos[1], "font-size": font, "text-anchor": "middle", fill: "#343a40" }, g).textContent = it.id;
  }
  const planned = scene ? scene.planned_base_path || [] : [];
  if (planned.length > 1) el("polyline", { points: planned.map((p) => `${p[0]},${-p[1]}`).join(" "), fill: "none", stroke: "#f08c00", "stroke-width": font / 4, "stroke-dasharray": `${font} ${font / 2}` }, g);
  if (path.length) el("polyline", { points: path.map((p) => `${p[0]},${-p[1]}`).join(" "), fill: "none", stroke: "#1c7ed6", "stroke-width": font / 5, class: "executed-path" }, g);
  if (scene && scene.robot_start) el("circle", { cx: scene.robot_start[0], cy: -scene.robot_start[1], r: font / 2, fill: "none", stroke: "#000", "stroke-width": font / 8 }, g);
  state.robot = el("circle", { r: font / 2, fill: "#000", cx: path.length ? path[0][0] : 0, cy: path.length ? -path[0][1] : 0 }, g);
  box.appendChild(svg);
}

function moveRobot(t) {
  const run = state.run;
  if (!state.robot || !run.map.executed_path.length) return;
  const path = run.map.executed_path;  // [x, y, sim time], in time order
  let lo = 0, hi = path.length - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (path[mid][2] < t) lo = mid + 1; else hi = mid; }
  const p = path[lo];
  state.robot.setAttribute("cx", p[0]); state.robot.setAttribute("cy", -p[1]);
}

// ---- plots ----------------------------------------------------------------------------------

const PLOTS = [
  ["arm tracking error (rad)", [["err_max", "max", "#d6336c"], ["err_rms", "rms", "#845ef7"]]],
  ["joint torque |τ| max (N m)", [["torque", "max |τ|", "#e8590c"]]],
  ["base velocity vs command (m/s)", [["vx", "vx", "#1c7ed6"], ["vy", "vy", "#12b886"], ["cmd_vx", "command vx", "#1c7ed6", [6, 4]], ["cmd_vy", "command vy", "#12b886", [6, 4]]]],
  ["policy latency (ms)", [["latency_ms", "latency", "#495057"]]],
];

function renderPlots(run) {
  for (const u of state.plots) u.destroy();
  state.plots = [];
  const box = $("plots");
  box.innerHTML = "";
  const tel = run.telemetry, s = tel.series;
  $("telemetry-note").textContent = tel.count ? `${tel.count} samples${tel.stride > 1 ? `, every ${tel.stride}th plotted (${tel.kept}); maxima over all` : ""}` : "none in this trace";
  if (!tel.count) return;
  const width = Math.max(300, (box.clientWidth || 1000) / (box.clientWidth > 1000 ? 2 : 1) - 12);
  for (const [title, series] of PLOTS) {
    const div = document.createElement("div");
    div.className = "plot";
    box.appendChild(div);
    const opts = {
      title, width, height: 180,
      cursor: { sync: { key: "telemetry" } },
      // a flat series (no walking: command 0) gets a small range, not uPlot's 0..100
      scales: { x: { time: false }, y: { range: (u, lo, hi) => (lo === hi || lo === null ? [(lo ?? 0) - 0.1, (hi ?? 0) + 0.1] : uPlot.rangeNum(lo, hi, 0.1, true)) } },
      axes: [{ label: "sim time (s)" }, {}],
      series: [{ label: "sim s" }, ...series.map(([, label, stroke, dash]) => ({ label, stroke, dash, width: 1.2 }))],
      hooks: { setCursor: [(u) => { if (u.cursor.idx != null && u.cursor.event) setTime(u.data[0][u.cursor.idx]); }] },
    };
    state.plots.push(new uPlot(opts, [s.t, ...series.map(([key]) => s[key])], div));
  }
}

function renderClip(run) {
  const card = $("clip-card"), video = $("clip");
  card.hidden = !run.clip;
  if (run.clip) video.src = `/api/runs/${encodeURIComponent(run.id)}/clip`;
  else video.removeAttribute("src");
}

function renderEvents(run) {
  const table = $("events");
  table.innerHTML = "<tr><th>sim s</th><th>wall s</th><th>event</th></tr>";
  // the events and the subgoal results, in wall-clock order (the order things happened)
  const rows = run.events.map((e) => ({ wall: e.wall, sim: e.sim_time, kind: e.kind, text: e.text, click: () => { setTime(e.t); showEvent(e); } }));
  for (const s of run.subgoals) {
    if (s.status === "running") continue;
    const text = `subgoal [${s.index}] ${s.label} ${s.status === "ok" ? "ok" : "FAILED: " + (s.reason || "") + " " + (s.message || "")}`;
    rows.push({ wall: s.wall1, sim: s.t1, kind: s.status === "ok" ? "subgoal" : "failed", text, click: () => selectSubgoal(s.id) });
  }
  rows.sort((a, b) => a.wall - b.wall);
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.className = r.kind;
    tr.innerHTML = `<td class="num">${fmt(r.sim)}</td><td class="num">+${fmt(r.wall)}</td><td>${esc(r.text)}</td>`;
    tr.addEventListener("click", r.click);
    table.appendChild(tr);
  }
}

// ---- two runs side by side ------------------------------------------------------------------

function renderCompare(a, b, cmp) {
  $("compare").hidden = false;
  $("compare-summary").innerHTML = `<b>A</b> ${esc(a.name)} (${esc(a.outcome)}) vs <b>B</b> ${esc(b.name)} (${esc(b.outcome)}): ` +
    (cmp.diverged_at === null ? esc(cmp.summary) : `<b data-testid="diverged">diverged at ${esc(cmp.summary)}</b>`);
  const cell = (run, id) => {
    if (id === null || id === undefined) return "<td class=\"muted\">—</td><td></td>";
    const s = run.subgoals[id];
    return `<td><i class="dot ${s.status}"></i>${esc(s.label)} <span class="muted">v${esc(s.plan_version)}</span></td><td>${esc(s.status)}${s.reason ? " · " + esc(s.reason) : ""} · sim ${fmt(s.t0)}–${fmt(s.t1)} s</td>`;
  };
  $("compare-table").innerHTML = "<tr><th>#</th><th>A subgoal</th><th>A result</th><th>B subgoal</th><th>B result</th></tr>" +
    cmp.rows.map((r) => `<tr class="${r.row === cmp.diverged_at ? "diverged" : r.same ? "" : "differs"}"><td>${r.row + 1}</td>${cell(a, r.a)}${cell(b, r.b)}</tr>`).join("");
}

window.addEventListener("resize", () => { if (state.run) { renderTimeline(state.run); renderPlots(state.run); setTime(state.t); } });
init();
