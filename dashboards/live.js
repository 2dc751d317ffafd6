// runform live dashboard: one WebSocket (/ws/live), JSON messages with a "type" field.
"use strict";
const PLACEMENTS = ["left_foot", "right_foot", "left_shank", "right_shank"];
const AXIS_COLOURS = ["#56B4E9", "#E69F00", "#009E73"]; // x y z (Okabe-Ito)
const WINDOW_S = 5;
const state = { sensors: {}, traces: {}, strides: [], events: 0, strideCount: 0, latest: {} };

const $ = (sel) => document.querySelector(sel);
function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = String(text); // textContent: never HTML
  return e;
}
const fmt = (v, d = 1) => (v === null || v === undefined || v === "" || Number.isNaN(Number(v))) ? "–" : Number(v).toFixed(d);

function renderSensors(list) {
  const bar = $("#sensors");
  bar.replaceChildren();
  for (const s of list) {
    state.sensors[s.placement] = s;
    const card = el("div", { class: `sensor ${s.connection}`, "data-placement": s.placement, "data-connection": s.connection });
    card.append(el("div", { class: "name" }, s.placement.replace("_", " ")));
    card.append(el("div", { class: "meta" }, `${s.connection} · ${s.battery_percent ?? "?"} % battery`));
    const rate = s.effective_rate_hz ? `${fmt(s.effective_rate_hz, 0)} Hz` : `${s.sample_rate_hz} Hz`;
    card.append(el("div", { class: "meta", "data-testid": `frames-${s.placement}` },
      `${rate} · ${s.frames_received} frames · ${s.frames_lost} lost · ${s.frames_rejected} rejected`));
    bar.append(card);
  }
}

function ensurePlot(placement) {
  if (state.traces[placement]) return state.traces[placement];
  const box = el("div", { class: "plot", "data-placement": placement });
  box.append(el("div", { class: "title" }, placement.replace("_", " ")));
  const canvas = el("canvas", { width: 600, height: 180, "data-testid": `plot-${placement}` });
  box.append(canvas);
  const plots = $("#plots");
  // keep a stable order
  const idx = PLACEMENTS.indexOf(placement);
  const after = [...plots.children].find((c) => PLACEMENTS.indexOf(c.dataset.placement) > idx);
  plots.insertBefore(box, after || null);
  state.traces[placement] = { canvas, t: [], g: [], samples: 0 };
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
  }
}

function draw() {
  for (const tr of Object.values(state.traces)) {
    const c = tr.canvas, ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    if (tr.t.length < 2) continue;
    const t1 = tr.t[tr.t.length - 1], t0 = t1 - WINDOW_S;
    let m = 200;
    for (const g of tr.g) for (const v of g) m = Math.max(m, Math.abs(v));
    ctx.strokeStyle = "#2a323b"; ctx.beginPath(); ctx.moveTo(0, c.height / 2); ctx.lineTo(c.width, c.height / 2); ctx.stroke();
    for (let a = 0; a < 3; a++) {
      ctx.strokeStyle = AXIS_COLOURS[a]; ctx.lineWidth = 1.5; ctx.beginPath();
      for (let i = 0; i < tr.t.length; i++) {
        const x = (tr.t[i] - t0) / WINDOW_S * c.width, y = c.height / 2 - tr.g[i][a] / m * (c.height / 2 - 4);
        i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      }
      ctx.stroke();
    }
  }
  requestAnimationFrame(draw);
}

const NUMBERS = [
  ["cadence_spm", "cadence (spm)", 0], ["contact_time_ms", "contact (ms)", 0], ["strike_pattern", "strike", null],
  ["eversion_at_ic_deg", "eversion at IC (°)", 1], ["peak_eversion_deg", "peak eversion (°)", 1],
  ["eversion_excursion_deg", "excursion (°)", 1], ["peak_eversion_velocity_dps", "ev. velocity (°/s)", 0],
  ["tibial_inclination_at_ic_deg", "tibial incl. IC (°)", 1], ["peak_tibial_accel_g", "tibial shock (g)", 1], ["ev_tir_ratio", "EV/TIR", 2],
];

function renderNumbers(leg, s) {
  const dl = $(`#leg-${leg} .numbers`);
  dl.replaceChildren();
  for (const [key, label, d] of NUMBERS) {
    const div = el("div");
    div.append(el("dt", {}, label));
    div.append(el("dd", { "data-metric": key }, d === null ? (s[key] || "–") : fmt(s[key], d)));
    dl.append(div);
  }
}

function addStride(s) {
  state.strideCount++;
  $("#stride-count").textContent = state.strideCount;
  if (s.leg === "left" || s.leg === "right") renderNumbers(s.leg, s);
  const tbody = $("#stride-table tbody");
  const tr = el("tr", { "data-leg": s.leg });
  for (const [v, d] of [[s.leg, null], [s.stride_index, null], [s.ic_time_s, 2], [s.contact_time_ms, 0], [s.cadence_spm, 0],
    [s.strike_pattern, null], [s.peak_eversion_deg, 1], [s.eversion_excursion_deg, 1], [s.tibial_inclination_at_ic_deg, 1],
    [s.peak_tibial_accel_g, 1], [s.valid, null]]) {
    tr.append(el("td", {}, d === null ? (v ?? "–") : fmt(v, d)));
  }
  tbody.prepend(tr);
  while (tbody.children.length > 30) tbody.lastChild.remove();
}

function addEvent(e) {
  state.events++;
  $("#event-count").textContent = state.events;
  const log = $("#event-log");
  log.prepend(el("li", {}, `${e.leg || ""} ${e.kind || ""} ${fmt(e.time_s, 3)} s`));
  while (log.children.length > 60) log.lastChild.remove();
}

function handle(msg) {
  switch (msg.type) {
    case "hello":
      $("#version").textContent = msg.version;
      if (msg.status) renderSensors(msg.status.sensors);
      for (const m of msg.recent || []) handle(m);
      break;
    case "status":
      renderSensors(msg.sensors);
      $("#clock").textContent = `${fmt(msg.session_time_s, 0)} s`;
      break;
    case "samples": addSamples(msg.sensors); break;
    case "stride": addStride(msg); break;
    case "event": addEvent(msg); break;
    default: break;
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws/live${location.search}`);
  ws.onopen = () => { const l = $("#link"); l.textContent = "live"; l.className = "pill on"; };
  ws.onclose = () => { const l = $("#link"); l.textContent = "disconnected"; l.className = "pill off"; setTimeout(connect, 1000); };
  ws.onmessage = (ev) => { try { handle(JSON.parse(ev.data)); } catch (err) { console.error(err); } };
}

for (const leg of ["left", "right"]) renderNumbers(leg, {});
connect();
requestAnimationFrame(draw);
