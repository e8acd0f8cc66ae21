// The operator console: log in, the city map, live panels and the alert table.
import { lang, t, fmtDateTime, fmtNum } from "./i18n.js";
import { CityMap } from "./map.js";
import { drawPanels, loadPanels } from "./panels.js";
import { legend, sparkline } from "./charts.js";
import { AlertBoard } from "./alerts.js";

const API = "/api/v1";
const MAIN = { drainage: "waterLevel", traffic: "averageVehicleSpeed", streetlight: "powerConsumption" };
const UNIT = { waterLevel: "m", averageVehicleSpeed: "km/h", powerConsumption: "W", precipitation: "mm/h", occupancy: "", flow: "m³/s" };
const state = { token: sessionStorage.getItem("ioc.token"), role: sessionStorage.getItem("ioc.role"),
  user: sessionStorage.getItem("ioc.user"), devices: [], picked: null, timers: [] };
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }

async function api(path, init) {
  const r = await fetch(API + path, { ...(init || {}), headers: { Authorization: `Bearer ${state.token}` } });
  if (r.status === 401) { logout(); return null; }
  return r;
}
const board = new AlertBoard({ api, onChange: () => { cityMap.paintWards(state.devices, board.list()); schedule(); },
  token: () => state.token, role: () => state.role, logout: () => logout() });
const cityMap = new CityMap($("map"), pick);

function range() {
  const v = $("range").value;
  if (v === "custom") {
    const f = $("from").value, to = $("to").value;
    if (f && to) return { since: `${f}:00+07:00`, until: `${to}:00+07:00`, live: false };
  }
  const now = Date.now(), span = Number(v === "custom" ? 10800 : v) * 1000;
  return { since: new Date(now - span).toISOString(), until: new Date(now).toISOString(), live: true };
}

async function refreshDevices() {
  const r = await api("/device-states");
  if (!r || !r.ok) return;
  const page = await r.json();
  state.devices = page.data;
  cityMap.update(state.devices, board.list());
  $("mapCount").textContent = t("devices")(page.count);
  $("mapCount").dataset.count = page.count;
  if (state.picked) showDevice(state.devices.find((d) => d.id === state.picked.id) || state.picked, false);
}
let pending = null;
function schedule() {  // an alert changed: redraw the map soon, once for a burst of changes
  if (!pending) pending = setTimeout(() => { pending = null; refreshDevices(); }, 1500);
}
async function refreshPanels() { await loadPanels(api, $("panels"), range()); }

function pick(device) { state.picked = device; showDevice(device, true); }
async function showDevice(d, fetchHistory) {
  const box = $("detail");
  const head = el("div", undefined, "detail-head");
  head.append(el("b", d.name), el("span", d.id, "muted"), el("span", t("legend")[d.state] || d.state, `pill st-${d.state}`));
  const rows = el("table", undefined, "compact");
  for (const [k, v] of Object.entries(d.values || {})) {
    const tr = el("tr"); tr.append(el("th", k), el("td", typeof v === "number" ? `${fmtNum(v)} ${UNIT[k] ?? ""}` : String(v))); rows.append(tr);
  }
  const when = d.observed_at ? `${t("observed")}: ${fmtDateTime(Date.parse(d.observed_at))}` : t("noData");
  const kept = box.dataset.device === d.id ? box.querySelector(".spark-box") : null;
  const spark = !fetchHistory && kept ? kept : el("div", undefined, "spark-box");
  box.replaceChildren(head, el("div", `${t("domain")[d.domain]} · ${cityMap.names[d.ward] || d.ward}`, "muted"),
    el("div", when, "muted small"), spark, rows);
  if (d.alert_id) box.append(el("div", `${t("rules")[d.alert_rule] || d.alert_rule} · ${t("sev")[d.alert_severity]}`, "pill alerted"));
  box.dataset.device = d.id;
  if (!fetchHistory) return;
  const q = new URLSearchParams({ since: range().since, until: range().until, limit: "1000" });
  const r = await api(`/devices/${encodeURIComponent(d.id)}/readings?${q}`);
  if (!r || !r.ok) return;
  const field = MAIN[d.domain], rowsData = (await r.json()).data.filter((x) => typeof x[field] === "number");
  const pts = rowsData.map((x) => [Date.parse(x.time), x[field]]).reverse();
  const target = box.dataset.device === d.id ? box.querySelector(".spark-box") : null;
  if (!target) return;  // another device was picked meanwhile
  target.replaceChildren(el("div", `${field} (${UNIT[field]})`, "muted small"), sparkline(pts, "level"));
}

function every(ms, fn) { state.timers.push(setInterval(() => { if (range().live) fn(); }, ms)); }
async function start() {
  $("login").classList.add("hidden"); $("board").classList.remove("hidden"); $("logout").classList.remove("hidden");
  $("who").textContent = `${state.user} (${state.role})`;
  const [city, wards] = await Promise.all([api("/city"), api("/wards")]);
  if (!city || !wards) return;
  if (city.ok) cityMap.draw(await city.json());
  if (wards.ok) board.setWards(await wards.json());
  board.connect();
  await refreshDevices();
  refreshPanels();
  every(10000, refreshDevices);
  every(15000, refreshPanels);
}
function logout() {
  state.token = null; sessionStorage.clear();
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
  board.disconnect();
  $("board").classList.add("hidden"); $("logout").classList.add("hidden"); $("login").classList.remove("hidden");
  $("who").textContent = "";
}
function applyLang() {
  document.documentElement.lang = lang.current;
  document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  document.title = t("title");
  $("lang").textContent = t("lang");
  board.applyLang();
  const names = t("legend");
  $("mapLegend").replaceChildren(legend([["st-normal", names.normal], ["st-warning", names.warning], ["st-critical", names.critical],
    ["st-silent", names.silent], ["alerted", names.alert], ["flooded", names.flooded]]));
  drawPanels($("panels"));
  if (state.picked) showDevice(state.devices.find((d) => d.id === state.picked.id) || state.picked, false);
  $("mapCount").textContent = $("mapCount").dataset.count ? t("devices")($("mapCount").dataset.count) : "";
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("loginErr").textContent = "";
  const r = await fetch(`${API}/auth/token`, { method: "POST", body: new URLSearchParams(new FormData($("login"))) });
  if (!r.ok) { $("loginErr").textContent = t("badLogin"); return; }
  const tok = await r.json();
  state.token = tok.access_token; state.role = tok.role; state.user = $("user").value;
  sessionStorage.setItem("ioc.token", state.token); sessionStorage.setItem("ioc.role", state.role); sessionStorage.setItem("ioc.user", state.user);
  $("pass").value = "";
  start();
});
$("logout").addEventListener("click", logout);
$("lang").addEventListener("click", () => { lang.current = lang.current === "vi" ? "en" : "vi"; localStorage.setItem("ioc.lang", lang.current); applyLang(); });
$("range").addEventListener("change", () => {
  const custom = $("range").value === "custom";
  $("customRange").classList.toggle("hidden", !custom);
  if (!custom) refreshPanels();
});
$("applyRange").addEventListener("click", refreshPanels);
async function fromFragment() {
  // wall displays: open /#token=<token from `ioc api token NAME`>; a fragment never reaches the server
  const tok = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!tok) return;
  history.replaceState(null, "", location.pathname);
  const r = await fetch(`${API}/auth/me`, { headers: { Authorization: `Bearer ${tok}` } });
  if (!r.ok) return;
  const me = await r.json();
  state.token = tok; state.role = me.role; state.user = me.name;
  sessionStorage.setItem("ioc.token", tok); sessionStorage.setItem("ioc.role", me.role); sessionStorage.setItem("ioc.user", me.name);
}
applyLang();
fromFragment().then(() => { if (state.token) start(); else $("login").classList.remove("hidden"); });
