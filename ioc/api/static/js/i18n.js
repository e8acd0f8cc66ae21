// Vietnamese by default, English on request; every time shown in Asia/Ho_Chi_Minh.
export const TZ = "Asia/Ho_Chi_Minh";
const RULES_VI = {"flood.level":"Ngập – mực nước","flood.rising":"Ngập – nước dâng nhanh","flood.localized":"Ngập cục bộ",
  "traffic.congestion":"Ùn tắc giao thông","traffic.stopped":"Sự cố giao thông","streetlight.day_burning":"Đèn sáng ban ngày",
  "streetlight.outage":"Đèn tắt ban đêm","streetlight.overpower":"Đèn quá công suất","streetlight.circuit_outage":"Mất điện tuyến đèn",
  "device.silent":"Thiết bị mất tín hiệu"};
const RULES_EN = {"flood.level":"Flood – water level","flood.rising":"Flood – rising fast","flood.localized":"Localized flooding",
  "traffic.congestion":"Traffic congestion","traffic.stopped":"Stopped traffic","streetlight.day_burning":"Lamp on in daylight",
  "streetlight.outage":"Lamp out at night","streetlight.overpower":"Lamp over power","streetlight.circuit_outage":"Circuit outage",
  "device.silent":"Silent device"};
export const TEXT = {
  vi: { title:"Trung tâm điều hành IOC Đồng Xoài", offline:"Mất kết nối", online:"Trực tuyến",
    logout:"Đăng xuất", login:"Đăng nhập", username:"Tên đăng nhập", password:"Mật khẩu", signin:"Đăng nhập",
    ward:"Phường", severity:"Mức độ", status:"Trạng thái", all:"Tất cả", active:"Đang xử lý", issued:"Thời điểm",
    rule:"Loại", description:"Mô tả", actions:"Thao tác", ack:"Xác nhận", resolve:"Đóng",
    tz:"Giờ hiển thị theo múi giờ Asia/Ho_Chi_Minh (UTC+7).", badLogin:"Sai tên đăng nhập hoặc mật khẩu",
    shown:(n,tot)=>`${n} / ${tot} cảnh báo`, failed:"Lỗi: ", lang:"English", alerts:"Cảnh báo",
    range:"Khoảng thời gian", custom:"Tùy chọn", from:"Từ", to:"Đến", apply:"Xem",
    map:"Bản đồ thành phố", devices:(n)=>`${n} thiết bị`, noMap:"Thiếu thư viện bản đồ: chạy `make assets`",
    legend:{normal:"Bình thường", warning:"Cảnh báo", critical:"Nguy hiểm", silent:"Mất tín hiệu", alert:"Có cảnh báo mở", flooded:"Phường ngập"},
    domain:{drainage:"Thoát nước", traffic:"Giao thông", streetlight:"Chiếu sáng"},
    pickDevice:"Chọn một thiết bị trên bản đồ để xem số liệu mới nhất.", latest:"Số liệu mới nhất", observed:"Quan trắc lúc",
    noData:"Chưa có dữ liệu", pDrainage:"Mực nước theo phường (so với ngưỡng cảnh báo / nguy hiểm)",
    pTraffic:"Tốc độ QL14 / ĐT741 (so với tốc độ tự do)", pLighting:"Đèn bật / tắt và điện năng theo tuyến",
    pPipeline:"Luồng dữ liệu: bản ghi/giây và thư lỗi/giây", warnLine:"ngưỡng cảnh báo", critLine:"ngưỡng nguy hiểm",
    freeFlow:"tốc độ tự do", circuit:"Tuyến", lampsOn:"Đèn bật", energy:"Điện năng", power:"Công suất",
    readings:"bản ghi/giây", deadletters:"thư lỗi/giây", worst:"cảm biến cao nhất",
    st:{open:"Mới", acknowledged:"Đã xác nhận", resolved:"Đã đóng"},
    sev:{critical:"Nghiêm trọng", high:"Cao", medium:"Trung bình", low:"Thấp", informational:"Thông tin"},
    rules:RULES_VI },
  en: { title:"Đồng Xoài IOC operations centre", offline:"Disconnected", online:"Live",
    logout:"Log out", login:"Log in", username:"User name", password:"Password", signin:"Log in",
    ward:"Ward", severity:"Severity", status:"Status", all:"All", active:"Active", issued:"Issued",
    rule:"Rule", description:"Description", actions:"Actions", ack:"Acknowledge", resolve:"Resolve",
    tz:"Times shown in Asia/Ho_Chi_Minh (UTC+7).", badLogin:"Wrong user name or password",
    shown:(n,tot)=>`${n} of ${tot} alerts`, failed:"Failed: ", lang:"Tiếng Việt", alerts:"Alerts",
    range:"Time range", custom:"Custom", from:"From", to:"To", apply:"Show",
    map:"City map", devices:(n)=>`${n} devices`, noMap:"Map library missing: run `make assets`",
    legend:{normal:"Normal", warning:"Warning", critical:"Critical", silent:"Silent", alert:"Open alert", flooded:"Flooded ward"},
    domain:{drainage:"Drainage", traffic:"Traffic", streetlight:"Street lighting"},
    pickDevice:"Click a device on the map for its latest values.", latest:"Latest values", observed:"Observed at",
    noData:"No data yet", pDrainage:"Water level per ward (against warning / critical lines)",
    pTraffic:"QL14 / ĐT741 speed (against free flow)", pLighting:"Lamps on / off and energy per circuit",
    pPipeline:"Pipeline: readings/s and dead letters/s", warnLine:"warning", critLine:"critical",
    freeFlow:"free flow", circuit:"Circuit", lampsOn:"Lamps on", energy:"Energy", power:"Power",
    readings:"readings/s", deadletters:"dead letters/s", worst:"highest sensor",
    st:{open:"Open", acknowledged:"Acknowledged", resolved:"Resolved"},
    sev:{critical:"Critical", high:"High", medium:"Medium", low:"Low", informational:"Info"},
    rules:RULES_EN },
};
export const lang = { current: localStorage.getItem("ioc.lang") || "vi" };
export const t = (key) => TEXT[lang.current][key] ?? TEXT.vi[key] ?? key;
const locale = () => (lang.current === "vi" ? "vi-VN" : "en-GB");
export const fmtDateTime = (ms) => new Intl.DateTimeFormat(locale(), { timeZone: TZ, year:"numeric", month:"2-digit",
  day:"2-digit", hour:"2-digit", minute:"2-digit", second:"2-digit" }).format(new Date(ms));
export const fmtTime = (ms, withDay) => new Intl.DateTimeFormat(locale(), { timeZone: TZ, hour:"2-digit", minute:"2-digit",
  ...(withDay ? { day:"2-digit", month:"2-digit" } : {}) }).format(new Date(ms));
export const fmtNum = (v, digits = 2) => new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(v);
