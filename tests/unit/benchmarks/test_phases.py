"""The cascade benchmark's phase breakdown: per phase, wall time, cores busy and who used the CPU."""
from benchmarks.probes import CpuSnapshot, phases


def snapshot(at, grades, grades_pg, warnings, busy, total):
    return CpuSnapshot(services={"grades": grades, "warnings": warnings, "rabbitmq-123": 1.0},
                       backends={4001: ("grades", grades_pg)}, machine=(busy, total), at=at)


def test_each_phase_gets_its_own_wall_time_busy_cores_and_processes(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    marks = [("start", snapshot(10.0, 1.0, 0.5, 2.0, busy=1000, total=4000)),
             ("upload", snapshot(15.0, 4.5, 1.7, 2.05, busy=1550, total=5000)),
             ("consumers", snapshot(25.0, 4.55, 1.7, 9.05, busy=3550, total=7000))]

    upload, consumers = phases(marks)

    assert upload == {"phase": "upload", "wall_seconds": 5.0, "cores_busy": 1.1,
                      "cpu_seconds": {"grades": 3.5, "grades (PostgreSQL)": 1.2}}
    assert consumers["phase"] == "consumers"
    assert consumers["wall_seconds"] == 10.0
    assert consumers["cores_busy"] == 2.0
    # most first; what used less than a tenth of a second (grades, rabbitmq here) is left out
    assert list(consumers["cpu_seconds"].items()) == [("warnings", 7.0)]
