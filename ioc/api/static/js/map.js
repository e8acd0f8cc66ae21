// The city map: Leaflet vector layers only (no tiles), classes carry every colour (CSS).
/* global L */
import { t } from "./i18n.js";

const STATES = ["normal", "warning", "critical", "silent"];
const RANK = { normal: 0, warning: 1, critical: 2 };

function setClasses(layer, prefix, value, extra) {
  const el = layer.getElement();
  if (!el) return;
  for (const c of [...el.classList]) if (c.startsWith(prefix)) el.classList.remove(c);
  el.classList.add(prefix + value);
  for (const [cls, on] of Object.entries(extra || {})) el.classList.toggle(cls, on);
}

export class CityMap {
  constructor(box, onPick) {
    this.box = box; this.onPick = onPick;
    this.wards = new Map(); this.markers = new Map(); this.names = {};
    this.ok = typeof L !== "undefined";
    if (!this.ok) { box.textContent = t("noMap"); box.classList.add("nomap"); }
  }

  draw(city) {
    // made once the page shows the map: Leaflet measures its box, hidden it is 0 × 0
    if (!this.ok || this.map) return;
    this.map = L.map(this.box, { attributionControl: false, zoomSnap: 0.25 }).setView(city.centre, 13);
    const wardLayer = L.geoJSON(city.wards, {
      style: (f) => ({ className: `ward ward-${f.properties.slug} wst-normal`, weight: 1.5 }),
      onEachFeature: (f, layer) => {
        this.names[f.properties.slug] = f.properties.name;
        this.wards.set(f.properties.slug, layer);
        layer.bindTooltip(f.properties.name, { permanent: true, direction: "center", className: "ward-label" });
      },
    }).addTo(this.map);
    for (const road of city.roads) {
      const main = road.slug === "ql14" || road.slug === "dt741";
      L.polyline(road.points, { className: `road road-${road.slug}${main ? " main" : ""}`, interactive: false }).addTo(this.map);
      if (main) L.tooltip({ permanent: true, className: `road-label ${road.slug}`, direction: "right" })
        .setLatLng(road.points[road.points.length - 1]).setContent(road.slug === "ql14" ? "QL14" : "ĐT741").addTo(this.map);
    }
    this.map.fitBounds(wardLayer.getBounds(), { padding: [8, 8] });
  }

  update(devices, alerts) {
    if (!this.map) return;
    for (const d of devices) {
      let m = this.markers.get(d.id);
      if (!m) {
        m = L.circleMarker([d.lat, d.lon], { radius: d.domain === "streetlight" ? 3.5 : 6,
          className: `dev dom-${d.domain}`, weight: 1.5, bubblingMouseEvents: false }).addTo(this.map);
        m.on("click", () => this.onPick(m.device));
        this.markers.set(d.id, m);
      }
      m.device = d;
      setClasses(m, "st-", d.state, { alerted: !!d.alert_id });
      m.getElement()?.setAttribute("data-device", d.id);
      if (d.alert_id || d.state === "critical") m.bringToFront();
    }
    this.paintWards(devices, alerts);
  }

  paintWards(devices, alerts) {
    if (!this.map) return;
    const level = {}, flooded = new Set();
    for (const d of devices) {
      if (d.domain !== "drainage" || !(d.state in RANK)) continue;
      level[d.ward] = Math.max(level[d.ward] ?? 0, RANK[d.state]);
    }
    for (const a of alerts) {
      if (a.status === "resolved" || !a.ward || !a.rule.startsWith("flood.")) continue;
      if (a.rule === "flood.localized") flooded.add(a.ward);
      const r = a.severity === "critical" || a.rule === "flood.localized" ? 2 : 1;
      level[a.ward] = Math.max(level[a.ward] ?? 0, r);
    }
    for (const [slug, layer] of this.wards) {
      setClasses(layer, "wst-", STATES[level[slug] ?? 0], { flooded: flooded.has(slug) });
    }
  }
}
