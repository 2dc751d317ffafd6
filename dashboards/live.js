// runform live dashboard: one WebSocket (/ws/live), JSON messages with a "type" field
// (docs/architecture.md "Live messages"). Messages only update state and mark what is dirty;
// drawing happens once per animation frame, so a burst of messages never stalls the page.
"use strict";
const { C, DASH, KEY, $, el, num, fmt, label, unit, decimals, isValid, api, fixLinks, mean, sd, values, symmetry, plot, spark } = RF;

const PLACEMENTS = ["left_foot", "right_foot", "left_shank", "right_shank"];
const LEGS = ["left", "right"];
const AXIS_COLOURS = ["#56B4E9", "#E69F00", "#009E73"]; // x y z (Okabe-Ito)
const WINDOW_S = 5;          // signal plots
const TREND_S = 300;         // trend sparklines: last 5 minutes
const KEEP_STRIDES = 4000;   // per leg in memory (~1 h at 65 strides/min)
const PREVIOUS = 12;         // previous strides drawn under the latest
const SYM_N = 20;            // strides per leg for the symmetry index
const THRESHOLD_FORM = [["eversion_excursion_deg", "max"], ["peak_tibial_accel_g", "max"], ["peak_eversion_deg", "max"],
  ["peak_eversion_velocity_dps", "max"], ["ev_tir_ratio", "max"], ["contact_time_ms", "max"], ["cadence_spm", "min"]];

const state = {
  sensors: {}, calibration: {}, coreAvailable: null, traces: {}, events: 0, strideCount: 0, seen: new Set(),
  strides: { left: [], right: [] }, reference: { left: null, right: null }, thresholds: {}, marks: [],
  recording: { available: false, status: null }, cued: new Set(), dirty: new Set(["curves", "numbers", "symmetry"]),
  msgs: 0, frames: 0, slowFrames: 0, lastPerf: performance.now(),
};

// ------------------------------------------------------------------ sensor bar and calibration
const CAL_TEXT = { standing: "… stand still", moving: "↻ walk / jog", ready: "✓ calibrated", bad: "✗ redo calibration" };
function renderSensors(list) {
  const bar = $("#sensors");
  bar.replaceChildren();
  for (const s of list) {
    state.sensors[s.placement] = s;
    const cal = state.calibration[s.placement];
    const card = el("div", { class: `sensor ${s.connection}`, "data-placement": s.placement, "data-connection": s.connection, "data-calibration": cal ? cal.state : "unknown" });
    const conn = { streaming: "● connected", connecting: "○ connecting", disconnected: "✗ disconnected", lost: "✗ lost", stopped: "■ stopped" }[s.connection] || s.connection;
    card.append(el("div", { class: "name" }, s.placement.replace("_", " ")));
    card.append(el("div", { class: "conn" }, conn));
    const total = (s.frames_received || 0) + (s.frames_lost || 0);
    const loss = total ? 100 * (s.frames_lost || 0) / total : 0;
    const batt = s.battery_percent;
    card.append(el("div", { class: "meta" + (batt !== null && batt !== undefined && batt < 20 ? " warn" : "") }, `battery ${batt ?? "?"} %`));
    card.append(el("div", { class: "meta" + (loss > 1 ? " warn" : ""), "data-testid": `loss-${s.placement}` }, `loss ${loss.toFixed(loss < 1 ? 2 : 1)} %`));
    card.append(el("div", { class: "meta cal " + (cal ? cal.state : "") }, cal ? CAL_TEXT[cal.state] || cal.state : "calibration –"));
    const rate = s.effective_rate_hz ? `${fmt(s.effective_rate_hz, 0)} Hz` : `${s.sample_rate_hz} Hz`;
    card.append(el("div", { class: "meta small", "data-testid": `frames-${s.placement}` },
      `${rate} · ${s.frames_received} frames · ${s.frames_lost} lost · ${s.frames_rejected} rejected`));
    bar.append(card);
  }
  renderCalibration();
}

function renderCalibration() {
  const box = $("#calibration"), prompt = $("#cal-prompt");
  const placements = Object.keys(state.sensors);
  const states = placements.map((p) => (state.calibration[p] || {}).state || "standing");
  let step = "standing", text;
  if (!placements.length) text = "Waiting for sensors…";
  else if (state.coreAvailable === false) { step = "none"; text = "The gait core is not running in this build: no calibration and no strides."; }
  else if (states.includes("bad")) {
    const bad = placements.filter((p) => (state.calibration[p] || {}).state === "bad").map((p) => p.replace("_", " "));
    step = "bad"; text = `Calibration failed on ${bad.join(", ")}: tighten the strap, stand still for 3 s, then jog a few strides.`;
  } else if (states.includes("standing")) text = "Step 1 — stand still, feet flat, for a few seconds.";
  else if (states.includes("moving")) { step = "moving"; text = "Step 2 — now walk or jog a few strides."; }
  else { step = "ready"; text = "Ready — calibrated. Run!"; }
  box.dataset.step = step;
  prompt.textContent = text;
  for (const s of box.querySelectorAll("[data-step]")) s.classList.toggle("on", s.dataset.step === step);
}

$("#recalibrate").addEventListener("click", async () => {
  const b = $("#recalibrate");
  b.disabled = true;
  try {
    const r = await fetch(`/api/recalibrate${location.search}`, { method: "POST" });
    if (!r.ok) alert(`Recalibration refused: ${(await r.json()).detail || r.status}`);
  } finally { b.disabled = false; }
});

// ------------------------------------------------------------------ signals
function ensurePlot(placement) {
  if (state.traces[placement]) return state.traces[placement];
  const box = el("div", { class: "plot", "data-placement": placement });
  box.append(el("div", { class: "title" }, placement.replace("_", " ")));
  const canvas = el("canvas", { "data-testid": `plot-${placement}` });
  box.append(canvas);
  const plots = $("#plots");
  const idx = PLACEMENTS.indexOf(placement);
  const after = [...plots.children].find((c) => PLACEMENTS.indexOf(c.dataset.placement) > idx);
  plots.insertBefore(box, after || null);
  state.traces[placement] = { canvas, t: [], g: [], samples: 0, dirty: true };
  return state.traces[placement];
}

function addSamples(sensors) {
  for (const [placement, d] of Object.entries(sensors)) {
    const tr = ensurePlot(placement);
    for (let i = 0; i < d.t.length; i++) { tr.t.push(d.t[i]); tr.g.push(d.gyr_dps[i]); }
    tr.samples += d.t.length;
    tr.canvas.dataset.samples = tr.samples;
    const tmax = tr.t[tr.t.length - 1];
    let cut = 0;
    while (cut < tr.t.length && tr.t[cut] < tmax - WINDOW_S) cut++;
    if (cut) { tr.t.splice(0, cut); tr.g.splice(0, cut); }
    tr.dirty = true;
  }
}

function drawSignals() {
  for (const tr of Object.values(state.traces)) {
    if (!tr.dirty || tr.t.length < 2) continue;
    tr.dirty = false;
    const t1 = tr.t[tr.t.length - 1], x = tr.t.map((t) => t - t1);
    let m = 200;
    for (const g of tr.g) for (const v of g) m = Math.max(m, Math.abs(v));
    plot(tr.canvas, { xr: [-WINDOW_S, 0], yr: [-m, m], series: [0, 1, 2].map((a) => ({ x, y: tr.g.map((g) => g[a]), color: AXIS_COLOURS[a], width: 1.3, dash: [[], [6, 3], [2, 2]][a] })) });
  }
}

// ------------------------------------------------------------------ strides
function strideKey(s) { return `${s.leg}|${s.stride_index}|${s.ic_time_s}`; }

function addStride(s) {
  if (!LEGS.includes(s.leg)) return;
  const key = strideKey(s);
  if (state.seen.has(key)) return; // replayed by hello after a reconnect
  state.seen.add(key);
  state.strideCount++;
  const arr = state.strides[s.leg];
  arr.push(s);
  if (arr.length > KEEP_STRIDES) arr.splice(0, arr.length - KEEP_STRIDES);
  $("#stride-count").textContent = state.strideCount;
  const alerts = alertsOf(s);
  if (alerts.peak_tibial_accel_g === "above") cue(s.leg, s.ic_time_s);
  const tbody = $("#stride-table tbody");
  const tr = el("tr", { "data-leg": s.leg, class: Object.keys(alerts).length ? "alert" : "" });
  for (const [k, v, d] of [["leg", s.leg, null], ["stride_index", s.stride_index, null], ["ic_time_s", s.ic_time_s, 2], ["contact_time_ms", s.contact_time_ms, 0],
    ["cadence_spm", s.cadence_spm, 0], ["strike_pattern", s.strike_pattern, null], ["peak_eversion_deg", s.peak_eversion_deg, 1],
    ["eversion_excursion_deg", s.eversion_excursion_deg, 1], ["tibial_inclination_at_ic_deg", s.tibial_inclination_at_ic_deg, 1],
    ["peak_tibial_accel_g", s.peak_tibial_accel_g, 1], ["valid", s.valid, null]]) {
    const a = alerts[k];
    tr.append(el("td", { class: a ? "alert" : "" }, (d === null ? (v ?? "–") : fmt(v, d)) + (a ? (a === "above" ? " ▲" : " ▼") : "")));
  }
  tbody.prepend(tr);
  while (tbody.children.length > 40) tbody.lastChild.remove();
  if (!state.reference[s.leg] && arr.filter(isValid).length >= SYM_N) setReference(s.leg, "first 20 valid strides");
  state.dirty.add("curves").add("numbers").add("symmetry");
}

// a shock message (if the core publishes one at toe-off) lets the cue come in the same stride
function addShock(m) {
  const lim = (state.thresholds.peak_tibial_accel_g || {}).max;
  if (lim !== undefined && num(m.peak_tibial_accel_g) !== null && m.peak_tibial_accel_g > lim) cue(m.leg, m.ic_time_s);
}

function alertsOf(s) {
  const out = {};
  for (const [k, lim] of Object.entries(state.thresholds)) {
    const v = num(s[k]);
    if (v === null) continue;
    if (lim.max !== undefined && v > lim.max) out[k] = "above";
    else if (lim.min !== undefined && v < lim.min) out[k] = "below";
  }
  return out;
}

// ------------------------------------------------------------------ audio cue (tibial-shock retraining)
let audioCtx = null;
function cue(leg, icTime) {
  const key = `${leg}|${icTime}`;
  if (state.cued.has(key)) return; // one cue per stride even if shock and stride messages both come
  state.cued.add(key);
  if (state.cued.size > 500) state.cued = new Set([...state.cued].slice(-100));
  document.body.dataset.cues = (Number(document.body.dataset.cues || 0) + 1).toString();
  if (!$("#audio").checked) return;
  try {
    audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)();
    const o = audioCtx.createOscillator(), g = audioCtx.createGain(), t = audioCtx.currentTime;
    o.frequency.value = leg === "left" ? 660 : 880; // a different pitch per leg
    g.gain.setValueAtTime(0.3, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.15);
    o.connect(g).connect(audioCtx.destination); o.start(t); o.stop(t + 0.16);
  } catch (err) { console.warn("audio cue failed", err); }
}

// ------------------------------------------------------------------ reference band
function setReference(leg, why) {
  const rows = state.strides[leg].filter(isValid).slice(-SYM_N);
  if (!rows.length) return;
  const ref = { why, n: rows.length };
  for (const k of ["eversion_at_ic_deg", "peak_eversion_deg"]) ref[k] = { m: mean(values(rows, k)), sd: sd(values(rows, k)) || 0 };
  ref.peak_pct = mean(rows.map(peakPct).filter((v) => v !== null));
  ref.curve = meanCurve(rows, "eversion_curve_deg");
  ref.shank = meanCurve(rows, "tibial_rotation_curve_deg");
  state.reference[leg] = ref;
  $("#ref-state").textContent = LEGS.map((l) => state.reference[l] ? `${l}: ${state.reference[l].why} (n=${state.reference[l].n})` : `${l}: –`).join(" · ");
  state.dirty.add("curves");
}
function peakPct(s) { const t = num(s.time_to_peak_eversion_ms), c = num(s.contact_time_ms); return t !== null && c ? 100 * t / c : null; }
function meanCurve(rows, k) {
  const curves = rows.map((r) => r[k]).filter((c) => Array.isArray(c) && c.length > 1);
  if (curves.length < 2) return null;
  const n = Math.min(...curves.map((c) => c.length)), m = [], s = [];
  for (let i = 0; i < n; i++) { const col = curves.map((c) => c[i]).filter((v) => v !== null); m.push(mean(col)); s.push(sd(col) || 0); }
  return { x: m.map((_, i) => 100 * i / (n - 1)), lo: m.map((v, i) => v - s[i]), hi: m.map((v, i) => v + s[i]) };
}

// ------------------------------------------------------------------ drawing per leg
function drawCurves() {
  for (const leg of LEGS) {
    const rows = state.strides[leg], colour = C[leg], ref = state.reference[leg];
    const latest = rows[rows.length - 1], prev = rows.slice(-PREVIOUS - 1, -1);
    const evCanvas = $(`#leg-${leg} canvas[data-curve=eversion]`), shCanvas = $(`#leg-${leg} canvas[data-curve=shank]`);
    const lim = state.thresholds.peak_eversion_deg || {};
    const hlines = lim.max !== undefined ? [{ y: lim.max, label: `target peak ${lim.max}°` }] : [];
    if (!latest) {
      plot(evCanvas, { xr: [0, 100], series: [], xlabel: "% of stance", empty: "waiting for strides…" });
      plot(shCanvas, { xr: [0, 100], series: [], xlabel: "% of stance", empty: "waiting for strides…" });
      continue;
    }
    const curveOf = (s, k) => Array.isArray(s[k]) && s[k].length > 1 ? { x: s[k].map((_, i) => 100 * i / (s[k].length - 1)), y: s[k] } : null;
    // eversion: the full curve if the core sends one, else the two key points it measures (IC, peak)
    const keyPts = (s) => ({ x: [0, peakPct(s) ?? 50], y: [num(s.eversion_at_ic_deg), num(s.peak_eversion_deg)] });
    const ev = (s) => curveOf(s, "eversion_curve_deg") || keyPts(s);
    let band = null;
    if (ref && ref.curve) band = ref.curve;
    else if (ref && ref.eversion_at_ic_deg.m !== null) {
      const a = ref.eversion_at_ic_deg, b = ref.peak_eversion_deg;
      band = { x: [0, ref.peak_pct ?? 50], lo: [a.m - a.sd, b.m - b.sd], hi: [a.m + a.sd, b.m + b.sd] };
    }
    const full = !!curveOf(latest, "eversion_curve_deg");
    plot(evCanvas, {
      xr: [0, 100], xlabel: "% of stance",
      band, hlines,
      series: [...prev.map((s) => ({ ...ev(s), color: colour, alpha: 0.3, width: 1, points: 2, dash: DASH[leg] })),
        { ...ev(latest), color: colour, width: 3.5, points: 5, dash: DASH[leg] }],
    });
    evCanvas.dataset.strides = rows.length;
    evCanvas.previousElementSibling.textContent = full ? "Eversion over stance (°) — latest (thick), previous, reference band"
      : "Eversion at IC and peak (°) — latest (thick), previous, reference band; full curves not in stride messages yet";
    // shank: the curve if present, else its per-stride key angles over the last strides
    if (curveOf(latest, "tibial_rotation_curve_deg")) {
      const fr = curveOf(latest, "shank_frontal_curve_deg");
      plot(shCanvas, { xr: [0, 100], xlabel: "% of stance", band: ref && ref.shank,
        series: [...prev.map((s) => ({ ...curveOf(s, "tibial_rotation_curve_deg"), color: colour, alpha: 0.3, width: 1 })),
          { ...curveOf(latest, "tibial_rotation_curve_deg"), color: colour, width: 3.5, dash: DASH[leg] },
          ...(fr ? [{ ...fr, color: C.pink, width: 2, marker: "square" }] : [])] });
      shCanvas.dataset.curves = "1";
      shCanvas.previousElementSibling.textContent = "Shank over stance (°): tibial internal rotation since IC (thick), ■ frontal angle (knee medial +)";
    } else {
      const last = rows.slice(-30), x = last.map((s) => num(s.stride_index));
      plot(shCanvas, { xlabel: "stride #",
        series: [{ x, y: last.map((s) => num(s.tibial_inclination_at_ic_deg)), color: colour, width: 2, points: 3, dash: DASH[leg] },
          { x, y: last.map((s) => num(s.peak_shank_frontal_angle_deg)), color: C.pink, width: 1.5, points: 3, marker: "square" },
          { x, y: last.map((s) => num(s.tibial_internal_rotation_deg)), color: C.ok, width: 1.5, dash: [2, 3] }] });
      shCanvas.previousElementSibling.textContent = "Shank per stride (°): ● tibial inclination at IC, ■ peak frontal angle, ┄ internal rotation (curves not available yet)";
    }
  }
}

function drawNumbers() {
  const now = Math.max(...LEGS.map((l) => { const a = state.strides[l]; return a.length ? num(a[a.length - 1].ic_time_s) || 0 : 0; }));
  for (const leg of LEGS) {
    const dl = $(`#leg-${leg} .numbers`), rows = state.strides[leg], s = rows[rows.length - 1] || {};
    const alerts = alertsOf(s), recent = rows.filter((r) => num(r.ic_time_s) !== null && r.ic_time_s >= now - TREND_S);
    if (!dl.children.length) {
      for (const k of KEY) {
        const div = el("div", { class: "num", "data-key": k });
        div.append(el("dt", {}, unit(k) ? `${label(k)} (${unit(k)})` : label(k)));
        div.append(el("dd", { "data-metric": k }, "–"));
        if (k !== "strike_pattern") div.append(el("canvas", { class: "spark", "aria-hidden": "true" }));
        else div.append(el("div", { class: "strike-mix muted" }));
        dl.append(div);
      }
    }
    for (const div of dl.children) {
      const k = div.dataset.key, dd = div.querySelector("dd"), a = alerts[k];
      // a shank sampled below 300 Hz misses the impact peak (the core flags the stride): say so
      const low = k === "peak_tibial_accel_g" && String(s.flags || "").split(";").includes("pta_undersampled");
      dd.textContent = (k === "strike_pattern" ? (s[k] || "–") : fmt(s[k], decimals(k))) + (a ? (a === "above" ? " ▲" : " ▼") : "") + (low ? " (low rate)" : "");
      div.classList.toggle("alert", !!a);
      div.title = [a ? `${label(k)} is ${a} the target` : "", low ? "shank sampled below 300 Hz: the impact peak falls between samples, so this reads low" : ""].filter(Boolean).join("; ");
      if (k === "strike_pattern") {
        const last = rows.slice(-20).map((r) => r.strike_pattern).filter(Boolean);
        const counts = {}; for (const p of last) counts[p] = (counts[p] || 0) + 1;
        div.querySelector(".strike-mix").textContent = Object.entries(counts).map(([p, n]) => `${p} ${n}`).join(" · ");
      } else {
        const lim = state.thresholds[k] || {}, lims = [lim.max, lim.min].filter((v) => v !== undefined).map((y) => ({ y }));
        spark(div.querySelector("canvas"), [{ x: recent.map((r) => num(r.ic_time_s)), y: recent.map((r) => num(r[k])), color: C[leg], dash: DASH[leg] }], lims);
      }
    }
    const badge = $(`#leg-${leg} .alert-badge`);
    badge.hidden = !Object.keys(alerts).length;
    badge.textContent = Object.entries(alerts).map(([k, a]) => `${a === "above" ? "▲" : "▼"} ${label(k)}`).join("  ");
    $(`#leg-${leg}`).classList.toggle("alert", Object.keys(alerts).length > 0);
  }
}

function drawSymmetry() {
  const box = $("#symmetry");
  box.replaceChildren();
  const L = state.strides.left.filter(isValid).slice(-SYM_N), R = state.strides.right.filter(isValid).slice(-SYM_N);
  for (const k of KEY) {
    if (k === "strike_pattern") continue;
    const l = mean(values(L, k)), r = mean(values(R, k)), si = symmetry(l, r);
    const row = el("div", { class: "sym" + (si !== null && Math.abs(si) > 10 ? " off" : ""), "data-metric": k });
    row.append(el("span", { class: "name" }, label(k)));
    const track = el("span", { class: "track" });
    track.append(el("span", { class: "zone" }), el("span", { class: "mid" }));
    if (si !== null) { const m = el("span", { class: "mark" }); m.style.left = `${50 + Math.max(-50, Math.min(50, si))}%`; track.append(m); }
    row.append(track);
    row.append(el("span", { class: "val" }, si === null ? "–" : `${si > 0 ? "+" : ""}${si.toFixed(1)} % ${Math.abs(si) < 0.05 ? "" : si > 0 ? "L>R" : "R>L"}`));
    row.append(el("span", { class: "lr muted" }, `L ${fmt(l, decimals(k))} · R ${fmt(r, decimals(k))}`));
    box.append(row);
  }
}

// ------------------------------------------------------------------ thresholds
function renderThresholdForm() {
  const form = $("#thr-form");
  form.replaceChildren();
  for (const [k, side] of THRESHOLD_FORM) {
    const cur = (state.thresholds[k] || {})[side];
    const lab = el("label", {}, `${label(k)} ${side === "max" ? "≤" : "≥"} `);
    const inp = el("input", { type: "number", step: "any", name: `${k}.${side}`, "data-testid": `thr-${k}`, value: cur ?? "", placeholder: "off" });
    inp.addEventListener("change", saveThresholds);
    lab.append(inp, el("span", { class: "muted" }, ` ${unit(k)}`));
    form.append(lab);
  }
}
async function saveThresholds() {
  const out = {};
  for (const [k, lim] of Object.entries(state.thresholds)) out[k] = { ...lim }; // keep limits set elsewhere
  for (const inp of $("#thr-form").querySelectorAll("input")) {
    const [k, side] = inp.name.split(".");
    out[k] = out[k] || {};
    out[k][side] = inp.value === "" ? null : Number(inp.value);
  }
  try { state.thresholds = (await api("/api/thresholds", { method: "PUT", json: out })).thresholds; } catch (err) { alert(`targets not saved: ${err.message}`); }
  state.dirty.add("numbers").add("curves");
}

// ------------------------------------------------------------------ markers, label, recording
function addMark(m) {
  if (state.marks.some((x) => x.time_s === m.time_s && x.text === m.text)) return;
  state.marks.push(m);
  const li = el("li", { "data-time": m.time_s });
  li.append(el("span", { class: "t" }, `${fmt(m.time_s, 1)} s`), el("span", { class: "txt" }, m.text));
  $("#marks").prepend(li);
}
async function mark(text) {
  text = text.trim();
  if (!text) return;
  try { addMark(await api("/api/annotations", { method: "POST", json: { text } })); $("#mark-text").value = ""; }
  catch (err) { alert(`marker not saved: ${err.message}`); }
}
function showMeta(m) {
  $("#meta-shown").textContent = [m.runner, m.label].filter(Boolean).join(" · ");
  if (document.activeElement !== $("#runner")) $("#runner").value = m.runner || "";
  if (document.activeElement !== $("#label")) $("#label").value = m.label || "";
}
function showRecording(r) {
  state.recording = r;
  const st = r.status || {}, on = !!(st.recording || st.state === "recording" || st.active);
  const btn = $("#rec");
  btn.disabled = !r.available;
  btn.textContent = on ? "■ Stop recording" : "● Record";
  btn.classList.toggle("on", on);
  btn.dataset.on = on ? "1" : "0";
  $("#rec-state").textContent = !r.available ? (r.status ? `recording: ${st.state || "on"} ${st.session_id || ""}` : "recording not available on this server")
    : on ? `recording ${st.session_id || ""}` : "not recording";
}

// ------------------------------------------------------------------ messages
function handle(msg) {
  state.msgs++;
  switch (msg.type) {
    case "hello":
      $("#version").textContent = msg.version;
      if (msg.status) {
        state.coreAvailable = msg.status.core ? msg.status.core.available : null;
        for (const [p, c] of Object.entries(msg.status.calibration || {})) state.calibration[p] = c;
        renderSensors(msg.status.sensors);
      }
      for (const m of msg.recent || []) handle(m);
      break;
    case "status":
      state.coreAvailable = msg.core ? msg.core.available : null;
      for (const n of msg.notices || []) addAlert(n);
      for (const [p, c] of Object.entries(msg.calibration || {})) state.calibration[p] = c;
      if (msg.recording && msg.recording.state === "failed") addAlert({ level: "error", source: "recording", message: `Recording stopped: ${msg.recording.error || "write failed"}` });
      renderSensors(msg.sensors);
      $("#clock").textContent = `${fmt(msg.session_time_s, 0)} s`;
      break;
    case "calibration":
      state.calibration[msg.placement] = msg;
      if (state.sensors[msg.placement]) renderSensors(Object.values(state.sensors));
      break;
    case "samples": addSamples(msg.sensors); break;
    case "stride": addStride(msg); break;
    case "shock": addShock(msg); break;
    case "event": addEvent(msg); break;
    case "annotation": addMark(msg); break;
    case "thresholds": state.thresholds = msg.thresholds; renderThresholdForm(); state.dirty.add("numbers").add("curves"); break;
    case "session_meta": showMeta(msg); break;
    case "recording": showRecording({ available: true, status: msg }); break;
    case "alert": addAlert(msg); break;
    default: break;
  }
}
// alerts: recording failures, BLE warnings (rate lowered, sensor lost), ...; newest first, deduplicated
const shownAlerts = new Map();
function addAlert(a) {
  const text = String(a.message || a.text || "");
  if (!text) return;
  const key = `${a.source || ""}|${text}`;
  if (shownAlerts.has(key)) return;
  const box = $("#alerts");
  const item = el("div", { class: `alert-item ${a.level || "warning"}`, "data-level": a.level || "warning" });
  item.append(el("strong", {}, `${(a.level || "warning").toUpperCase()}${a.source ? " · " + a.source : ""}: `));
  item.append(document.createTextNode(text));
  const close = el("button", { type: "button", "aria-label": "dismiss" }, "×");
  close.addEventListener("click", () => item.remove());
  item.append(close);
  box.prepend(item);
  shownAlerts.set(key, item);
  while (box.children.length > 5) box.lastChild.remove();
}

function addEvent(e) {
  state.events++;
  $("#event-count").textContent = state.events;
  const log = $("#event-log");
  log.prepend(el("li", {}, `${e.leg || ""} ${e.kind || ""} ${fmt(e.time_s, 3)} s`));
  while (log.children.length > 60) log.lastChild.remove();
}

function frame(ts) {
  const t0 = performance.now();
  drawSignals();
  if (state.dirty.has("curves")) drawCurves();
  if (state.dirty.has("numbers")) drawNumbers();
  if (state.dirty.has("symmetry")) drawSymmetry();
  state.dirty.clear();
  const dt = performance.now() - t0;
  state.frames++;
  if (dt > 16) state.slowFrames++;
  if (t0 - state.lastPerf > 2000) {
    $("#perf").textContent = `${(state.msgs * 1000 / (t0 - state.lastPerf)).toFixed(0)} msg/s · ${state.slowFrames} slow frames / ${state.frames}`;
    state.msgs = 0; state.frames = 0; state.slowFrames = 0; state.lastPerf = t0;
  }
  requestAnimationFrame(frame);
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws/live${location.search}`);
  ws.onopen = () => { const l = $("#link"); l.textContent = "● live"; l.className = "pill on"; };
  ws.onclose = () => { const l = $("#link"); l.textContent = "✗ disconnected"; l.className = "pill off"; setTimeout(connect, 1000); };
  ws.onmessage = (ev) => { try { handle(JSON.parse(ev.data)); } catch (err) { console.error(err); } };
}

async function init() {
  fixLinks();
  $("#mark-form").addEventListener("submit", (e) => { e.preventDefault(); mark($("#mark-text").value); });
  for (const b of document.querySelectorAll("button.quick")) b.addEventListener("click", () => mark(b.dataset.text));
  $("#meta-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try { showMeta(await api("/api/session-meta", { method: "PUT", json: { runner: $("#runner").value, label: $("#label").value } })); }
    catch (err) { alert(`not saved: ${err.message}`); }
  });
  $("#rec").addEventListener("click", async () => {
    const on = $("#rec").dataset.on === "1";
    try { showRecording(await api("/api/recording", { method: "POST", json: { action: on ? "stop" : "start", runner: $("#runner").value, label: $("#label").value } })); }
    catch (err) { alert(`recording: ${err.message}`); }
  });
  $("#set-ref").addEventListener("click", () => { for (const l of LEGS) setReference(l, "last 20 valid strides"); });
  window.addEventListener("resize", () => { state.dirty.add("curves").add("numbers"); for (const t of Object.values(state.traces)) t.dirty = true; });
  renderThresholdForm();
  connect();
  requestAnimationFrame(frame);
  try { state.thresholds = (await api("/api/thresholds")).thresholds; renderThresholdForm(); state.dirty.add("numbers").add("curves"); } catch (err) { console.warn(err); }
  try { showMeta(await api("/api/session-meta")); } catch (err) { console.warn(err); }
  try { showRecording(await api("/api/recording")); } catch (err) { console.warn(err); }
  try { for (const m of (await api("/api/annotations")).annotations) addMark(m); } catch (err) { console.warn(err); }
}
init();
