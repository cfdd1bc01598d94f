"""Shared protocol of the bench baselines (NumPy and PyTorch programs).

Input on stdin: one JSON line (the job), then the job's arrays as raw little-endian float64,
concatenated; job["arrays"][name] = [offset, length] in float64 elements.
Output on stdout: one JSON line per record: first {"info": {...}}, then one {"key": ..., ...} per task.

Timing mirrors bench/harness.ts: warm-up calls, then `inner` is doubled until one repetition takes
at least target_ms, then `reps` repetitions of `inner` calls (fewer, but at least min_reps, when they
would exceed budget_ms); each repetition gives one per-call time.
"""
import json
import sys
import time

import numpy as np


def read_job():
    """The job header and its arrays (float64 views of the raw payload)."""
    header = json.loads(sys.stdin.buffer.readline())
    raw = sys.stdin.buffer.read()
    arrays = {
        name: np.frombuffer(raw, dtype="<f8", count=n, offset=off * 8).copy()
        for name, (off, n) in header["arrays"].items()
    }
    return header, arrays


def cpu_model():
    """The CPU's model name from /proc/cpuinfo ("" elsewhere); Deno may only read it with --allow-all."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def emit(record):
    """Writes one JSON record line and flushes (the bench reads line by line)."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def time_per_call(fn, task):
    """Per-call milliseconds of `fn` over task["reps"] repetitions (after warm-up and calibration)."""
    for _ in range(task["warmup"]):
        fn()
    inner = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        ms = (time.perf_counter() - t0) * 1e3
        if ms >= task["target_ms"] or inner >= task["max_inner"]:
            break
        inner = min(inner * 2, task["max_inner"])
    reps = task["reps"]
    if ms * reps > task["budget_ms"]:
        reps = max(task["min_reps"], int(task["budget_ms"] // max(ms, 1e-9)))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) * 1e3 / inner)
    return times


def lanczos_top(matvec, dim, steps, rng):
    """Top Ritz value after `steps` matvecs: the algorithm of core/spectra/lanczos.ts with block
    size 1 (CGS2 full re-orthogonalization, symmetrized Rayleigh-Ritz matrix solved every step,
    true residual of the top Ritz pair, next direction = H q_j)."""
    m = min(steps, dim)
    q = np.zeros((m, dim))
    hq = np.zeros((m, dim))
    t = np.zeros((m, m))
    w = rng.standard_normal(dim)
    top = 0.0
    for j in range(m):
        for _ in range(2):
            w -= q[:j].T @ (q[:j] @ w)
        w /= np.linalg.norm(w)
        hw = matvec(w)
        q[j] = w
        hq[j] = hw
        col = (q[: j + 1] @ hw + hq[: j + 1] @ w) / 2
        t[j, : j + 1] = col
        t[: j + 1, j] = col
        vals, vecs = np.linalg.eigh(t[: j + 1, : j + 1])
        s = vecs[:, -1]
        y, hy = s @ q[: j + 1], s @ hq[: j + 1]
        np.linalg.norm(hy - vals[-1] * y)
        top = vals[-1]
        w = hw.copy()
    return top


def hutchinson(matvec, dim, probes, rng):
    """Mean of zᵀHz over Rademacher probes (as core/spectra/trace.ts)."""
    s = 0.0
    for _ in range(probes):
        z = rng.integers(0, 2, dim).astype(np.float64) * 2 - 1
        s += z @ matvec(z)
    return s / probes
