// The live panels: one REST call per panel for the chosen range, redrawn on every refresh.
import { legend, lineChart, sparkline } from "./charts.js";
import { fmtNum, t } from "./i18n.js";

function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function card(title, ...children) {
  const c = el("section", undefined, "card"); c.append(el("h3", title), ...children); return c;
}
const ms = (iso) => Date.parse(iso);

function drainage(p) {
  const grid = el("div", undefined, "multiples");
  if (!p.series.length) grid.append(el("p", t("noData"), "muted"));
  for (const s of p.series) {
    const last = s.points.length ? s.points[s.points.length - 1][1] : null;
    const st = last == null ? "" : last >= s.critical ? "critical" : last >= s.warn ? "warning" : "normal";
    const box = el("div", undefined, `mini wst-${st || "none"}`);
    box.dataset.ward = s.key;
    const head = el("div", undefined, "mini-head");
    head.append(el("b", s.label), el("span", last == null ? "–" : `${fmtNum(last)} m`, `val ${st}`));
    box.append(head, lineChart({ since: ms(p.since), until: ms(p.until), height: 110, width: 300, unit: "m",
      series: [{ points: s.points, cls: "level" }],
      lines: [{ y: s.warn, cls: "warn", label: t("warnLine") }, { y: s.critical, cls: "crit", label: t("critLine") }] }),
    el("div", `${t("worst")}: ${s.facts.deviceName || s.facts.device}`, "muted small"));
    grid.append(box);
  }
  return card(t("pDrainage"), grid);
}

function traffic(p) {
  const cls = { ql14: "road-ql14", dt741: "road-dt741" };
  const chart = lineChart({ since: ms(p.since), until: ms(p.until), unit: "km/h",
    series: p.series.map((s) => ({ points: s.points, cls: cls[s.key] })),
    lines: p.series.map((s) => ({ y: s.reference, cls: `ref ${cls[s.key]}`, label: `${s.label} ${t("freeFlow")} ${fmtNum(s.reference ?? 0, 0)}` })) });
  return card(t("pTraffic"), legend(p.series.map((s) => [cls[s.key], s.label])), chart);
}

function lighting(p) {
  const table = el("table", undefined, "compact");
  const head = el("tr");
  for (const h of [t("circuit"), t("lampsOn"), t("energy"), t("power")]) head.append(el("th", h));
  table.append(head);
  for (const s of p.series) {
    const tr = el("tr"), on = s.facts.lampsOn ?? 0, all = s.facts.lamps ?? 0;
    const bar = el("div", undefined, "bar-box"), fill = el("div", undefined, "bar-fill");
    fill.style.width = all ? `${(100 * on) / all}%` : "0%";  // CSSOM: allowed under the CSP
    bar.append(fill);
    const onCell = el("td"); onCell.append(el("span", `${on} / ${all}`), bar);
    const spark = el("td"); spark.append(sparkline(s.points, "power"));
    tr.append(el("td", s.label), onCell, el("td", `${fmtNum(s.facts.energyKwh ?? 0)} kWh`), spark);
    table.append(tr);
  }
  const scroll = el("div", undefined, "scroll"); scroll.append(table);
  return card(t("pLighting"), scroll);
}

function pipeline(p) {
  const cls = { readings: "rate-readings", deadletters: "rate-dead" };
  const label = { readings: t("readings"), deadletters: t("deadletters") };
  return card(t("pPipeline"), legend(p.series.map((s) => [cls[s.key], label[s.key]])),
    lineChart({ since: ms(p.since), until: ms(p.until), unit: "/s",
      series: p.series.map((s) => ({ points: s.points, cls: cls[s.key] })) }));
}

const RENDER = { drainage, traffic, lighting, pipeline };

let last = [];  // the latest answers, redrawn as they are when the language changes

export async function loadPanels(api, box, range) {
  const q = new URLSearchParams({ since: range.since, until: range.until });
  last = await Promise.all(Object.keys(RENDER).map(async (name) => {
    const r = await api(`/panels/${name}?${q}`);
    return [name, r && r.ok ? await r.json() : null];
  }));
  drawPanels(box);
}

export function drawPanels(box) {
  const cards = last.map(([name, p]) => {
    const c = p ? RENDER[name](p) : card(name, el("p", t("noData"), "muted"));
    c.id = `panel-${name}`;
    return c;
  });
  box.replaceChildren(...cards);
}
