// The alert table, fed by the live WebSocket (a snapshot, then every change).
import { t, fmtDateTime } from "./i18n.js";

const SEVERITIES = ["critical", "high", "medium", "low", "informational"];
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }

export class AlertBoard {
  constructor(opts) {
    this.opts = opts; this.alerts = new Map(); this.wards = {}; this.ws = null; this.retry = 1000; this.flash = new Set();
    for (const id of ["fWard", "fSev", "fStatus"]) $(id).addEventListener("change", () => this.render());
  }
  list() { return [...this.alerts.values()]; }
  setWards(wards) {
    const sel = $("fWard"); sel.length = 1;
    for (const w of wards) { this.wards[w.slug] = w.name; sel.add(new Option(w.name, w.slug)); }
    this.render();
  }
  applyLang() {
    const sel = $("fSev"), keep = sel.value;
    sel.length = 1;
    for (const s of SEVERITIES) sel.add(new Option(t("sev")[s] || s, s));
    sel.value = keep;
    for (const o of $("fStatus").options) if (t("st")[o.value]) o.textContent = t("st")[o.value];
    this.setConn(this.ws?.readyState === WebSocket.OPEN);
    this.render();
  }
  render() {
    const ward = $("fWard").value, sev = $("fSev").value, st = $("fStatus").value, all = this.list();
    const shown = all.filter((a) => (!ward || a.ward === ward) && (!sev || a.severity === sev) &&
      (st === "" || (st === "active" ? a.status !== "resolved" : a.status === st)))
      .sort((a, b) => b.dateIssued.localeCompare(a.dateIssued));
    const role = this.opts.role(), canAct = role === "operator" || role === "admin";
    $("rows").replaceChildren(...shown.map((a) => {
      const tr = el("tr", undefined, this.flash.has(a.id) ? "flash" : "");
      tr.dataset.alert = a.id; tr.dataset.rule = a.rule; tr.dataset.ward = a.ward || ""; tr.dataset.status = a.status;
      tr.append(el("td", fmtDateTime(Date.parse(a.dateIssued))));
      const sv = el("td"); sv.append(el("span", t("sev")[a.severity] || a.severity, "sev " + a.severity)); tr.append(sv);
      tr.append(el("td", t("st")[a.status] || a.status, "st-" + a.status));
      tr.append(el("td", t("rules")[a.rule] || a.rule));
      tr.append(el("td", this.wards[a.ward] || a.ward || "–"));
      const d = el("td", a.description); d.append(el("div", `${a.subject} · v${a.version}` + (a.assignedTo ? ` · → ${a.assignedTo}` : ""), "muted")); tr.append(d);
      const act = el("td", undefined, "act");
      if (canAct && a.status === "open") act.append(this.button(t("ack"), a.id, "acknowledge"));
      if (canAct && a.status !== "resolved") act.append(this.button(t("resolve"), a.id, "resolve"));
      tr.append(act);
      return tr;
    }));
    this.flash.clear();
    $("count").textContent = t("shown")(shown.length, all.length);
  }
  button(label, id, action) {
    const b = el("button", label, `do-${action}`);
    b.type = "button";
    b.addEventListener("click", async () => {
      b.disabled = true;
      const r = await this.opts.api(`/alerts/${encodeURIComponent(id)}/${action}`, { method: "POST" });
      if (!r) return;
      if (!r.ok) { b.disabled = false; $("actionErr").textContent = t("failed") + ((await r.json()).detail || r.status); }
      else b.textContent = "✓";
    });
    return b;
  }
  setConn(on) {
    $("conn").querySelector(".dot").classList.toggle("on", on);
    $("conn").lastElementChild.dataset.i18n = on ? "online" : "offline";
    $("conn").lastElementChild.textContent = t(on ? "online" : "offline");
  }
  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/alerts/live`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ token: this.opts.token() }));
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "snapshot") { this.alerts.clear(); msg.alerts.forEach((a) => this.alerts.set(a.id, a)); this.setConn(true); this.retry = 1000; }
      else if (msg.type === "alert") {
        const old = this.alerts.get(msg.alert.id);
        if (!old || old.version < msg.alert.version) { this.alerts.set(msg.alert.id, msg.alert); this.flash.add(msg.alert.id); }
      }
      this.render();
      this.opts.onChange();
    };
    ws.onclose = (ev) => {
      this.setConn(false);
      if (this.ws !== ws) return;
      if (ev.code === 4401) return this.opts.logout();
      if (ev.code === 1013) this.retry = 250;  // asked to reload (fell behind): come back at once
      setTimeout(() => { if (this.opts.token() && this.ws === ws) this.connect(); }, this.retry);
      this.retry = Math.min(this.retry * 2, 30000);
    };
  }
  disconnect() {
    const ws = this.ws; this.ws = null; if (ws) ws.close();
    this.alerts.clear(); this.render(); this.setConn(false);
  }
}
