"""Shared protocol of the bench baselines (NumPy and PyTorch programs).

Input on stdin: one JSON line (the job), then the job's arrays as raw little-endian float64,
concatenated (job["arrays"][name] = [offset, length] in float64 elements), then one JSON command
per line, each answered by one JSON line on stdout:
  {"cmd": "calibrate", "task": {...}}  builds the task, checks it once, runs its warm-up and doubles
                                       `inner` until one repetition takes target_ms;
                                       answers {"key", "inner", "check"}
  {"cmd": "rep", "key": K}             one timed repetition of `inner` calls; answers {"key", "ms"}
                                       (per call) and "load" (1-minute load average after it)
  {"cmd": "roofline", "workload": W, "dtype": T}
                                       GFLOP/s of the workload's GEMM shapes; answers {"gflops"}
  {"cmd": "quit"}
The first stdout line is {"info": {...}} with the BLAS the process actually loaded (blas_info).
The bench runs one process per thread count (OPENBLAS_NUM_THREADS etc. set by the caller), so a
process's thread setting is fixed at its start, as BLAS libraries expect.
"""
import ctypes
import json
import os
import sys
import time

import numpy as np


def read_job():
    """The job header and its arrays (float64 copies of the raw payload)."""
    header = json.loads(sys.stdin.buffer.readline())
    total = sum(n for _, n in header["arrays"].values())
    raw = sys.stdin.buffer.read(total * 8)
    arrays = {
        name: np.frombuffer(raw, dtype="<f8", count=n, offset=off * 8).copy()
        for name, (off, n) in header["arrays"].items()
    }
    return header, arrays


def commands():
    """The command records after the payload, until quit or end of input."""
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            return
        yield cmd


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


def load_average():
    """The 1-minute load average (None where unavailable)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def emit(record):
    """Writes one JSON record line and flushes (the bench reads line by line)."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


# OpenBLAS exports its configuration under plain names (Debian) or with the scipy-openblas prefix and
# 64-bit-integer suffix (the OpenBLAS bundled in NumPy wheels).
_OPENBLAS_SYMBOLS = [
    ("openblas_get_config", "openblas_get_corename", "openblas_get_num_threads"),
    ("scipy_openblas_get_config64_", "scipy_openblas_get_corename64_",
     "scipy_openblas_get_num_threads64_"),
]


def blas_info():
    """The BLAS this process has actually loaded: every mapped library whose name mentions blas,
    mkl or blis (from /proc/self/maps), and for OpenBLAS its configuration string, kernel (core
    type) and thread count read from the library itself. A BLAS that exports none of OpenBLAS's,
    MKL's or BLIS's entry points is taken for the netlib reference implementation (reference=True):
    its GEMM runs 15-25x slower than an optimized one, and the bench refuses it as a headline."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                name = os.path.basename(p).lower()
                if p.startswith("/") and any(s in name for s in ("blas", "mkl", "blis")) and p not in paths:
                    paths.append(p)
    except OSError:
        pass
    info = {"libraries": paths, "name": "unknown", "version": "", "core": "", "threads": None,
            "reference": False}
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        for cfg, core, threads in _OPENBLAS_SYMBOLS:
            if hasattr(lib, cfg):
                getattr(lib, cfg).restype = ctypes.c_char_p
                getattr(lib, core).restype = ctypes.c_char_p
                getattr(lib, threads).restype = ctypes.c_int
                info.update(name="OpenBLAS", version=getattr(lib, cfg)().decode(),
                            core=getattr(lib, core)().decode(), threads=getattr(lib, threads)(),
                            library=p)
                return info
        if hasattr(lib, "mkl_get_max_threads"):
            info.update(name="MKL", library=p, threads=lib.mkl_get_max_threads())
            return info
        if hasattr(lib, "bli_info_get_version_str"):
            lib.bli_info_get_version_str.restype = ctypes.c_char_p
            info.update(name="BLIS", version=lib.bli_info_get_version_str().decode(), library=p)
            return info
    if paths:
        info.update(name="reference BLAS (netlib)", reference=True, library=paths[0])
    return info


def blas_text(info):
    """One line naming the BLAS: library, version/configuration, kernel, threads."""
    parts = [info["name"]]
    if info.get("version"):
        parts.append(info["version"].replace(info["name"], "").strip())
    if info.get("core"):
        forced = os.environ.get("OPENBLAS_CORETYPE")
        parts.append(f"kernel {info['core']}" + (f" (OPENBLAS_CORETYPE={forced})" if forced else ""))
    if info.get("threads") is not None:
        parts.append(f"{info['threads']} thread{'s' if info['threads'] != 1 else ''}")
    if info.get("library"):
        parts.append(os.path.basename(info["library"]))
    if info.get("reference"):
        parts.append("REFERENCE")
    return "; ".join(p for p in parts if p)


class Timer:
    """One task's calibrated body: `rep()` gives one per-call time in ms (as bench/harness.ts);
    `sync()` (a device's wait, if any) ends every repetition before the clock stops."""

    def __init__(self, fn, task, sync=None):
        self.fn = fn
        self.sync = sync or (lambda: None)
        for _ in range(task["warmup"]):
            fn()
        self.sync()
        inner = 1
        while True:
            ms = self._run(inner)
            if ms >= task["target_ms"] or inner >= task["max_inner"]:
                break
            guess = int(inner * task["target_ms"] / ms) + 1 if ms > 0 else inner * 16
            inner = min(task["max_inner"], max(inner * 2, guess))
        self.inner = inner

    def _run(self, n):
        t0 = time.perf_counter()
        for _ in range(n):
            self.fn()
        self.sync()
        return (time.perf_counter() - t0) * 1e3

    def rep(self):
        return self._run(self.inner) / self.inner


def gemm_shapes(w):
    """The (m, k, n) GEMMs of one MLP gradient: the hidden pre-activations (n x d by d x h) and the
    first layer's gradient (h x n by n x d). Empty for workloads without a matrix product."""
    if w["kind"] != "mlp":
        return []
    n, d, h = w["n"], w["d"], w["hidden"]
    return [(n, d, h), (h, n, d)]


def roofline(w, dtype, matmul=None):
    """Measured GFLOP/s of the workload's GEMM shapes (None without any) (best of 5 timed passes after a warm-up),
    through `matmul(a, b, out)` (default NumPy's): the speed limit of every MLP operation."""
    shapes = gemm_shapes(w)
    if not shapes:
        return None
    rng = np.random.default_rng(0)
    mats = [(rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype),
             np.empty((m, n), dtype)) for m, k, n in shapes]
    mm = matmul or (lambda a, b, out: np.matmul(a, b, out=out))
    flops = sum(2 * m * k * n for m, k, n in shapes)

    def once():
        for a, b, c in mats:
            mm(a, b, c)

    reps = max(1, int(2e8 // flops))
    once()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            once()
        best = min(best, (time.perf_counter() - t0) / reps)
    return flops / best / 1e9


def serve(program, info, build, matmul=None, sync=None):
    """The command loop: `build(task, workload, arrays)` returns (fn, check) for a task; `sync`
    waits for a device at the end of each repetition. Fields of `info` override the BLAS found in
    the memory map (a device program names its own)."""
    job, arrays = read_job()
    blas = blas_info()
    emit({"info": {"program": program, "cpu": cpu_model(), "blas": blas,
                   "blas_text": blas_text(blas), **info}})
    timers = {}
    for cmd in commands():
        if cmd["cmd"] == "calibrate":
            task = cmd["task"]
            w = job["workloads"][task["workload"]]
            fn, check = build(task, w, arrays)
            timers[task["key"]] = Timer(fn, task, sync)
            emit({"key": task["key"], "inner": timers[task["key"]].inner, "check": check})
        elif cmd["cmd"] == "rep":
            ms = timers[cmd["key"]].rep()
            emit({"key": cmd["key"], "ms": ms, "load": load_average()})
        elif cmd["cmd"] == "roofline":
            w = job["workloads"][cmd["workload"]]
            emit({"gflops": roofline(w, np.dtype(cmd["dtype"]).type, matmul)})
        else:
            raise ValueError(f"unknown command {cmd['cmd']}")


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
