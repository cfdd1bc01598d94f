"""NumPy float64 baselines for bench/main.ts: the 4-D toy (a plain Python/NumPy loop), the quadratic
and the two-layer tanh MLP (hand-written backprop), computing the steps of core/optim/step.ts:
  gd:   x <- x - lr * grad L_B(x)
  sam:  x <- x - lr * grad L_B(x + rho * g/|g|),  g = grad L_B(x)     (B = all samples)
  1sam: the same with B = one uniformly drawn sample
and hvp, a 20-step Lanczos and a 100-probe Hutchinson trace where the task asks for them.
Protocol: protocol.py."""
import numpy as np

from protocol import cpu_model, emit, hutchinson, lanczos_top, read_job, time_per_call

# (p1, q1, p2, q2): F1 = 3 + (a-p1)^2 + (b-q1)^2, F2 = 1 + ((a-p2)^2 + (b-q2)^2)/2.
TOY_CENTRES = {"paper": (0.0, 0.0, -1.0, 0.0), "shifted": (1.0, 0.0, 0.0, 1.0)}


class Toy4d:
    """L = w0 F1 x3^2 + (1-w0) F2 x4^2 with w0 = 1/2 (full batch), 1 (sample 0) or 0 (sample 1)."""

    num_samples = 2

    def __init__(self, w, arrays):
        self.p1, self.q1, self.p2, self.q2 = TOY_CENTRES[w["family"]]

    def grad(self, x, sample=None):
        w0 = 0.5 if sample is None else (1.0 if sample == 0 else 0.0)
        w1 = 1.0 - w0
        a, b, u, v = x
        a1, b1, a2, b2 = a - self.p1, b - self.q1, a - self.p2, b - self.q2
        s0, s1 = 2 * w0 * u * u, w1 * v * v
        return np.array([
            s0 * a1 + s1 * a2,
            s0 * b1 + s1 * b2,
            2 * w0 * (3 + a1 * a1 + b1 * b1) * u,
            2 * w1 * (1 + 0.5 * (a2 * a2 + b2 * b2)) * v,
        ])

    def hvp(self, x, v):
        a, b, u, t = x
        a1, b1, a2, b2 = a - self.p1, b - self.q1, a - self.p2, b - self.q2
        hd = u * u + 0.5 * t * t
        h3, h4 = 2 * u, t
        h33, h44 = 3 + a1 * a1 + b1 * b1, 1 + 0.5 * (a2 * a2 + b2 * b2)
        return np.array([
            hd * v[0] + h3 * a1 * v[2] + h4 * a2 * v[3],
            hd * v[1] + h3 * b1 * v[2] + h4 * b2 * v[3],
            h3 * (a1 * v[0] + b1 * v[1]) + h33 * v[2],
            h4 * (a2 * v[0] + b2 * v[1]) + h44 * v[3],
        ])


class Quadratic:
    """L = x^T A x / 2."""

    num_samples = 1

    def __init__(self, w, arrays):
        dim = w["dim"]
        self.a = arrays[w["arrays"]["A"]].reshape(dim, dim)

    def grad(self, x, sample=None):
        return self.a @ x

    def hvp(self, x, v):
        return self.a @ v


class Mlp:
    """f_k = sum_j a_j tanh(W_j . z_k + b_j), L = mean_k (f_k - y_k)^2, x = [W (h x d), b, a]."""

    def __init__(self, w, arrays):
        n, d, h = w["n"], w["d"], w["hidden"]
        if w["activation"] != "tanh":
            raise ValueError("numpy mlp baseline implements tanh only")
        self.n, self.d, self.h = n, d, h
        self.num_samples = n
        self.z = arrays[w["arrays"]["z"]].reshape(n, d)
        self.y = arrays[w["arrays"]["y"]]

    def grad(self, x, sample=None):
        h, d = self.h, self.d
        W, b, a = x[: h * d].reshape(h, d), x[h * d : h * d + h], x[h * d + h :]
        z = self.z if sample is None else self.z[sample : sample + 1]
        y = self.y if sample is None else self.y[sample : sample + 1]
        s = np.tanh(z @ W.T + b)
        e = (2.0 / len(y)) * (s @ a - y)
        delta = np.outer(e, a) * (1 - s * s)
        return np.concatenate([(delta.T @ z).ravel(), delta.sum(0), s.T @ e])


KINDS = {"toy4d": Toy4d, "quadratic": Quadratic, "mlp": Mlp}


def main():
    job, arrays = read_job()
    emit({"info": {"program": "numpy", "numpy": np.__version__, "cpu": cpu_model()}})
    for task in job["tasks"]:
        w = job["workloads"][task["workload"]]
        problem = KINDS[w["kind"]](w, arrays)
        lr, rho = w["lr"], w["rho"]
        x0 = arrays[w["arrays"]["x0"]]
        v0 = arrays[w["arrays"]["v"]]
        dim = len(x0)
        rng = np.random.default_rng(0)
        m = problem.num_samples

        def step(x, kind, sample):
            if kind == "gd":
                x -= lr * problem.grad(x)
                return
            s = None if kind == "sam" else sample
            g = problem.grad(x, s)
            x -= lr * problem.grad(x + rho * g / np.linalg.norm(g), s)

        op = task["op"]
        x = x0.copy()
        check = None
        if op in ("gd", "sam", "1sam"):
            fn = lambda: step(x, op, int(rng.integers(m)))  # noqa: E731
            xc = x0.copy()
            step(xc, op, task.get("sample", 0))
            check = xc.tolist()
        elif op == "hvp":
            fn = lambda: problem.hvp(x, v0)  # noqa: E731
            check = problem.hvp(x0, v0).tolist()
        elif op == "lanczos20":
            fn = lambda: lanczos_top(lambda v: problem.hvp(x0, v), dim, 20, rng)  # noqa: E731
        elif op == "hutch100":
            fn = lambda: hutchinson(lambda v: problem.hvp(x0, v), dim, 100, rng)  # noqa: E731
        else:
            raise ValueError(f"unknown op {op}")
        times = time_per_call(fn, task)
        emit({"key": task["key"], "times_ms": times, "check": check})


if __name__ == "__main__":
    main()
