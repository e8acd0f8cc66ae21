"""The machine line: the CPU model from /proc/cpuinfo and a calibration that measures; the
CPU shares between two notes of /proc/stat and /proc/pressure/cpu."""

from __future__ import annotations

from pathlib import Path

from ioc.bench.machine import CpuTimes, Machine, _cpu_model, calibration_ms, cpu_share, cpu_times


def test_the_cpu_model_is_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\n"
                    "model name\t: Intel(R) Xeon(R) Processor\nflags\t: fpu\n")
    assert _cpu_model(info) == "Intel(R) Xeon(R) Processor"


def test_without_cpuinfo_the_platform_names_the_cpu(tmp_path: Path) -> None:
    assert _cpu_model(tmp_path / "absent") not in ("", None)


def test_calibration_takes_time_and_the_line_shows_it() -> None:
    ms = calibration_ms(rounds=1)
    assert ms > 0
    line = Machine("Some CPU", 2, ms).line()
    assert line.startswith("machine: 2 × Some CPU;") and f"{ms:g} ms" in line


def _proc(root: Path, stat: str, some_total: int | None) -> Path:
    root.mkdir(exist_ok=True)
    (root / "stat").write_text(f"cpu  {stat}\ncpu0 1 2 3\nintr 5\n")
    if some_total is not None:
        (root / "pressure").mkdir(exist_ok=True)
        (root / "pressure" / "cpu").write_text(
            f"some avg10=1.00 avg60=0.50 avg300=0.10 total={some_total}\n"
            "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    return root


def test_cpu_shares_between_two_notes(tmp_path: Path) -> None:
    before = cpu_times(_proc(tmp_path / "a", "100 0 50 800 50 0 0 0 0 0", 1_000_000))
    after = cpu_times(_proc(tmp_path / "b", "400 0 150 1100 150 0 0 200 0 0", 4_000_000))
    assert before is not None and after is not None and after.waited_us == 4_000_000
    # 1,000 ticks passed: 400 busy (user, system), 400 idle (idle, iowait), 200 stolen
    share = cpu_share(before, CpuTimes(after.ticks, after.waited_us, before.at + 10.0))
    assert share is not None
    assert (share.busy_pct, share.idle_pct, share.steal_pct) == (40.0, 40.0, 20.0)
    assert share.waiting_pct == 30.0  # 3 s of waiting in 10 s of wall time
    assert "stolen by the hypervisor 20 %" in share.line()


def test_without_pressure_information_the_waiting_share_is_unknown(tmp_path: Path) -> None:
    before = cpu_times(_proc(tmp_path / "a", "1 0 1 10 0 0 0 0", None))
    after = cpu_times(_proc(tmp_path / "b", "5 0 1 16 0 0 0 0", None))
    assert before is not None and after is not None
    share = cpu_share(before, after)
    assert share is not None and share.waiting_pct is None and "waited" not in share.line()
    assert cpu_share(before, before) is None  # no time passed: no shares
    assert cpu_times(tmp_path / "absent") is None
