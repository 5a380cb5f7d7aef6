# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the tests/bench scripts: whole-process wall time of vfctl and
of its peer, run alternately (so load on a shared machine hits both alike),
medians printed as '# figure:' lines and appended as one JSON object a line
to $BENCH_OUT (tests/bench/report turns them into docs/bench.md). Never a
pass/fail test: a script fails only when a command it times fails."""
import json
import os
import statistics
import subprocess
import sys
import time

QUICK = os.environ.get("BENCH_QUICK") == "1"  # make check's smoke: a few runs


def runs(default):
    return 3 if QUICK else int(os.environ.get("BENCH_RUNS", default))


def once(cmd, env=None):
    """Wall time of one run of cmd (ms); its output is discarded."""
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    ms = (time.perf_counter() - t) * 1e3
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited {p.returncode}: {p.stderr.decode()[-500:]}")
    return ms


def alternate(cmds, n, env=None):
    """cmds: {label: argv}; n rounds, each running every command once, in
    turn; one warm-up round first (page cache, dynamic linker). Medians."""
    times = {k: [] for k in cmds}
    for k, c in cmds.items():
        once(c, env)
    for _ in range(n):
        for k, c in cmds.items():
            times[k].append(once(c, env))
    return {k: statistics.median(v) for k, v in times.items()}


def report(figure, what, vfctl_ms, peer=None, peer_ms=None, runs_n=0, extra=None):
    """One figure: printed, and appended to $BENCH_OUT as JSON."""
    rec = {"figure": figure, "what": what, "vfctl_ms": round(vfctl_ms, 3), "runs": runs_n}
    line = f"# figure: {figure}: vfctl {vfctl_ms:.2f} ms"
    if peer is not None:
        rec.update(peer=peer, peer_ms=round(peer_ms, 3), ratio=round(vfctl_ms / peer_ms, 3))
        line += f", {peer} {peer_ms:.2f} ms, ratio {vfctl_ms / peer_ms:.2f}"
    for k, v in (extra or {}).items():
        rec[k] = v
        line += f", {k} {v}"
    print(line, flush=True)
    out = os.environ.get("BENCH_OUT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")


def need(var):
    v = os.environ.get(var)
    if not v:
        sys.exit(f"bench: ${var} is not set; run through 'make bench'")
    return v
