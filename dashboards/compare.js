// runform compare: two sessions, or two parts of one split at a marker, side by side, with the
// difference B - A and its uncertainty per metric (GET /api/compare, Welch).
// URL: /compare?a=ID&b=ID[&a_from=s&a_to=s&b_from=s&b_to=s] or ?a=ID&b=ID&split=K (A = before the
// K-th marker of A, B = after it).
"use strict";
const { C, DASH, METRICS, $, el, num, fmt, label, labelUnit, decimals, isValid, api, fixLinks, values, plot, histogram, niceRange, withToken } = RF;
const cache = {};
const view = { a: null, b: null, result: null };

async function session(id) {
  if (!cache[id]) cache[id] = await api(`/api/review/sessions/${encodeURIComponent(id)}`);
  return cache[id];
}
function name(s) { return `${[s.runner, s.label].filter(Boolean).join(" · ") || s.id}${s.live ? " (live)" : ""}`; }

// parts of a session: the whole, and before/after each marker
async function fillParts(sel, id, want) {
  const d = await session(id);
  sel.replaceChildren(el("option", { value: "" }, "whole session"));
  d.annotations.forEach((a, i) => {
    sel.append(el("option", { value: `:${a.time_s}` }, `before “${a.text}” (${fmt(a.time_s, 0)} s)`));
    sel.append(el("option", { value: `${a.time_s}:` }, `after “${a.text}” (${fmt(a.time_s, 0)} s)`));
  });
  if (want !== undefined && [...sel.options].some((o) => o.value === want)) sel.value = want;
}
const range = (v) => { const [f, t] = (v || ":").split(":"); return [f === "" ? null : Number(f), t === "" ? null : Number(t)]; };

async function run() {
  const a = $("#a").value, b = $("#b").value;
  if (!a || !b) return;
  const [af, at] = range($("#a-part").value), [bf, bt] = range($("#b-part").value);
  const q = new URLSearchParams({ a, b, valid_only: $("#valid-only").checked ? "1" : "0" });
  if (af !== null) q.set("a_from", af); if (at !== null) q.set("a_to", at);
  if (bf !== null) q.set("b_from", bf); if (bt !== null) q.set("b_to", bt);
  history.replaceState(null, "", withToken(`/compare?${q}`));
  const res = await api(`/api/compare?${q}`);
  view.result = res;
  view.a = { d: await session(a), from: af, to: at };
  view.b = { d: await session(b), from: bf, to: bt };
  const heads = $("#heads");
  heads.replaceChildren();
  for (const [tag, side] of [["A", res.a], ["B", res.b]]) {
    const part = side.from_s === null && side.to_s === null ? "whole" : `${side.from_s === null ? "start" : fmt(side.from_s, 0) + " s"} → ${side.to_s === null ? "end" : fmt(side.to_s, 0) + " s"}`;
    heads.append(el("div", { "data-testid": `compare-head-${tag.toLowerCase()}` }, `${tag}: ${name(side.session)} · ${part} · ${side.strides} strides`));
  }
  renderTable(res);
  draw();
}

function renderTable(res) {
  const t = $("#table");
  t.replaceChildren();
  const head = el("tr");
  for (const h of ["metric", "leg", "A mean ± SD (n)", "B mean ± SD (n)", "B − A", "± SE", "95 % interval"]) head.append(el("th", {}, h));
  t.append(el("thead")); t.tHead.append(head);
  const body = el("tbody"); t.append(body);
  const keys = Object.keys(res.metrics);
  if (!keys.length) { const tr = el("tr"); tr.append(el("td", { colspan: 7, class: "muted" }, "no strides in one of the parts")); body.append(tr); }
  for (const k of keys) for (const leg of ["left", "right"]) {
    const w = res.metrics[k][leg];
    if (!w) continue;
    const d = decimals(k) ?? 2, sig = w.ci95 && (w.ci95[0] > 0 || w.ci95[1] < 0);
    const tr = el("tr", { "data-metric": k, "data-leg": leg });
    tr.append(el("td", {}, labelUnit(k)), el("td", {}, leg),
      el("td", {}, `${fmt(w.mean_a, d)} ± ${fmt(w.sd_a, d)} (${w.n_a})`), el("td", {}, `${fmt(w.mean_b, d)} ± ${fmt(w.sd_b, d)} (${w.n_b})`),
      el("td", { class: "diff" + (sig ? " sig" : "") }, `${w.diff > 0 ? "+" : ""}${fmt(w.diff, d)} ${METRICS[k][1]}`),
      el("td", { class: "se" }, `± ${fmt(w.se, d + 1)}`),
      el("td", { class: "ci" }, w.ci95 ? `${fmt(w.ci95[0], d)} … ${fmt(w.ci95[1], d)}` : "–"));
    body.append(tr);
  }
}

function partRows(side) {
  return side.d.strides.filter((r) => (!$("#valid-only").checked || isValid(r)) && (side.from === null || num(r.ic_time_s) >= side.from) && (side.to === null || num(r.ic_time_s) < side.to));
}
function draw() {
  if (!view.result) return;
  const k = $("#metric").value, ra = partRows(view.a), rb = partRows(view.b);
  const all = [...values(ra, k), ...values(rb, k)];
  for (const leg of ["left", "right"]) {
    const cv = $(`#dist-${leg}`);
    if (!all.length) { plot(cv, { series: [], empty: "no values" }); continue; }
    const [lo, hi] = niceRange(Math.min(...all), Math.max(...all), 0.02), series = [];
    for (const [rows, alpha, dash] of [[ra, 0.55, []], [rb, 1, [7, 4]]]) {
      const v = values(rows.filter((r) => r.leg === leg), k);
      if (!v.length) continue;
      const h = histogram(v, lo, hi, 20), xs = [], ys = [];
      h.counts.forEach((c, i) => { xs.push(h.edges[i], h.edges[i] + h.step); ys.push(c / v.length, c / v.length); });
      series.push({ x: xs, y: ys, color: C[leg], alpha, width: 2.5, dash });
    }
    plot(cv, { series, xr: [lo, hi], xlabel: labelUnit(k) });
  }
}

async function init() {
  fixLinks();
  const p = new URLSearchParams(location.search);
  const { sessions } = await api("/api/review/sessions");
  for (const sel of [$("#a"), $("#b")]) for (const s of sessions) sel.append(el("option", { value: s.id }, `${name(s)} — ${s.strides ?? 0} strides`));
  const stored = sessions.filter((s) => !s.live);
  $("#a").value = p.get("a") || (stored[1] || sessions[0] || {}).id || "";
  $("#b").value = p.get("b") || (stored[0] || sessions[0] || {}).id || "";
  const part = (f, t) => (f === null && t === null ? "" : `${f ?? ""}:${t ?? ""}`);
  let wantA = part(p.get("a_from"), p.get("a_to")), wantB = part(p.get("b_from"), p.get("b_to"));
  if (p.has("split") && $("#a").value) {
    const marks = (await session($("#a").value)).annotations, m = marks[Number(p.get("split"))];
    if (m) { wantA = `:${m.time_s}`; wantB = `${m.time_s}:`; }
  }
  if ($("#a").value) await fillParts($("#a-part"), $("#a").value, wantA);
  if ($("#b").value) await fillParts($("#b-part"), $("#b").value, wantB);
  $("#a").addEventListener("change", () => fillParts($("#a-part"), $("#a").value));
  $("#b").addEventListener("change", () => fillParts($("#b-part"), $("#b").value));
  const ms = $("#metric");
  for (const k of Object.keys(METRICS)) if (k !== "strike_pattern") ms.append(el("option", { value: k }, labelUnit(k)));
  ms.value = "peak_eversion_deg";
  ms.addEventListener("change", draw);
  window.addEventListener("resize", draw);
  $("#pick").addEventListener("submit", (e) => { e.preventDefault(); run().catch((err) => alert(err.message)); });
  await run();
}
init().catch((err) => { $("#heads").textContent = `could not load: ${err.message}`; });
