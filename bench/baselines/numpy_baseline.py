"""NumPy baselines for bench/main.ts, float32 or float64 as the task asks: the 4-D toy (a plain
Python/NumPy loop), the quadratic and the two-layer tanh MLP (hand-written backprop and R-operator
with preallocated buffers), computing the steps of core/optim/step.ts:
  gd:   x <- x - lr * grad L_B(x)
  sam:  x <- x - lr * grad L_B(x + rho * g/|g|),  g = grad L_B(x)     (B = all samples)
  1sam: the same with B = one uniformly drawn sample
and hvp, a 20-step Lanczos and a 100-probe Hutchinson trace where the task asks for them.
Protocol: protocol.py."""
import numpy as np

from protocol import hutchinson, lanczos_top, serve

# (p1, q1, p2, q2): F1 = 3 + (a-p1)^2 + (b-q1)^2, F2 = 1 + ((a-p2)^2 + (b-q2)^2)/2.
TOY_CENTRES = {"paper": (0.0, 0.0, -1.0, 0.0), "shifted": (1.0, 0.0, 0.0, 1.0)}


class Toy4d:
    """L = w0 F1 x3^2 + (1-w0) F2 x4^2 with w0 = 1/2 (full batch), 1 (sample 0) or 0 (sample 1)."""

    num_samples = 2

    def __init__(self, w, arrays, dtype=np.float64):
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

    def __init__(self, w, arrays, dtype=np.float64):
        dim = w["dim"]
        self.a = arrays[w["arrays"]["A"]].reshape(dim, dim).astype(dtype)

    def grad(self, x, sample=None):
        return self.a @ x

    def hvp(self, x, v):
        return self.a @ v


class Mlp:
    """f_k = sum_j a_j tanh(W_j . z_k + b_j), L = mean_k (f_k - y_k)^2, x = [W (h x d), b, a]:
    hand-written backprop and R-operator with every buffer preallocated (one set per batch size),
    in the task's float width: the fastest NumPy formulation found for these shapes."""

    def __init__(self, w, arrays, dtype=np.float64):
        n, d, h = w["n"], w["d"], w["hidden"]
        if w["activation"] != "tanh":
            raise ValueError("numpy mlp baseline implements tanh only")
        self.n, self.d, self.h, self.dtype = n, d, h, dtype
        self.num_samples = n
        self.z = arrays[w["arrays"]["z"]].reshape(n, d).astype(dtype)
        self.y = arrays[w["arrays"]["y"]].astype(dtype)
        self.g = np.empty(h * (d + 2), dtype)
        self.hv = np.empty(h * (d + 2), dtype)
        self.bufs = {}

    def _bufs(self, m):
        if m not in self.bufs:
            h, dt = self.h, self.dtype
            self.bufs[m] = {k: np.empty((m, h), dt) for k in ("s", "t", "u", "r")} | {
                k: np.empty(m, dt) for k in ("f", "e", "df")
            }
        return self.bufs[m]

    def _split(self, x):
        h, d = self.h, self.d
        return x[: h * d].reshape(h, d), x[h * d : h * d + h], x[h * d + h :]

    def _data(self, sample):
        if sample is None:
            return self.z, self.y
        return self.z[sample : sample + 1], self.y[sample : sample + 1]

    def grad(self, x, sample=None, out=None):
        out = self.g if out is None else out
        W, b, a = self._split(x)
        gW, gb, ga = self._split(out)
        z, y = self._data(sample)
        m = len(y)
        B = self._bufs(m)
        s, t, f, e = B["s"], B["t"], B["f"], B["e"]
        np.matmul(z, W.T, out=s)
        s += b
        np.tanh(s, out=s)
        np.matmul(s, a, out=f)
        np.subtract(f, y, out=e)
        e *= 2.0 / m
        np.matmul(e, s, out=ga)
        np.multiply(s, s, out=t)
        np.subtract(1, t, out=t)
        t *= a
        t *= e[:, None]
        np.matmul(t.T, z, out=gW)
        np.sum(t, axis=0, out=gb)
        return out

    def hvp(self, x, v):
        W, b, a = self._split(x)
        vW, vb, va = self._split(v)
        oW, ob, oa = self._split(self.hv)
        z, y = self.z, self.y
        m = len(y)
        B = self._bufs(m)
        s, s1, u, r, f, e, df = B["s"], B["t"], B["u"], B["r"], B["f"], B["e"], B["df"]
        np.matmul(z, W.T, out=s)
        s += b
        np.tanh(s, out=s)
        np.multiply(s, s, out=s1)
        np.subtract(1, s1, out=s1)  # sigma'
        np.matmul(z, vW.T, out=r)
        r += vb  # R{pre}
        np.matmul(s, a, out=f)
        np.subtract(f, y, out=e)
        e *= 2.0 / m
        np.multiply(s1, r, out=u)  # sigma' R{pre}
        np.matmul(s, va, out=df)
        df += u @ a
        df *= 2.0 / m  # R{e}
        np.matmul(df, s, out=oa)
        oa += e @ u
        # R{delta} = R{e} a sigma' + e (va sigma' + a sigma'' R{pre}), sigma'' = -2 s sigma'.
        u *= s
        u *= -2 * a
        u += s1 * va
        u *= e[:, None]
        s1 *= a
        s1 *= df[:, None]
        u += s1
        np.matmul(u.T, z, out=oW)
        np.sum(u, axis=0, out=ob)
        return self.hv


KINDS = {"toy4d": Toy4d, "quadratic": Quadratic, "mlp": Mlp}


def build(task, w, arrays):
    """The timed body of one task and its one-step check (x after one step from x0, or H v)."""
    dtype = np.float32 if task["dtype"] == "float32" else np.float64
    problem = KINDS[w["kind"]](w, arrays, dtype)
    lr, rho = dtype(w["lr"]), w["rho"]
    x0 = arrays[w["arrays"]["x0"]].astype(dtype)
    v0 = arrays[w["arrays"]["v"]].astype(dtype)
    dim = len(x0)
    rng = np.random.default_rng(0)
    m = problem.num_samples
    xt, tmp = np.empty(dim, dtype), np.empty(dim, dtype)
    g2 = np.empty(dim, dtype)

    def grad(x, sample, out):
        if isinstance(problem, Mlp):
            return problem.grad(x, sample, out)
        out[:] = problem.grad(x, sample)
        return out

    def step(x, kind, sample):
        if kind == "gd":
            g = grad(x, None, g2)
        else:
            s = None if kind == "sam" else sample
            g = grad(x, s, g2)
            np.multiply(g, dtype(rho / np.linalg.norm(g)), out=xt)
            np.add(xt, x, out=xt)
            g = grad(xt, s, g2)
        np.multiply(g, lr, out=tmp)
        x -= tmp

    op = task["op"]
    x = x0.copy()
    check = None
    if op in ("gd", "sam", "1sam"):
        fn = lambda: step(x, op, int(rng.integers(m)))  # noqa: E731
        xc = x0.copy()
        step(xc, op, task.get("sample", 0))
        check = xc.astype(np.float64).tolist()
    elif op == "hvp":
        fn = lambda: problem.hvp(x, v0)  # noqa: E731
        check = problem.hvp(x0, v0).astype(np.float64).tolist()
    elif op == "lanczos20":
        hv = lambda v: problem.hvp(x0, v.astype(dtype)).astype(np.float64)  # noqa: E731
        fn = lambda: lanczos_top(hv, dim, 20, rng)  # noqa: E731
    elif op == "hutch100":
        hv = lambda v: problem.hvp(x0, v.astype(dtype)).astype(np.float64)  # noqa: E731
        fn = lambda: hutchinson(hv, dim, 100, rng)  # noqa: E731
    else:
        raise ValueError(f"unknown op {op}")
    return fn, check


if __name__ == "__main__":
    serve("numpy", {"numpy": np.__version__}, build)
