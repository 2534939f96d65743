"""ember.special against values recorded from torch.special (fixtures/special_ref.npz), SciPy over wide
ranges, float64 gradient checks, dtypes and errors."""

import pathlib

import numpy as np
import pytest

import ember
import ember.special as S
from ember.autograd import gradcheck

sp = pytest.importorskip("scipy.special")  # the reference values (test-only dependency)

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "special_ref.npz")


def t64(a, grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def close(got, want, rtol=1e-12, atol=0.0):
    np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfcx", "i0", "i0e", "i1", "i1e", "ndtr", "log_ndtr", "sinc",
                                  "expit"])
def test_unary_matches_torch(name):
    # torch's ndtr is 1/2 (1 + erf) in the far tail (absolute, not relative, accuracy): SciPy checks that below
    atol = 1e-16 if name == "ndtr" else 1e-300
    close(getattr(S, name)(t64(REF["x"])), REF[name], rtol=1e-12, atol=atol)


@pytest.mark.parametrize("name", ["bessel_j0", "bessel_j1"])
def test_bessel_j_matches_torch(name):
    out = getattr(S, name)(t64(REF["x"], grad=True))
    close(out, REF[name], rtol=0, atol=2e-7)  # torch's own error near |x| = 14 is ~1e-7 (SciPy check below)
    assert not out.requires_grad  # PyTorch gives these no gradient


def test_inverse_and_domain_functions_match_torch():
    p = t64(REF["p"])
    close(S.ndtri(p), REF["ndtri"], rtol=1e-12)
    close(S.erfinv(p * 2 - 1), REF["erfinv"], rtol=1e-10)
    close(S.logit(p), REF["logit"], rtol=1e-12)
    close(S.logit(p, eps=1e-3), REF["logit_eps"], rtol=1e-12)
    pos = t64(REF["pos"])
    close(S.gammaln(pos), REF["gammaln"], rtol=1e-12)
    close(S.digamma(pos), REF["digamma"], rtol=1e-10, atol=1e-12)
    close(S.entr(pos), REF["entr"], rtol=1e-12)
    for n in (1, 2, 3):  # at the pole -1 torch returns a huge finite number
        close(S.polygamma(n, pos[:-1]), REF[f"polygamma{n}"][:-1], rtol=1e-9)


def test_binary_functions_match_torch():
    a, b = t64(REF["xy_a"]), t64(REF["xy_b"])
    close(S.xlogy(a, b.abs()), REF["xlogy"])
    close(S.xlog1py(a, b), REF["xlog1py"])
    close(S.zeta(t64(REF["zeta_s"]), t64(REF["zeta_q"])), REF["zeta"], rtol=1e-12)
    close(S.multigammaln(t64(REF["mg_x"]), 3), REF["multigammaln3"])
    sm = t64(REF["sm_x"])
    close(S.softmax(sm, 1), REF["softmax1"])
    close(S.log_softmax(sm, 0), REF["log_softmax0"])
    close(S.round(ember.tensor([0.5, 1.5, 2.5, -0.5, 1.2345])), REF["round"])


# (i0(713) = 6.7e307 is finite: torch and SciPy overflow there, so it is not in the table)
WIDE = np.concatenate([np.linspace(-60, 60, 4801), [0.0, 1e-300, 700.0, -700.0, 800.0, np.inf, -np.inf, np.nan]])


@pytest.mark.parametrize("name,ref", [("i0", sp.i0), ("i0e", sp.i0e), ("i1", sp.i1), ("i1e", sp.i1e),
                                      ("erfcx", sp.erfcx), ("ndtr", sp.ndtr), ("log_ndtr", sp.log_ndtr),
                                      ("entr", sp.entr)])
def test_wide_range_against_scipy(name, ref):
    with np.errstate(all="ignore"):
        want = ref(WIDE)
    close(getattr(S, name)(t64(WIDE)), want, rtol=5e-13, atol=1e-300)


def test_j0_j1_and_ndtri_against_scipy():
    close(S.bessel_j0(t64(WIDE)), sp.j0(WIDE), rtol=0, atol=5e-12)
    close(S.bessel_j1(t64(WIDE)), sp.j1(WIDE), rtol=0, atol=5e-12)
    p = np.concatenate([np.linspace(0, 1, 2001), [5e-324, 1e-300, 1e-100, 1 - 1e-16, -0.1, 1.1, np.nan]])
    close(S.ndtri(t64(p)), sp.ndtri(p), rtol=1e-13, atol=1e-15)
    s = np.array([1.1, 2.0, 3.0, 7.5, 50.0, 0.5, 1.0, 4.0])
    q = np.array([0.2, 1.0, 5.5, 1e-4, 2.0, 1.0, 3.0, -2.5])
    close(S.zeta(t64(s), t64(q)), sp.zeta(s, q), rtol=1e-12)


def test_float32_results_keep_dtype():
    x = ember.tensor([0.5, 1.0, 2.0])
    for name in ["i0", "i0e", "i1", "i1e", "erfcx", "ndtr", "log_ndtr", "sinc", "entr", "bessel_j0"]:
        out = getattr(S, name)(x)
        assert out.dtype == ember.float32, name
        np.testing.assert_allclose(out.numpy(), getattr(S, name)(x.double()).numpy(), rtol=1e-6, atol=1e-7)
    assert S.i0(ember.tensor([1, 2])).dtype == ember.float32
    assert S.ndtri(ember.tensor([0.5, 0.975])).dtype == ember.float32


GRAD_CASES = [
    ("i0", lambda x: S.i0(x), [-40.0, -3.0, 0.0, 0.7, 35.0]),
    ("i0e", lambda x: S.i0e(x), [-40.0, -3.0, 0.7, 35.0]),
    ("i1", lambda x: S.i1(x), [-40.0, -3.0, 0.0, 0.7, 35.0]),
    ("i1e", lambda x: S.i1e(x), [-40.0, -3.0, 0.0, 0.7, 35.0]),
    ("erfcx", lambda x: S.erfcx(x), [-2.0, 0.1, 0.46, 1.0, 5.0, 30.0]),
    ("ndtr", lambda x: S.ndtr(x), [-3.0, 0.0, 1.5]),
    ("ndtri", lambda x: S.ndtri(x), [1e-3, 0.2, 0.5, 0.9]),
    ("log_ndtr", lambda x: S.log_ndtr(x), [-30.0, -2.0, -0.5, 3.0]),
    ("sinc", lambda x: S.sinc(x), [-2.3, 0.0, 0.4, 5.1]),
    ("entr", lambda x: S.entr(x), [0.1, 1.0, 3.0]),
    ("expit", lambda x: S.expit(x), [-3.0, 0.0, 2.0]),
    ("multigammaln", lambda x: S.multigammaln(x, 3), [1.7, 4.0, 10.0]),
    ("xlog1py", lambda x: S.xlog1py(x, x.exp()), [0.5, 1.0, 3.0]),
]


@pytest.mark.parametrize("name,fn,values", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck(name, fn, values):
    assert gradcheck(fn, (t64(values, grad=True),), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_zeta_gradient_in_q_only():
    s = t64([2.0, 3.5])
    assert gradcheck(lambda q: S.zeta(s, q), (t64([0.7, 3.0], grad=True),), atol=1e-6, rtol=1e-4)
    q = t64([0.7, 3.0])
    y = S.zeta(t64([2.0, 3.0], grad=True), q).sum()
    with pytest.raises(NotImplementedError, match="derivative for 'zeta' is not implemented"):
        y.backward()


def test_incomplete_gamma():
    a, x = t64(REF["ginc_a"]), t64(REF["ginc_x"])
    close(S.gammainc(a, x), REF["gammainc"], rtol=1e-9, atol=1e-15)  # torch: ~5e-10 for large a
    close(S.gammaincc(a, x), REF["gammaincc"], rtol=2e-9, atol=1e-15)
    rng = np.random.default_rng(0)
    aw, xw = rng.uniform(0.01, 200, 500), rng.uniform(0, 250, 500)
    close(S.gammainc(t64(aw), t64(xw)), sp.gammainc(aw, xw), rtol=1e-11, atol=1e-300)
    close(S.gammaincc(t64(aw), t64(xw)), sp.gammaincc(aw, xw), rtol=1e-10, atol=1e-300)
    assert gradcheck(lambda t: S.gammainc(t64([0.5, 3.0, 20.0]), t), (t64([0.7, 2.0, 25.0], grad=True),))
    assert gradcheck(lambda t: S.gammaincc(t64([0.5, 3.0, 20.0]), t), (t64([0.7, 2.0, 25.0], grad=True),))
    y = S.gammainc(t64([2.0], grad=True), t64([1.0])).sum()
    with pytest.raises(NotImplementedError, match="derivative for 'igamma: input' is not implemented"):
        y.backward()
    assert ember.igamma is S.gammainc and ember.Tensor.igammac is S.gammaincc


NAN, INF = np.nan, np.inf


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_incomplete_gamma_edges_match_torch(dtype):
    # (a, x, P, Q) as torch.igamma / igammac return them (PyTorch 2.13): its limits at a == 0, x == 0 and at
    # infinities, in its order of precedence (x == 0 before a == inf or nan; a == inf before x == inf)
    cases = [(NAN, 0.0, 0.0, 1.0), (NAN, -0.0, 0.0, 1.0), (NAN, INF, 1.0, 0.0), (NAN, 1.0, NAN, NAN),
             (0.0, 0.5, 1.0, 0.0), (-0.0, INF, 1.0, 0.0), (0.0, 0.0, NAN, NAN), (0.0, NAN, NAN, NAN),
             (1.0, 0.0, 0.0, 1.0), (1.0, -0.0, 0.0, 1.0), (1.0, INF, 1.0, 0.0), (INF, 0.0, 0.0, 1.0),
             (INF, 1.0, 0.0, 1.0), (INF, NAN, 0.0, 1.0), (INF, INF, NAN, NAN), (-1.0, 1.0, NAN, NAN),
             (1.0, -INF, NAN, NAN), (-INF, 0.0, NAN, NAN), (1.0, NAN, NAN, NAN)]
    a, x, p, q = (np.array(c) for c in zip(*cases))
    a, x = ember.tensor(a, dtype=dtype), ember.tensor(x, dtype=dtype)
    np.testing.assert_array_equal(ember.igamma(a, x).numpy(), p)
    np.testing.assert_array_equal(ember.igammac(a, x).numpy(), q)
    assert ember.igamma(a, x).dtype is dtype


def test_overflow_edge_and_infinities():
    np.testing.assert_allclose(S.i0(t64([713.0])).numpy(), [6.7051e307], rtol=1e-4)
    assert np.isnan(S.i0(t64([np.inf])).numpy()).all()  # as torch
    assert np.isnan(S.bessel_j0(t64([np.inf, -np.inf])).numpy()).all()


def test_gradient_values_at_special_points():
    x = t64([0.0], grad=True)
    S.sinc(x).sum().backward()
    assert x.grad.item() == 0.0
    x = t64([0.0], grad=True)
    S.i1(x).sum().backward()
    assert x.grad.item() == 0.5


def test_errors_and_scalars():
    with pytest.raises(RuntimeError, match=r"p has to be greater than or equal to 1"):
        S.multigammaln(ember.tensor([3.0]), 0)
    with pytest.raises(TypeError):
        S.i0(1.0)
    with pytest.raises(TypeError):
        S.zeta(2.0, 3.0)
    np.testing.assert_allclose(S.xlog1py(2.0, ember.tensor([3.0])).numpy(), [2 * np.log(4.0)], rtol=1e-6)
    np.testing.assert_allclose(S.zeta(ember.tensor([2.0]), 1.0).numpy(), [np.pi**2 / 6], rtol=1e-6)
    assert S.zeta(ember.tensor([2.0]), ember.tensor([3.0], dtype=ember.float64)).dtype == ember.float64
    assert S.multigammaln(ember.tensor([3]), 3).dtype == ember.float32


def test_namespace_and_methods():
    x = ember.tensor([0.25, 1.5])
    np.testing.assert_allclose(ember.i0(x).numpy(), x.i0().numpy())
    np.testing.assert_allclose(ember.sinc(x).numpy(), x.sinc().numpy())
    np.testing.assert_allclose(ember.mvlgamma(x + 2, p=2).numpy(), (x + 2).mvlgamma(2).numpy())
    y = x.clone()
    y.i0_()
    np.testing.assert_allclose(y.numpy(), sp.i0(x.numpy()), rtol=1e-6)
    assert S.gammaln is ember.lgamma and S.psi is ember.digamma


def test_zeta_edge_values_follow_torch():
    # PyTorch's rule order: x == 1 -> inf (even for a nan q); x < 1 -> nan; q <= 0 an integer (or -inf) -> inf
    # (even for a nan x); q <= 0 with a non-integer x -> nan; q = +inf -> nan; x = +inf -> 1 at q == 1,
    # inf for 0 < q < 1 and nan for q > 1
    inf, nan = np.inf, np.nan
    x = [2.99, 1.0, 0.5, 2.0, nan, 2.5, 3.0, inf, inf, inf, 2.0, 2.0]
    q = [inf, nan, 2.0, -inf, -2.0, -1.5, -1.5, 1.0, 0.5, 2.0, nan, 2.42]
    want = [nan, inf, nan, inf, inf, nan, None, 1.0, inf, nan, nan, None]
    got = S.zeta(t64(x), t64(q)).numpy()
    ref = [float(sp.zeta(a, b)) for a, b in zip(x, q)]
    for g, w, r in zip(got, want, ref):
        np.testing.assert_allclose(g, r if w is None else w, rtol=1e-10, equal_nan=True)
    f32 = S.zeta(ember.tensor([2.0, 3.0]), ember.tensor([inf, inf]))
    assert f32.dtype == ember.float32 and np.isnan(f32.numpy()).all()
