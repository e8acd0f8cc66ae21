"""Traffic and streetlight dashboards (the city-services half of the catalog)."""

from __future__ import annotations

from statistics import median

from ioc.core.registry import Registry
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
    ward_mapping,
)
from ioc.dashboards.queries import (
    NOW_WINDOW,
    open_alerts,
    per_group_of_devices,
    show_tag_values,
    var_match,
    where,
)
from ioc.processors.rules.base import RuleSettings

__all__ = ["free_flow_by_road", "streetlights", "traffic"]

ROAD = var_match("road")
CIRCUIT = var_match("circuit")
# The congestion rule fires under this share of free-flow speed: the panel's red band.
_CONGESTED = 100 * RuleSettings().congestion_fraction
SPEED_STEPS = (Threshold(None, "red"), Threshold(_CONGESTED, "orange"),
               Threshold(_CONGESTED + 30, "green"))
_LIT = '"on" = true'


def _tag_is(tag: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f'"{tag}" = \'{escaped}\''


def free_flow_by_road(registry: Registry) -> dict[str, float]:
    """Each road's free-flow speed (median of its segments') from the device registry."""
    speeds: dict[str, list[float]] = {}
    for d in registry:
        if d.domain == "traffic" and d.road and d.free_flow_kmh:
            speeds.setdefault(d.road, []).append(d.free_flow_kmh)
    return {road: median(v) for road, v in sorted(speeds.items())}


def _speed_row(registry: Registry) -> Row:
    filt = (ROAD, WARD, DEVICE)
    ratio = tuple(
        Target(f'SELECT mean("averageVehicleSpeed") * 100 / {ff:g} FROM "traffic" '
               f"{where(*filt, _tag_is('road', road))} GROUP BY time($__interval) fill(none)",
               alias=road)
        for road, ff in free_flow_by_road(registry).items())
    return Row("Tốc độ (Speed)", (
        timeseries("Tốc độ so với tốc độ tự do (Speed vs free-flow, %)", *ratio,
                   description="Tốc độ trung bình chia cho tốc độ tự do của tuyến trong danh "
                               "mục thiết bị (average speed over the road's free-flow speed)",
                   unit="percent", width=12, thresholds=SPEED_STEPS,
                   threshold_style="dashed"),
        timeseries("Tốc độ trung bình theo tuyến (Average speed per road)",
                   Target(f'SELECT mean("averageVehicleSpeed") FROM "traffic" {where(*filt)} '
                          'GROUP BY time($__interval), "road" fill(none)', alias="$tag_road"),
                   unit="velocitykmh", width=12),
    ))


def traffic(registry: Registry) -> Dashboard:
    """Giao thông — Traffic: speed against free-flow, vehicle counts, occupancy per road."""
    filt = (ROAD, WARD, DEVICE)
    volume = Row("Lưu lượng và chiếm dụng (Intensity & occupancy)", (
        timeseries("Lưu lượng xe theo tuyến (Intensity per road)",
                   Target(f'SELECT sum("intensity") FROM "traffic" {where(*filt)} '
                          'GROUP BY time($__interval), "road" fill(0)', alias="$tag_road"),
                   description="Số xe đếm được mỗi khoảng (vehicles counted per interval)",
                   unit="suffix: xe", draw="bars", stack=True),
        timeseries("Tỷ lệ chiếm dụng theo tuyến (Occupancy per road)",
                   Target(f'SELECT mean("occupancy") FROM "traffic" {where(*filt)} '
                          'GROUP BY time($__interval), "road" fill(none)', alias="$tag_road"),
                   unit="percentunit"),
    ))
    now = Row("Hiện tại (Now)", (
        stat("Cảnh báo giao thông đang mở (Open traffic alerts)",
             Target(open_alerts((r'"rule" =~ /^traffic\./', WARD)), alias="Đang mở (open)"),
             thresholds=ALERT_STEPS, height=10),
        table("Đoạn đường chậm nhất (Slowest segments, last 15 min)",
              Target('SELECT mean("averageVehicleSpeed") AS "speed_kmh", '
                     'mean("occupancy") AS "occupancy", sum("intensity") AS "vehicles" '
                     f'FROM "traffic" {where(*filt, time=NOW_WINDOW)} '
                     'GROUP BY "device", "road", "ward"', result_format="table"),
              width=8, height=10, sort_by="speed_kmh", descending=False,
              mappings=(ward_mapping(),)),
        geomap("Bản đồ tốc độ (Speed map)",
               Target(f'SELECT last("averageVehicleSpeed") AS "speed" FROM "traffic" '
                      f'{where(*filt)} GROUP BY "device"', result_format="table"),
               lookup_field="device", color_field="speed", gazetteer=GAZETTEER_PATH,
               center=CENTRE, zoom=12, unit="velocitykmh", width=10, height=10,
               thresholds=(Threshold(None, "red"), Threshold(20, "orange"),
                           Threshold(35, "green"))),
    ))
    alerts = Row("Cảnh báo giao thông (Traffic alerts)",
                 (alerts_table("Cảnh báo giao thông (Traffic alerts)", r"^traffic\."),))
    variables = (
        Variable("road", "Tuyến đường (road)", show_tag_values("road", "traffic")),
        Variable("ward", "Phường (ward)", show_tag_values("ward", "traffic", (ROAD,))),
        Variable("device", "Bộ đếm (counter)",
                 show_tag_values("device", "traffic", (ROAD, WARD))),
    )
    return Dashboard("ioc-traffic", "Giao thông — Traffic",
                     "Tốc độ, lưu lượng và tỷ lệ chiếm dụng theo tuyến "
                     "(speed, intensity and occupancy per road)",
                     (_speed_row(registry), volume, now, alerts), variables,
                     tags=("ioc", "traffic"))


def _lamps_on(filt: tuple[str, ...], interval: bool) -> str:
    # `on` is a boolean field: keep each lamp's latest state, then count the lit ones
    by_time = "time($__interval), " if interval else ""
    time = "$timeFilter" if interval else NOW_WINDOW
    sub = (f'SELECT last("powerConsumption") AS "w", "on" FROM "streetlight" '
           f'{where(*filt, time=time)} GROUP BY {by_time}"device", "circuit"')
    fill = " fill(0)" if interval else ""
    return (f'SELECT count("w") FROM ({sub}) {where(_LIT, time=time)} '
            f'GROUP BY {by_time}"circuit"{fill}')


def streetlights(registry: Registry) -> Dashboard:
    """Chiếu sáng — Streetlights: power per circuit, lamps on, energy used."""
    filt = (WARD, CIRCUIT, DEVICE)
    rated = sum(d.rated_w or 0.0 for d in registry if d.domain == "streetlight")
    power = Row("Công suất (Power)", (
        timeseries("Công suất theo tủ điện (Power per circuit)",
                   Target(per_group_of_devices('sum("w")', 'mean("powerConsumption") AS "w"',
                                               "streetlight", "circuit", filt),
                          alias="$tag_circuit"),
                   description=f"Tổng công suất định mức toàn thành phố {rated / 1000:.1f} kW "
                               "(city-wide rated power)", unit="watt", stack=True),
        timeseries("Số đèn đang sáng theo tủ (Lamps on per circuit)",
                   Target(_lamps_on(filt, interval=True), alias="$tag_circuit"),
                   unit="suffix: đèn", stack=True),
    ))
    energy = Row("Điện năng (Energy)", (
        timeseries("Điện năng tiêu thụ theo tủ (Energy per circuit)",
                   Target(per_group_of_devices(
                       'sum("kwh")',
                       'non_negative_difference(max("lifetimePowerConsumption")) AS "kwh"',
                       "streetlight", "circuit", filt), alias="$tag_circuit"),
                   description="Chênh lệch chỉ số công tơ mỗi khoảng (meter difference per "
                               "interval)", unit="kwatth", draw="bars", stack=True, width=12),
        stat("Điện năng trong khoảng thời gian (Energy in range)",
             Target(per_group_of_devices('sum("kwh")', 'spread("lifetimePowerConsumption") '
                                         'AS "kwh"', "streetlight", "ward", filt,
                                         interval=False), alias="$tag_ward"),
             unit="kwatth", width=6, height=8),
        stat("Đèn đang sáng (Lamps on now)",
             Target(_lamps_on(filt, interval=False), alias="$tag_circuit"),
             width=6, height=8, reducer="lastNotNull"),
    ))
    alerts = Row("Cảnh báo chiếu sáng (Streetlight alerts)",
                 (alerts_table("Cảnh báo chiếu sáng (Streetlight alerts)", r"^streetlight\."),))
    variables = (
        Variable("ward", "Phường (ward)", show_tag_values("ward", "streetlight")),
        Variable("circuit", "Tủ điện (circuit)",
                 show_tag_values("circuit", "streetlight", (WARD,))),
        Variable("device", "Đèn (lamp)",
                 show_tag_values("device", "streetlight", (WARD, CIRCUIT))),
    )
    return Dashboard("ioc-streetlights", "Chiếu sáng — Streetlights",
                     "Công suất, số đèn sáng và điện năng theo tủ điện "
                     "(power, lamps on and energy per circuit)",
                     (power, energy, alerts), variables, tags=("ioc", "streetlight"))
