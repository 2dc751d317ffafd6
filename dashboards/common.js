// runform dashboards: helpers shared by the live, review and compare pages (plain JS, no build).
// Everything that shows user text (labels, annotations, runner names) goes through textContent,
// never innerHTML, so a label cannot inject a script.
"use strict";

const RF = (() => {
  // Okabe-Ito palette (colour-blind safe); legs also differ by line style and an L/R label
  const C = { left: "#56B4E9", right: "#E69F00", alert: "#D55E00", ok: "#009E73", grid: "#2f3943",
    text: "#eef2f5", muted: "#93a1ad", band: "rgba(240,228,66,0.18)", bandEdge: "#F0E442", pink: "#CC79A7", blue: "#0072B2" };
  const DASH = { left: [], right: [7, 4] };

  // metric key -> [label, unit, decimals]; units of the stride columns (docs/metrics.md)
  const METRICS = {
    cadence_spm: ["cadence", "steps/min", 0],
    contact_time_ms: ["contact time", "ms", 0],
    flight_time_ms: ["flight time", "ms", 0],
    stride_time_ms: ["stride time", "ms", 0],
    foot_strike_angle_deg: ["foot strike angle", "°", 1],
    strike_pattern: ["strike pattern", "", null],
    eversion_at_ic_deg: ["eversion at IC", "°", 1],
    peak_eversion_deg: ["peak eversion", "°", 1],
    eversion_excursion_deg: ["eversion excursion", "°", 1],
    peak_eversion_velocity_dps: ["peak eversion velocity", "°/s", 0],
    time_to_peak_eversion_ms: ["time to peak eversion", "ms", 0],
    tibial_inclination_at_ic_deg: ["tibial inclination at IC", "°", 1],
    peak_shank_frontal_angle_deg: ["peak shank frontal angle", "°", 1],
    tibial_internal_rotation_deg: ["tibial internal rotation", "°", 1],
    ev_tir_ratio: ["EV/TIR", "", 2],
    peak_tibial_accel_g: ["peak tibial acceleration", "g", 1],
    stride_length_m: ["stride length", "m", 2],
    speed_mps: ["speed", "m/s", 2],
  };
  // the key numbers of the live view (issue 7)
  const KEY = ["cadence_spm", "contact_time_ms", "strike_pattern", "eversion_at_ic_deg", "peak_eversion_deg",
    "eversion_excursion_deg", "peak_eversion_velocity_dps", "tibial_inclination_at_ic_deg", "peak_tibial_accel_g", "ev_tir_ratio"];

  const $ = (sel, root = document) => root.querySelector(sel);
  function el(tag, attrs = {}, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const num = (v) => (v === null || v === undefined || v === "" || Number.isNaN(Number(v))) ? null : Number(v);
  const fmt = (v, d = 1) => { if (num(v) === null) return "–"; const s = Number(v).toFixed(d); return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s; };
  const label = (k) => (METRICS[k] ? METRICS[k][0] : k);
  const unit = (k) => (METRICS[k] ? METRICS[k][1] : "");
  const decimals = (k) => (METRICS[k] ? METRICS[k][2] : 2);
  const labelUnit = (k) => unit(k) ? `${label(k)} (${unit(k)})` : label(k);
  const isValid = (s) => String(s.valid) === "1" || s.valid === true;

  // the token of the printed URL (?token=...) travels with every API call and link
  const TOKEN = new URLSearchParams(location.search).get("token");
  function withToken(path) {
    if (!TOKEN) return path;
    return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);
  }
  async function api(path, opts = {}) {
    const init = { ...opts, headers: { ...(opts.headers || {}) } };
    if (opts.json !== undefined) { init.body = JSON.stringify(opts.json); init.headers["content-type"] = "application/json"; delete init.json; }
    const r = await fetch(withToken(path), init);
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : `HTTP ${r.status}`);
    return body;
  }
  function fixLinks() { for (const a of document.querySelectorAll("a[data-nav]")) a.href = withToken(a.getAttribute("href")); }

  // ------------------------------------------------------------------ statistics
  const mean = (a) => a.length ? a.reduce((x, y) => x + y, 0) / a.length : null;
  const sd = (a) => { if (a.length < 2) return null; const m = mean(a); return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1)); };
  const values = (rows, k) => rows.map((r) => num(r[k])).filter((v) => v !== null);
  // symmetry index SI = 100 (L - R) / (0.5 (L + R)) (Robinson et al. 1987; docs/metrics.md)
  function symmetry(l, r) { if (l === null || r === null) return null; const d = 0.5 * (l + r); return Math.abs(d) < 1e-9 ? null : 100 * (l - r) / d; }

  // ------------------------------------------------------------------ canvas
  function fit(canvas) {
    const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth || 300, h = canvas.clientHeight || 150;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return { ctx, w, h };
  }
  function niceRange(lo, hi, pad = 0.08) {
    if (lo === null || hi === null || !Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const p = (hi - lo) * pad; return [lo - p, hi + p];
  }
  function ticks(lo, hi, n = 4) {
    const step0 = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(step0)), f = step0 / mag;
    const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag, out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.abs(v) < 1e-9 ? 0 : v);
    return out;
  }
  // plot(canvas, {series:[{x,y,color,dash,width,points,alpha,label}], band:{x,lo,hi}, hlines:[{y,color,label}],
  //               vlines:[{x,color,label}], xr:[lo,hi], yr:[lo,hi], xlabel, ylabel, empty})
  function plot(canvas, o) {
    const { ctx, w, h } = fit(canvas);
    const L = 46, R = 10, T = 10, B = o.xlabel ? 34 : 20;
    const xs = [], ys = [];
    for (const s of o.series || []) { xs.push(...s.x); ys.push(...s.y.filter((v) => v !== null)); }
    if (o.band) { ys.push(...o.band.lo, ...o.band.hi); xs.push(...o.band.x); }
    for (const l of o.hlines || []) ys.push(l.y);
    const xr = o.xr || niceRange(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, 0.02);
    const yr = o.yr || niceRange(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
    const X = (v) => L + (v - xr[0]) / (xr[1] - xr[0]) * (w - L - R), Y = (v) => T + (1 - (v - yr[0]) / (yr[1] - yr[0])) * (h - T - B);
    ctx.font = "12px system-ui, sans-serif"; ctx.fillStyle = C.muted; ctx.strokeStyle = C.grid; ctx.lineWidth = 1;
    for (const t of ticks(yr[0], yr[1])) { ctx.beginPath(); ctx.moveTo(L, Y(t)); ctx.lineTo(w - R, Y(t)); ctx.stroke(); ctx.textAlign = "right"; ctx.fillText(+t.toFixed(3), L - 4, Y(t) + 4); }
    ctx.textAlign = "center";
    for (const t of ticks(xr[0], xr[1], 5)) ctx.fillText(+t.toFixed(2), X(t), h - B + 14);
    if (o.xlabel) ctx.fillText(o.xlabel, (L + w - R) / 2, h - 4);
    if (o.band && o.band.x.length) {
      ctx.fillStyle = C.band; ctx.beginPath();
      o.band.x.forEach((x, i) => i ? ctx.lineTo(X(x), Y(o.band.hi[i])) : ctx.moveTo(X(x), Y(o.band.hi[i])));
      for (let i = o.band.x.length - 1; i >= 0; i--) ctx.lineTo(X(o.band.x[i]), Y(o.band.lo[i]));
      ctx.closePath(); ctx.fill();
    }
    for (const l of o.hlines || []) {
      ctx.strokeStyle = l.color || C.alert; ctx.setLineDash([3, 3]); ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(L, Y(l.y)); ctx.lineTo(w - R, Y(l.y)); ctx.stroke(); ctx.setLineDash([]);
      if (l.label) { ctx.fillStyle = l.color || C.alert; ctx.textAlign = "left"; ctx.fillText(l.label, L + 4, Y(l.y) - 4); }
    }
    for (const l of o.vlines || []) {
      ctx.strokeStyle = l.color || C.pink; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(X(l.x), T); ctx.lineTo(X(l.x), h - B); ctx.stroke();
      if (l.label) { ctx.save(); ctx.fillStyle = l.color || C.pink; ctx.textAlign = "left"; ctx.translate(X(l.x) + 3, T + 2); ctx.rotate(Math.PI / 2); ctx.fillText(l.label, 0, 0); ctx.restore(); }
    }
    for (const s of o.series || []) {
      ctx.globalAlpha = s.alpha ?? 1; ctx.strokeStyle = ctx.fillStyle = s.color || C.text; ctx.lineWidth = s.width || 2; ctx.setLineDash(s.dash || []);
      if (s.line !== false) {
        ctx.beginPath(); let pen = false;
        for (let i = 0; i < s.x.length; i++) { if (s.y[i] === null) { pen = false; continue; } pen ? ctx.lineTo(X(s.x[i]), Y(s.y[i])) : ctx.moveTo(X(s.x[i]), Y(s.y[i])); pen = true; }
        ctx.stroke();
      }
      ctx.setLineDash([]);
      if (s.points) for (let i = 0; i < s.x.length; i++) if (s.y[i] !== null) {
        ctx.beginPath();
        if (s.marker === "square") ctx.rect(X(s.x[i]) - s.points, Y(s.y[i]) - s.points, 2 * s.points, 2 * s.points);
        else ctx.arc(X(s.x[i]), Y(s.y[i]), s.points, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.globalAlpha = 1;
    }
    if (o.empty) { ctx.fillStyle = C.muted; ctx.textAlign = "center"; ctx.fillText(o.empty, (L + w - R) / 2, (T + h - B) / 2); }
    ctx.strokeStyle = C.muted; ctx.lineWidth = 1; ctx.strokeRect(L, T, w - L - R, h - T - B);
  }
  // a small sparkline without axes (trend of a key number)
  function spark(canvas, series, limits = []) {
    const { ctx, w, h } = fit(canvas);
    const ys = series.flatMap((s) => s.y).concat(limits.map((l) => l.y)).filter((v) => v !== null);
    const xs = series.flatMap((s) => s.x);
    if (ys.length < 2 || xs.length < 2) return;
    const [y0, y1] = niceRange(Math.min(...ys), Math.max(...ys)), x0 = Math.min(...xs), x1 = Math.max(...xs) || 1;
    const X = (v) => 2 + (v - x0) / ((x1 - x0) || 1) * (w - 4), Y = (v) => 2 + (1 - (v - y0) / (y1 - y0)) * (h - 4);
    for (const l of limits) { ctx.strokeStyle = C.alert; ctx.setLineDash([3, 3]); ctx.beginPath(); ctx.moveTo(0, Y(l.y)); ctx.lineTo(w, Y(l.y)); ctx.stroke(); ctx.setLineDash([]); }
    for (const s of series) {
      ctx.strokeStyle = s.color; ctx.lineWidth = 1.5; ctx.setLineDash(s.dash || []); ctx.beginPath();
      s.x.forEach((x, i) => { if (s.y[i] !== null) (i ? ctx.lineTo(X(x), Y(s.y[i])) : ctx.moveTo(X(x), Y(s.y[i]))); });
      ctx.stroke(); ctx.setLineDash([]);
    }
  }
  // histogram counts of values over shared bins
  function histogram(vals, lo, hi, nbins = 16) {
    const counts = new Array(nbins).fill(0), step = (hi - lo) / nbins || 1;
    for (const v of vals) counts[Math.min(nbins - 1, Math.max(0, Math.floor((v - lo) / step)))]++;
    return { counts, edges: counts.map((_, i) => lo + i * step), step };
  }

  return { C, DASH, METRICS, KEY, $, el, num, fmt, label, unit, decimals, labelUnit, isValid, TOKEN, withToken, api, fixLinks,
    mean, sd, values, symmetry, plot, spark, histogram, niceRange };
})();
