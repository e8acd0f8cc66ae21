"""The IOC's Grafana dashboards as code: overview, drainage, traffic and streetlights."""

from __future__ import annotations

from collections.abc import Iterable
from statistics import median
from typing import Any

from ioc.core.registry import Registry
from ioc.dashboards.catalog_city import streetlights, traffic
from ioc.dashboards.model import (
    Dashboard,
    Row,
    Target,
    Threshold,
    Variable,
    geomap,
    stat,
    table,
    timeseries,
)
from ioc.dashboards.parts import (
    ALERT_STEPS,
    CENTRE,
    DEVICE,
    GAZETTEER_PATH,
    WARD,
    alerts_table,
    open_alert_targets,
    severity_overrides,
    ward_mapping,
    ward_overrides,
)
from ioc.dashboards.queries import (
    NOW_WINDOW,
    alert_changes,
    current_alerts,
    open_alerts,
    per_group_of_devices,
    show_tag_values,
    var_match,
    where,
)

__all__ = ["all_dashboards", "drainage", "gazetteer", "overview", "streetlights", "traffic"]

def overview() -> Dashboard:
    """IOC — Tổng quan / Overview: open alerts, alert activity, data flow per domain."""
    rate = "count(\"{f}\") / ($__interval_ms / 1000)"
    flow = [(m, f, a) for m, f, a in (
        ("traffic", "intensity", "Giao thông (traffic)"),
        ("streetlight", "powerConsumption", "Chiếu sáng (streetlight)"),
        ("drainage", "waterLevel", "Mực nước (water level)"),
        ("drainage", "precipitation", "Lượng mưa (rainfall)"))]
    alerts = Row("Cảnh báo (Alerts)", (
        stat("Cảnh báo đang mở theo mức độ (Open alerts by severity)",
             *open_alert_targets((WARD,)),
             description="Cảnh báo chưa được giải quyết (alerts not yet resolved)",
             width=12, thresholds=ALERT_STEPS),
        timeseries("Biến động cảnh báo (Alert changes over time)",
                   Target(alert_changes((WARD,)), alias="$tag_severity"),
                   description="Mở, leo thang, xác nhận, giải quyết (opened, escalated, "
                               "acknowledged, resolved) per interval",
                   draw="bars", stack=True, overrides=severity_overrides()),
        table("Cảnh báo hiện tại (Current alerts)",
              Target(current_alerts((WARD,)), result_format="table"),
              width=24, sort_by="rank", mappings=(ward_mapping(),)),
    ))
    data = Row("Dữ liệu (Data flow)", (
        timeseries("Số bản ghi mỗi giây theo lĩnh vực (Readings/s by domain)",
                   *(Target(f'SELECT {rate.format(f=f)} FROM "{m}" {where(WARD)} '
                            "GROUP BY time($__interval) fill(0)", alias=a)
                     for m, f, a in flow),
                   unit="reqps", stack=True, width=16),
        stat("Thiết bị đang gửi dữ liệu (Devices reporting, last 15 min)",
             *(Target(f'SELECT count("v") FROM (SELECT last("{f}") AS "v" FROM "{m}" '
                      f'{where(WARD, time=NOW_WINDOW)} GROUP BY "device")', alias=a)
               for m, f, a in flow),
             width=8, height=8),
    ))
    return Dashboard("ioc-overview", "IOC — Tổng quan / Overview",
                     "Trung tâm điều hành thông minh Đồng Xoài: cảnh báo và luồng dữ liệu "
                     "(Đồng Xoài IOC: alerts and data flow)", (alerts, data),
                     (Variable("ward", "Phường (ward)", show_tag_values("ward")),))


def _drainage_thresholds(registry: Registry) -> tuple[tuple[float, float],
                                                      tuple[dict[str, Any], ...]]:
    sensors = [d for d in registry if d.domain == "drainage" and not d.id.startswith("rg-")]
    warn = median(d.warn_m or 0.0 for d in sensors) if sensors else 0.6
    crit = median(d.critical_m or 0.0 for d in sensors) if sensors else 0.9
    overrides = tuple({"matcher": {"id": "byName", "options": d.id}, "properties": [
        {"id": "thresholds", "value": {"mode": "absolute", "steps": [
            {"value": None, "color": "green"}, {"value": d.warn_m, "color": "orange"},
            {"value": d.critical_m, "color": "red"}]}}]} for d in sensors)
    return (warn, crit), overrides


def drainage(registry: Registry) -> Dashboard:
    """Thoát nước — Drainage & flooding: water levels against thresholds, rain, flood alerts."""
    alerts = Row("Cảnh báo ngập (Flood alerts)",
                 (alerts_table("Cảnh báo ngập (Flood alerts)", r"^flood\."),))
    variables = (
        Variable("ward", "Phường (ward)", show_tag_values("ward", "drainage")),
        Variable("basin", "Lưu vực (basin)", show_tag_values("basin", "drainage", (WARD,))),
        Variable("device", "Cảm biến (sensor)",
                 show_tag_values("device", "drainage", (WARD, var_match("basin")))),
    )
    return Dashboard("ioc-drainage", "Thoát nước — Drainage & flooding",
                     "Mực nước cống, lượng mưa và cảnh báo ngập cục bộ "
                     "(drain water levels, rainfall and localized-flooding alerts)",
                     (*_drainage_levels(registry), _rain(), alerts), variables,
                     tags=("ioc", "drainage"))


def _drainage_levels(registry: Registry) -> tuple[Row, Row]:
    (warn, crit), per_device = _drainage_thresholds(registry)
    steps = (Threshold(None, "green"), Threshold(warn, "orange"), Threshold(crit, "red"))
    filt = (WARD, var_match("basin"), DEVICE)
    now = Row("Hiện tại (Now)", (
        stat("Cảnh báo ngập đang mở (Open flood alerts)",
             Target(open_alerts((r'"rule" =~ /^flood\./', WARD)), alias="Đang mở (open)"),
             thresholds=ALERT_STEPS, width=6, height=10),
        table("Mực nước mới nhất (Latest water level)",
              Target(f'SELECT last("waterLevel") AS "level", last("flow") AS "flow" '
                     f'FROM "drainage" {where(*filt, time=NOW_WINDOW)} '
                     'GROUP BY "device", "ward", "basin"', result_format="table"),
              width=8, height=10, sort_by="level", mappings=(ward_mapping(),)),
        geomap("Bản đồ cảm biến (Sensor map)",
               Target(f'SELECT last("waterLevel") AS "level" FROM "drainage" '
                      f'{where(*filt)} GROUP BY "device"', result_format="table"),
               lookup_field="device", color_field="level", gazetteer=GAZETTEER_PATH,
               center=CENTRE, zoom=12, unit="lengthm", width=10, height=10,
               thresholds=steps),
    ))
    level = Row("Mực nước (Water level)", (
        timeseries("Mực nước theo cảm biến (Water level per sensor)",
                   Target(f'SELECT mean("waterLevel") FROM "drainage" {where(*filt)} '
                          'GROUP BY time($__interval), "device" fill(none)',
                          alias="$tag_device"),
                   description=f"Ngưỡng cảnh báo/nguy hiểm theo từng cảm biến; đường kẻ: "
                               f"trung vị {warn:.2f} m / {crit:.2f} m (per-sensor warn and "
                               "critical levels from the device registry)",
                   unit="lengthm", width=16, height=10, thresholds=steps,
                   threshold_style="line+area", overrides=per_device),
        timeseries("Lưu lượng theo lưu vực (Flow per basin)",
                   Target(per_group_of_devices('sum("q")', 'mean("flow") AS "q"', "drainage",
                                               "basin", filt), alias="$tag_basin"),
                   unit="flowcms", width=8, height=10),
    ))
    return now, level


def _rain() -> Row:
    return Row("Mưa (Rainfall)", (
        timeseries("Lượng mưa theo phường (Rainfall per ward)",
                   Target(per_group_of_devices('mean("mm")', 'sum("precipitation") AS "mm"',
                                               "drainage", "ward", (WARD,)),
                          alias="$tag_ward"),
                   description="Trung bình các trạm đo mưa trong phường, mm mỗi khoảng "
                               "(mean of the ward's rain gauges, mm per interval)",
                   unit="lengthmm", draw="bars", width=16, overrides=ward_overrides()),
        stat("Tổng lượng mưa (Rainfall total)",
             Target(per_group_of_devices('mean("mm")', 'sum("precipitation") AS "mm"',
                                         "drainage", "ward", (WARD,), interval=False),
                    alias="$tag_ward"),
             unit="lengthmm", width=8, height=8),
    ))


def all_dashboards(registry: Registry) -> tuple[Dashboard, ...]:
    """Every dashboard the IOC ships, built from the device registry."""
    return (overview(), drainage(registry), traffic(registry), streetlights(registry))


def gazetteer(registry: Iterable[Any]) -> list[dict[str, Any]]:
    """Grafana's worldmap-style gazetteer (key, latitude, longitude, name) of every device."""
    return [{"key": d.id, "latitude": d.lat, "longitude": d.lon, "name": d.name}
            for d in registry]
