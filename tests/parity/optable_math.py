"""The differential table's ``torch.linalg``, ``torch.fft`` and ``torch.special`` parts (see optable.py for the
format). Decompositions whose factors are not unique (signs, phases, order) are compared through what is
unique: reconstructions, singular values, sorted eigenvalues."""

from __future__ import annotations

import numpy as np

from gen import FLOATS, T
from optable import Op, binary, unary, with_dim

FL = ("float32", "float64")


def _mat(d, shape, dt, kind="general"):
    n = shape[-1]
    a = d.rng.uniform(-1, 1, size=shape)
    if kind == "spd":
        a = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    elif kind == "wellcond":
        a = a + n * np.eye(n) * np.sign(d.rng.uniform(-1, 1))
    elif kind == "sym":
        a = a + np.swapaxes(a, -1, -2) + 3 * np.diag(np.arange(n))  # separated eigenvalues
    elif kind == "tri":
        a = np.triu(a) + 2 * np.eye(n)
    return T(np.round(a, 3).astype(dt), dt, d.grad_mode and dt == "float64")


def square(kind="general", extra=None, batch=True):
    def g(d):
        dt = d.dtype(FL)
        n = d.int(1 if kind != "general" else 0, 3)
        b = (d.int(1, 2),) * d.int(0, 1) if batch else ()
        args = [_mat(d, b + (n, n), dt, kind)]
        kw = extra(d, args[0]) if extra else {}
        return args, kw

    return g


def rect(extra=None):
    def g(d):
        dt = d.dtype(FL)
        shape = (d.int(1, 2),) * d.int(0, 1) + (d.int(1, 3), d.int(1, 3))
        return [T(np.round(d.rng.uniform(-1, 1, size=shape), 3).astype(dt), dt, d.grad_mode and dt == "float64")], (extra(d) if extra else {})

    return g


def solve_gen(kind="wellcond", **kw_fixed):
    def g(d):
        dt = d.dtype(FL)
        n, k = d.int(1, 3), d.int(1, 2)
        A = _mat(d, (n, n), dt, kind)
        B = T(np.round(d.rng.uniform(-1, 1, size=(n, k) if d.p(0.7) else (n,)), 3).astype(dt), dt, A.grad)
        return [A, B], dict(kw_fixed)

    return g


def _qr_post(lib, out):
    q, r = out
    return q @ r


def _svd_post(lib, out):
    u, s, vh = out
    k = s.shape[-1]
    return s, (u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :]


def _eigh_post(lib, out):
    w, v = out
    return w, (v * w.unsqueeze(-2)) @ v.mT


def _eig_post(lib, out):
    w = out[0] if isinstance(out, tuple) else out
    return lib.sort(w.real, dim=-1)[0]


def _lu_post(lib, out):
    p, l, u = out
    return p @ l @ u


def _lu_factor_post(lib, out):
    return out[0]


def _first(lib, out):
    return out[0]


def lu_solve_call(lib, A, B):
    LU, piv = lib.linalg.lu_factor(A)
    return lib.linalg.lu_solve(LU, piv, B)


lu_solve_call.__name__ = "linalg.lu_solve∘lu_factor"
lu_solve_call.covers = ("linalg.lu_solve", "linalg.lu_factor")


def householder_gen(d):
    dt = d.dtype(FL)
    m = d.int(1, 3)
    n = d.int(1, m)
    return [T(np.round(d.rng.uniform(-1, 1, size=(m, n)), 3).astype(dt), dt, d.grad_mode and dt == "float64"), T(np.round(d.rng.uniform(0, 1.5, size=(d.int(1, n),)), 3).astype(dt), dt, d.grad_mode and dt == "float64")], {}


def multi_dot_gen(d):
    dt = d.dtype(FL)
    dims = [d.int(1, 3) for _ in range(d.int(3, 5))]
    mats = [T(np.round(d.rng.uniform(-1, 1, size=(dims[i], dims[i + 1])), 2).astype(dt), dt, d.grad_mode and dt == "float64") for i in range(len(dims) - 1)]
    return [mats], {}


def norm_gen(kind):
    def g(d):
        dt = d.dtype(FL)
        if kind == "vector":
            x = d.tensor(dtypes=FL, special=False)
            kw = {"ord": d.choice((2, 1, 3, float("inf"), -float("inf"), 0.5))}
            if x.ndim and d.p(0.5):
                kw["dim"] = d.dim(x.ndim, 0.0)
                kw["keepdim"] = d.p(0.5)
            return [x], kw
        shape = (d.int(1, 2),) * d.int(0, 1) + (d.int(1, 3), d.int(1, 3))
        x = T(np.round(d.rng.uniform(-2, 2, size=shape), 2).astype(dt), dt, d.grad_mode and dt == "float64")
        ords = ("fro", 1, -1, float("inf"), -float("inf")) if kind == "matrix" else (None, "fro", 1, float("inf"))
        return [x], {"ord": d.choice(ords)}

    return g


def cplx(d, shape, dt):
    re, im = d.rng.uniform(-2, 2, size=shape), d.rng.uniform(-2, 2, size=shape)
    ct = "complex64" if dt == "float32" else "complex128"
    return T(np.round(re + 1j * im, 2).astype(ct), ct)


def fft_gen(kind):
    def g(d):
        dt = d.dtype(FL)
        nd = {"2": 2, "n": d.int(1, 3)}.get(kind[-1], 1)
        shape = tuple(d.int(1, 4) for _ in range(nd + d.int(0, 1)))
        complex_in = kind.startswith(("fft", "ifft", "irfft", "hfft")) and d.p(0.6)
        x = cplx(d, shape, dt) if complex_in else T(np.round(d.rng.uniform(-2, 2, size=shape), 2).astype(dt), dt, d.grad_mode and dt == "float64")
        kw = {}
        if d.p(0.3):
            kw["norm"] = d.choice(("forward", "backward", "ortho"))
        if nd == 1 and kind[-1] not in "2n" and d.p(0.4):
            kw["n"] = d.int(1, 5)
        if nd == 1 and kind[-1] not in "2n" and d.p(0.4):
            kw["dim"] = d.dim(len(shape), 0.0)
        if kind[-1] in "2n" and d.p(0.3):
            kw["s"] = tuple(d.int(1, 4) for _ in range(nd))
            if kind[-1] == "n":
                kw["dim"] = tuple(range(-nd, 0))
        return [x], kw

    return g


def freq_gen(d):
    return [d.int(1, 6)], ({"d": d.choice((1.0, 0.5, 2))} if d.p(0.5) else {})


def shift_gen(d):
    x = d.tensor(dtypes=FL + ("int64",), min_rank=1)
    return [x], ({"dim": d.dim(x.ndim, 0.0)} if d.p(0.5) else {})


S = "special."

OPS_MATH = [
    # ---- linalg ----
    Op("linalg.det", "linalg.det", square("wellcond")),
    Op("linalg.slogdet", "linalg.slogdet", square("wellcond")),
    Op("linalg.inv", "linalg.inv", square("wellcond")),
    Op("linalg.inv_ex", "linalg.inv_ex", square("wellcond")),
    Op("linalg.cholesky", "linalg.cholesky", square("spd", extra=lambda d, a: {"upper": d.p(0.3)})),
    Op("linalg.cholesky_ex", "linalg.cholesky_ex", square("spd")),
    Op("linalg.qr", "linalg.qr", rect(), post=_qr_post),
    Op("linalg.svd", "linalg.svd", rect(lambda d: {"full_matrices": False}), post=_svd_post),
    Op("linalg.svdvals", "linalg.svdvals", rect()),
    Op("linalg.eigh", "linalg.eigh", square("sym"), post=_eigh_post),
    Op("linalg.eigvalsh", "linalg.eigvalsh", square("sym")),
    Op("linalg.eig", "linalg.eig", square("sym", batch=False), post=_eig_post, grad=False),
    Op("linalg.eigvals", "linalg.eigvals", square("sym", batch=False), post=_eig_post, grad=False),
    Op("linalg.solve", "linalg.solve", solve_gen()),
    Op("linalg.solve_ex", "linalg.solve_ex", solve_gen()),
    Op("linalg.solve_triangular", "linalg.solve_triangular", lambda d: (lambda a, k: (a[:1] + [T(a[1].arr.reshape(a[1].arr.shape[0], -1), a[1].dtype, a[1].grad)], {"upper": True}))(*solve_gen("tri")(d))),
    Op("linalg.lstsq", "linalg.lstsq", solve_gen(), post=_first),
    Op("linalg.lu", "linalg.lu", square("wellcond"), post=_lu_post),
    Op("linalg.lu_factor", "linalg.lu_factor", square("wellcond"), post=_lu_factor_post),
    Op("linalg.lu_factor_ex", "linalg.lu_factor_ex", square("wellcond"), post=_lu_factor_post),
    Op("linalg.lu_solve", lu_solve_call, solve_gen()),
    Op("linalg.matrix_exp", "linalg.matrix_exp", square("general")),
    Op("linalg.matrix_power", "linalg.matrix_power", square("wellcond", extra=lambda d, a: {"n": d.choice((0, 1, 2, 3, -1))})),
    Op("linalg.matrix_rank", "linalg.matrix_rank", rect(), grad=False),
    Op("linalg.pinv", "linalg.pinv", square("wellcond")),
    Op("linalg.matrix_norm", "linalg.matrix_norm", norm_gen("matrix")),
    Op("linalg.norm", "linalg.norm", norm_gen("norm")),
    Op("linalg.vector_norm", "linalg.vector_norm", norm_gen("vector")),
    Op("linalg.multi_dot", "linalg.multi_dot", multi_dot_gen),
    Op("linalg.householder_product", "linalg.householder_product", householder_gen),
    Op("linalg.vecdot", "linalg.vecdot", lambda d: ([x := d.tensor(dtypes=FL, min_rank=1), T(d.values(x.shape[-(d.int(1, x.ndim)):], x.dtype), x.dtype, x.grad)], {})),
    Op("linalg.cross", "linalg.cross", lambda d: ([T(d.values((2, 3), dt := d.dtype(FL)), dt, d.grad_mode), T(d.values((2, 3), dt), dt, d.grad_mode)], {})),
    Op("linalg.diagonal", "linalg.diagonal", lambda d: ([d.tensor(min_rank=2)], {"offset": d.int(-1, 1)})),
    Op("linalg.matmul", "linalg.matmul", lambda d: ([T(d.values((2, 3), dt := d.dtype(FL)), dt, d.grad_mode), T(d.values((3, d.int(0, 2)), dt), dt, d.grad_mode)], {})),
    Op("linalg.tensorinv", "linalg.tensorinv", lambda d: ([T((np.eye(4) * 2 + d.rng.uniform(-0.3, 0.3, (4, 4))).reshape(2, 2, 4).astype(dt := d.dtype(FL)), dt, d.grad_mode)], {"ind": 2})),
    Op("linalg.tensorsolve", "linalg.tensorsolve", lambda d: ([T((np.eye(4) * 2 + d.rng.uniform(-0.3, 0.3, (4, 4))).reshape(2, 2, 4).astype(dt := d.dtype(FL)), dt, d.grad_mode), T(d.values((2, 2), dt, special=False), dt, d.grad_mode)], {})),
    # ---- fft ----
    *[Op("fft." + n, "fft." + n, fft_gen(n)) for n in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn")],
    Op("fft.fftfreq", "fft.fftfreq", freq_gen, grad=False),
    Op("fft.rfftfreq", "fft.rfftfreq", freq_gen, grad=False),
    Op("fft.fftshift", "fft.fftshift", shift_gen),
    Op("fft.ifftshift", "fft.ifftshift", shift_gen),
    # ---- special ----
    *[Op(S + n, S + n, unary(FLOATS + ("int64",))) for n in ("erf", "erfc", "exp2", "expit", "expm1", "i0", "i0e", "i1", "i1e", "ndtr", "sinc")],
    # (PyTorch has no float16 kernel for these, ember computes one: float16 left out)
    *[Op(S + n, S + n, unary(FL + ("int64",))) for n in ("bessel_j0", "bessel_j1", "erfcx", "log_ndtr")],
    Op("special.round", "special.round", unary(FLOATS)),
    *[Op(S + n, S + n, unary(FLOATS + ("int64",), lo=0.05, hi=4.0)) for n in ("digamma", "psi", "gammaln", "log1p", "entr")],
    *[Op(S + n, S + n, unary(FLOATS, lo=-1.0, hi=1.0)) for n in ("erfinv",)],
    *[Op(S + n, S + n, unary(FL, lo=0.0, hi=1.0, special=(0.0, 1.0, np.nan))) for n in ("ndtri", "logit")],
    *[Op(S + n, S + n, binary(FL, scalar=0.0, lo=0.1, hi=3.0), grad=False) for n in ("gammainc", "gammaincc")],
    Op("special.zeta", "special.zeta", binary(FL, scalar=0.0, lo=1.1, hi=4.0), grad=False),
    *[Op(S + n, S + n, binary(FL, scalar=0.2, lo=0.0, hi=3.0)) for n in ("xlogy", "xlog1py")],
    Op("special.multigammaln", "special.multigammaln", lambda d: ([d.tensor(dtypes=FL, lo=2.0, hi=5.0, special=False), d.int(1, 3)], {})),
    Op("special.polygamma", "special.polygamma", lambda d: ([d.int(0, 3), d.tensor(dtypes=FL, lo=0.2, hi=4.0, special=False)], {})),
    Op("special.softmax", "special.softmax", with_dim(FLOATS, keepdim=False, optional=False)),
    Op("special.log_softmax", "special.log_softmax", with_dim(FLOATS, keepdim=False, optional=False)),
    Op("special.logsumexp", "special.logsumexp", with_dim(FL, optional=False)),
]
