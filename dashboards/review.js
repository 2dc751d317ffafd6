// runform review: a session's strides over time (trend, fatigue drift), distributions per leg,
// the eversion / tibial-rotation coupling plot, markers and exports. Data: /api/review/sessions.
"use strict";
const { C, DASH, METRICS, $, el, num, fmt, label, unit, labelUnit, decimals, isValid, api, fixLinks, values, plot, histogram, niceRange, withToken } = RF;
const STRIDE_COLUMNS_ORDER = ["leg", "stride_index", "ic_time_s", "to_time_s", "contact_time_ms", "flight_time_ms", "stride_time_ms", "cadence_spm",
  "foot_strike_angle_deg", "strike_pattern", "eversion_reference", "eversion_at_ic_deg", "peak_eversion_deg", "eversion_excursion_deg",
  "peak_eversion_velocity_dps", "time_to_peak_eversion_ms", "tibial_inclination_at_ic_deg", "peak_shank_frontal_angle_deg",
  "tibial_internal_rotation_deg", "ev_tir_ratio", "peak_tibial_accel_g", "stride_length_m", "speed_mps", "valid", "flags"];
const view = { data: null, id: null };

async function loadList() {
  const { sessions } = await api("/api/review/sessions");
  const ol = $("#sessions");
  ol.replaceChildren();
  if (!sessions.length) ol.append(el("li", { class: "muted" }, "no sessions yet"));
  for (const s of sessions) {
    const li = el("li", { "data-id": s.id, tabindex: 0 });
    li.append(el("strong", {}, s.live ? "● live" : new Date((s.start_wall || 0) * 1000).toLocaleString()));
    li.append(el("span", {}, [s.runner, s.label].filter(Boolean).join(" · ") || s.id));
    li.append(el("span", { class: "muted" }, `${s.strides ?? 0} strides · ${fmt(s.duration_s, 0)} s`));
    li.addEventListener("click", () => open(s.id));
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") open(s.id); });
    ol.append(li);
  }
  return sessions;
}

async function open(id) {
  view.id = id;
  history.replaceState(null, "", withToken(`/review?id=${encodeURIComponent(id)}`));
  for (const li of document.querySelectorAll("#sessions li")) li.classList.toggle("on", li.dataset.id === id);
  const d = await api(`/api/review/sessions/${encodeURIComponent(id)}`);
  view.data = d;
  const s = d.session;
  $("#title").textContent = `${[s.runner, s.label].filter(Boolean).join(" · ") || s.id}${s.live ? " (live)" : ""}`;
  const nValid = d.strides.filter(isValid).length;
  $("#summary").textContent = `${d.strides.length} strides (${nValid} valid) · ${fmt(s.duration_s, 0)} s · session ${s.id}`;
  const notes = $("#annotations");
  notes.replaceChildren();
  if (!d.annotations.length) notes.append(el("li", { class: "muted" }, "no markers"));
  for (const a of d.annotations) { const li = el("li"); li.append(el("span", { class: "t" }, `${fmt(a.time_s, 1)} s`), el("span", {}, a.text)); notes.append(li); }
  renderExport();
  renderStats();
  draw();
}

function rows() { return view.data ? view.data.strides.filter((r) => !$("#valid-only").checked || isValid(r)) : []; }

function draw() {
  if (!view.data) return;
  const k = $("#metric").value, rs = rows(), marks = view.data.annotations.map((a) => ({ x: num(a.time_s) / 60, label: a.text }));
  $("#cap-trend").textContent = `${labelUnit(k)} over time (min), per stride`;
  const series = [];
  for (const leg of ["left", "right"]) {
    const r = rs.filter((x) => x.leg === leg && num(x[k]) !== null);
    series.push({ x: r.map((x) => num(x.ic_time_s) / 60), y: r.map((x) => num(x[k])), color: C[leg], line: false, points: 2.5, marker: leg === "left" ? "dot" : "square", alpha: 0.7 });
    // running mean over 15 strides shows the drift
    const y = r.map((x) => num(x[k])), sm = y.map((_, i) => { const w = y.slice(Math.max(0, i - 7), i + 8); return w.reduce((a, b) => a + b, 0) / w.length; });
    series.push({ x: r.map((x) => num(x.ic_time_s) / 60), y: sm, color: C[leg], width: 2.5, dash: DASH[leg] });
  }
  plot($("#trend"), { series, vlines: marks, xlabel: "session time (min)", empty: rs.length ? null : "no strides" });
  const all = values(rs, k);
  $("#cap-dist").textContent = `${labelUnit(k)}: distribution per leg (share of strides)`;
  if (all.length) {
    const [lo, hi] = niceRange(Math.min(...all), Math.max(...all), 0.02), ds = [];
    for (const leg of ["left", "right"]) {
      const v = values(rs.filter((x) => x.leg === leg), k);
      if (!v.length) continue;
      const h = histogram(v, lo, hi, 20), xs = [], ys = [];
      h.counts.forEach((c, i) => { xs.push(h.edges[i], h.edges[i] + h.step); ys.push(c / v.length, c / v.length); });
      ds.push({ x: xs, y: ys, color: C[leg], width: 2.5, dash: DASH[leg] });
    }
    plot($("#dist"), { series: ds, xr: [lo, hi], xlabel: labelUnit(k) });
  } else plot($("#dist"), { series: [], empty: "no values" });
  const cs = [];
  for (const leg of ["left", "right"]) {
    const r = rs.filter((x) => x.leg === leg && num(x.tibial_internal_rotation_deg) !== null && num(x.eversion_excursion_deg) !== null);
    cs.push({ x: r.map((x) => num(x.tibial_internal_rotation_deg)), y: r.map((x) => num(x.eversion_excursion_deg)), color: C[leg], line: false, points: 3, marker: leg === "left" ? "dot" : "square", alpha: 0.75 });
  }
  const xsAll = cs.flatMap((s) => s.x), ysAll = cs.flatMap((s) => s.y);
  if (xsAll.length) {
    const xmax = Math.max(...xsAll, 1) * 1.1, ymax = Math.max(...ysAll, 1) * 1.1;
    cs.unshift({ x: [0, xmax], y: [0, xmax], color: C.muted, width: 1, alpha: 0.6, dash: [4, 4] }, { x: [0, xmax / 2], y: [0, xmax], color: C.muted, width: 1, alpha: 0.6, dash: [4, 4] });
    plot($("#coupling"), { series: cs, xr: [0, xmax], yr: [0, ymax], xlabel: "tibial internal rotation excursion (°) → y: eversion excursion (°)" });
  } else plot($("#coupling"), { series: [], empty: "no strides with both foot and shank" });
}

function renderStats() {
  const t = $("#stats"), sum = view.data.summary, legs = sum.legs || {};
  t.replaceChildren();
  const head = el("tr");
  for (const h of ["metric", "leg", "n", "mean", "SD", "trend / min", "drift", "SI %"]) head.append(el("th", {}, h));
  t.append(el("thead")); t.tHead.append(head);
  const body = el("tbody"); t.append(body);
  for (const k of Object.keys(METRICS)) {
    for (const leg of ["left", "right"]) {
      const m = ((legs[leg] || {}).metrics || {})[k];
      if (!m) continue;
      const d = decimals(k) ?? 2, tr = el("tr", { "data-leg": leg, "data-metric": k });
      tr.append(el("td", {}, labelUnit(k)), el("td", {}, leg), el("td", {}, m.n), el("td", {}, fmt(m.mean, d)), el("td", {}, fmt(m.sd, d)),
        el("td", {}, fmt(m.trend_per_min, d + 1)), el("td", {}, fmt(m.drift_last_minus_first_20pct, d)),
        el("td", {}, leg === "left" ? fmt((sum.symmetry_index_pct || {})[k], 1) : ""));
      body.append(tr);
    }
  }
}

function download(name, text, type) {
  const a = el("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(a); a.click(); a.remove();
}
function csvCell(v) { if (v === null || v === undefined) return ""; const s = String(v); return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; }
function renderExport() {
  const box = $("#export"), id = view.data.session.id;
  box.replaceChildren();
  const b1 = el("button", { type: "button", "data-testid": "export-strides" }, "⤓ strides.csv");
  b1.addEventListener("click", () => download(`${id}-strides.csv`, [STRIDE_COLUMNS_ORDER.join(","), ...view.data.strides.map((r) => STRIDE_COLUMNS_ORDER.map((c) => csvCell(r[c])).join(","))].join("\n") + "\n", "text/csv"));
  const b2 = el("button", { type: "button" }, "⤓ summary.json");
  b2.addEventListener("click", () => download(`${id}-summary.json`, JSON.stringify({ session: view.data.session, summary: view.data.summary, annotations: view.data.annotations }, null, 2), "application/json"));
  box.append(b1, b2);
  const b3 = el("a", { href: withToken(`/compare?a=${encodeURIComponent(id)}&b=${encodeURIComponent(id)}&split=0`) }, "compare before / after first marker");
  box.append(b3);
}

async function init() {
  fixLinks();
  const sel = $("#metric");
  for (const k of Object.keys(METRICS)) if (k !== "strike_pattern") sel.append(el("option", { value: k }, labelUnit(k)));
  sel.value = "peak_eversion_deg";
  sel.addEventListener("change", draw);
  $("#valid-only").addEventListener("change", draw);
  window.addEventListener("resize", draw);
  const sessions = await loadList();
  const want = new URLSearchParams(location.search).get("id");
  const first = sessions.find((s) => s.id === want) || sessions.find((s) => !s.live && s.strides) || sessions[0];
  if (first) await open(first.id);
}
init().catch((err) => { $("#title").textContent = `could not load: ${err.message}`; });
