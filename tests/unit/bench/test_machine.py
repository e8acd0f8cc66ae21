"""The machine line: the CPU model from /proc/cpuinfo and a calibration that measures."""

from __future__ import annotations

from pathlib import Path

from ioc.bench.machine import Machine, _cpu_model, calibration_ms


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
