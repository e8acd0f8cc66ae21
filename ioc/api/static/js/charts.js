// Small SVG charts: presentation attributes and classes only (no inline style: CSP).
import { fmtNum, fmtTime } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
function niceStep(top) {  // a round tick step that splits [0, top] into about four
  if (!(top > 0)) return 0.25;
  const raw = top / 4, p = 10 ** Math.floor(Math.log10(raw)), n = raw / p;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * p;
}
function path(points, x, y) {
  return points.map(([tx, v], i) => `${i ? "L" : "M"}${x(tx).toFixed(1)},${y(v).toFixed(1)}`).join("");
}

// spec: { since, until, series:[{points:[[ms,v]], cls, label}], lines:[{y, cls, label}], unit, height }
export function lineChart(spec) {
  const W = spec.width || 460, H = spec.height || 170, L = 44, R = 8, T = 18, B = 22;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img" });
  const top = Math.max(...spec.series.flatMap((s) => s.points.map((p) => p[1])),
    ...(spec.lines || []).map((l) => l.y ?? 0), 0) * 1.08;
  const step = niceStep(top), ticks = Math.max(1, Math.ceil(top / step)), ymax = step * ticks;
  const t0 = spec.since, t1 = Math.max(spec.until, t0 + 1);
  const x = (tx) => L + ((tx - t0) / (t1 - t0)) * (W - L - R), y = (v) => T + (1 - v / ymax) * (H - T - B);
  for (let i = 0; i <= ticks; i++) {
    const v = step * i;
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(svgEl("text", { x: L - 4, y: y(v) + 3, class: "tick", "text-anchor": "end" }, fmtNum(v, 2)));
  }
  const long = t1 - t0 > 86400e3;
  for (let i = 0; i <= 4; i++) {
    const tx = t0 + ((t1 - t0) * i) / 4;
    svg.append(svgEl("text", { x: x(tx), y: H - 6, class: "tick", "text-anchor": i ? (i === 4 ? "end" : "middle") : "start" },
      fmtTime(tx, long)));
  }
  for (const l of spec.lines || []) {
    if (l.y == null) continue;
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: y(l.y), y2: y(l.y), class: `hline ${l.cls}` }));
    // labels alternate right and left, so two close lines do not print over each other
    const right = (spec.lines || []).indexOf(l) % 2 === 1;
    svg.append(svgEl("text", { x: right ? W - R - 2 : L + 3, y: y(l.y) - 3, class: `hlabel ${l.cls}`,
      "text-anchor": right ? "end" : "start" }, l.label));
  }
  for (const s of spec.series) {
    if (!s.points.length) continue;
    svg.append(svgEl("path", { d: path(s.points, x, y), class: `line ${s.cls || ""}`, fill: "none" }));
  }
  if (spec.unit) svg.append(svgEl("text", { x: 4, y: 10, class: "tick unit" }, spec.unit));
  return svg;
}

export function sparkline(points, cls) {
  const W = 260, H = 48, svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "spark" });
  if (points.length < 2) return svg;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), lo = Math.min(...ys), hi = Math.max(...ys);
  const x = (tx) => 2 + ((tx - x0) / Math.max(x1 - x0, 1)) * (W - 4);
  const y = (v) => H - 3 - ((v - lo) / Math.max(hi - lo, 1e-9)) * (H - 6);
  svg.append(svgEl("path", { d: path(points, x, y), class: `line ${cls || ""}`, fill: "none" }));
  return svg;
}

export function legend(items) {
  const box = document.createElement("div");
  box.className = "legend";
  for (const [cls, label] of items) {
    const item = document.createElement("span"), sw = document.createElement("i");
    sw.className = `sw ${cls}`;
    item.append(sw, label);
    box.append(item);
  }
  return box;
}
