"""PyTorch CPU baselines for bench/main.ts: the two-layer tanh MLP with MSE,
f_k = sum_j a_j tanh(W_j . z_k + b_j), L = mean_k (f_k - y_k)^2, x = [W (h x d), b, a] flat,
in the task's float width, by autograd. The steps are those of core/optim/step.ts:
  gd:   x <- x - lr * grad L(x)
  sam:  x <- x - lr * grad L_B(x + rho * g/|g|),  g = grad L_B(x)     (B = all samples)
  1sam: the same with B = one uniformly drawn sample
hvp is double backprop; lanczos20 / hutch100 keep their vectors in float64 NumPy arrays and run
only the HVP in the task's float width, as the project's spectral routines do.
Device: BENCH_DEVICE (default cpu; "cuda" puts every tensor on the first CUDA device and waits for
it, torch.cuda.synchronize, at the end of each timed repetition, as ours read back at the end of
theirs). Threads: BENCH_THREADS (set by the bench, one process per thread count; default all cores), with
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set alike. torch.__config__ reports BLAS_INFO=generic
for Debian's build whatever libblas.so.3 resolves to, so the loaded library is read from the
process's memory map (protocol.blas_info).
Protocol: protocol.py."""
import os

import numpy as np
import torch

from protocol import hutchinson, lanczos_top, serve


DEVICE = torch.device(os.environ.get("BENCH_DEVICE") or "cpu")


class Mlp:
    def __init__(self, w, arrays, dtype):
        n, d, h = w["n"], w["d"], w["hidden"]
        if w["activation"] != "tanh":
            raise ValueError("torch mlp baseline implements tanh only")
        self.n, self.d, self.h, self.dtype = n, d, h, dtype
        self.z = torch.tensor(arrays[w["arrays"]["z"]].reshape(n, d), dtype=dtype, device=DEVICE)
        self.y = torch.tensor(arrays[w["arrays"]["y"]], dtype=dtype, device=DEVICE)

    def loss(self, x, sample=None):
        h, d = self.h, self.d
        W, b, a = x[: h * d].view(h, d), x[h * d : h * d + h], x[h * d + h :]
        z = self.z if sample is None else self.z[sample : sample + 1]
        y = self.y if sample is None else self.y[sample : sample + 1]
        f = torch.tanh(torch.addmm(b, z, W.t())) @ a
        return ((f - y) ** 2).mean()

    def grad(self, x, sample=None):
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(self.loss(x, sample), x)
        return g

    def hvp(self, x, v):
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(self.loss(x), x, create_graph=True)
        (hv,) = torch.autograd.grad(g @ v, x)
        return hv


def build(task, w, arrays):
    """The timed body of one task and its one-step check (x after one step from x0, or H v)."""
    dtype = torch.float64 if task["dtype"] == "float64" else torch.float32
    problem = Mlp(w, arrays, dtype)
    lr, rho = w["lr"], w["rho"]
    x0 = torch.tensor(arrays[w["arrays"]["x0"]], dtype=dtype, device=DEVICE)
    v0 = torch.tensor(arrays[w["arrays"]["v"]], dtype=dtype, device=DEVICE)
    dim = x0.numel()
    rng = np.random.default_rng(0)

    def step(x, kind, sample):
        if kind == "gd":
            g = problem.grad(x)
            with torch.no_grad():
                x.sub_(lr * g)
            return
        s = None if kind == "sam" else sample
        g = problem.grad(x, s)
        with torch.no_grad():
            xt = x + (rho / g.norm()) * g
        gt = problem.grad(xt, s)
        with torch.no_grad():
            x.sub_(lr * gt)

    def matvec(v):
        hv = problem.hvp(x0, torch.from_numpy(v).to(DEVICE, dtype))
        return hv.to(torch.float64).cpu().numpy()

    op = task["op"]
    x = x0.clone()
    check = None
    if op in ("gd", "sam", "1sam"):
        fn = lambda: step(x, op, int(rng.integers(problem.n)))  # noqa: E731
        xc = x0.clone()
        step(xc, op, task.get("sample", 0))
        check = xc.tolist()
    elif op == "hvp":
        fn = lambda: problem.hvp(x, v0)  # noqa: E731
        check = problem.hvp(x0, v0).tolist()
    elif op == "lanczos20":
        fn = lambda: lanczos_top(matvec, dim, 20, rng)  # noqa: E731
    elif op == "hutch100":
        fn = lambda: hutchinson(matvec, dim, 100, rng)  # noqa: E731
    else:
        raise ValueError(f"unknown op {op}")
    return fn, check


def torch_matmul(a, b, out):
    """The roofline's GEMM through torch (its own BLAS binding), on NumPy-owned memory."""
    torch.matmul(torch.from_numpy(a), torch.from_numpy(b), out=torch.from_numpy(out))


if __name__ == "__main__":
    threads = int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    info = {"torch": torch.__version__, "torch_threads": threads}
    if DEVICE.type == "cuda":
        name = torch.cuda.get_device_name(DEVICE)
        # The products run in cuBLAS on the device: the CPU BLAS in the memory map is not timed.
        # The bench reads a program's version under its own name.
        info.update({"torch-cuda": torch.__version__}, device=name,
                    blas={"name": "cuBLAS", "reference": False},
                    blas_text=f"cuBLAS (CUDA {torch.version.cuda}) on {name}")
        serve("torch-cuda", info, build, sync=torch.cuda.synchronize)
    else:
        serve("torch", info, build, torch_matmul)
