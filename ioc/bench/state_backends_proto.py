"""PROTOTYPE (measurement of issue 11, reverted): worker bench A/B/C - memory only, state topic, Faust table."""
import json, os, statistics, sys
from ioc.bench.worker import run_worker_bench
from ioc.core.settings import load_settings
variants = {"memory_only": ("", ("--no-state",)), "state_topic": ("", ()), "faust_table": ("table", ())}
res = {v: [] for v in variants}
n = int(sys.argv[1]) if len(sys.argv) > 1 else 40000
for rnd in range(3):
    for name, (env, args) in variants.items():
        os.environ["IOC_PROTO_STATE"] = env
        r = run_worker_bench(load_settings(), n, worker_args=args)
        res[name].append(r)
        print(rnd, name, r["worker_drain_cpu_us_per_reading"], r["worker_readings_per_s"], r["worker_cpu_us_per_reading"], flush=True)
for name, rs in res.items():
    for f in ("worker_drain_cpu_us_per_reading", "worker_readings_per_s", "worker_cpu_us_per_reading"):
        vals = [r[f] for r in rs]
        print(name, f, "min", min(vals), "median", statistics.median(vals), "max", max(vals))
