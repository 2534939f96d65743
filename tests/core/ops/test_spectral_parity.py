"""Live comparison with PyTorch (tox -e parity) over randomly drawn arguments: ``stft``/``istft``, the
``ember.fft`` transforms and ``ctc_loss``, values and gradients in float64."""

import ember
import ember.nn.functional as EF
import numpy as np
import pytest

pytestmark = pytest.mark.parity
TOL = dict(rtol=1e-9, atol=1e-10)


def _grads(lib, fn, arrays, g_seed=1):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*xs)
    yr = lib.view_as_real(y.resolve_conj()) if y.is_complex() else y
    g = np.random.default_rng(g_seed).standard_normal(tuple(yr.shape))
    yr.backward(lib.tensor(g))
    return yr.detach().numpy(), [x.grad.numpy() for x in xs]


def _compare(fn_e, fn_t, arrays):
    torch = pytest.importorskip("torch")
    ye, ge = _grads(ember, fn_e, arrays)
    yt, gt = _grads(torch, fn_t, arrays)
    np.testing.assert_allclose(ye, yt, **TOL)
    for a, b in zip(ge, gt):
        np.testing.assert_allclose(a, b, **TOL)


@pytest.mark.parametrize("seed", range(20))
def test_stft_istft_random_arguments(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    n_fft = int(rng.integers(4, 33))
    win = int(rng.integers(max(2, n_fft // 2), n_fft + 1))
    hop = int(rng.integers(1, win + 1))
    center = bool(rng.integers(2))
    kw = dict(n_fft=n_fft, hop_length=hop, win_length=win, center=center, normalized=bool(rng.integers(2)),
              onesided=[None, True, False][int(rng.integers(3))])
    if center:
        kw["pad_mode"] = ["reflect", "constant", "replicate", "circular"][int(rng.integers(4))]
    elif rng.integers(2):
        kw["align_to_window"] = True
    x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(n_fft + 1, 80))))
    if rng.integers(2):
        x = x[0]
    w = rng.uniform(0.5, 1.5, win)
    _compare(lambda a, b: ember.stft(a, window=b, return_complex=True, **kw),
             lambda a, b: torch.stft(a, window=b, return_complex=True, **kw), [x, w])
    # istft of a perturbed spectrogram (the window is positive, so NOLA holds whenever hop <= win)
    ikw = {k: v for k, v in kw.items() if k not in ("pad_mode", "align_to_window")}
    spec = torch.stft(torch.tensor(x), window=torch.tensor(w), return_complex=True, **kw)
    spec = torch.view_as_real(spec).numpy() + 0.1 * rng.standard_normal(tuple(spec.shape) + (2,))
    if not center:
        ikw["center"] = False
    length = None if rng.integers(2) else int(rng.integers(1, x.shape[-1] + 1))
    if (win < n_fft and not center) or (center and n_fft // 2 >= (spec.shape[-2] - 1) * hop + n_fft - n_fft // 2):
        return
    _compare(lambda s, b: ember.istft(ember.view_as_complex(s), window=b, length=length, **ikw),
             lambda s, b: torch.istft(torch.view_as_complex(s), window=b, length=length, **ikw), [spec, w])


FFT_NAMES = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
             "rfftn", "irfftn"]


@pytest.mark.parametrize("name", FFT_NAMES)
@pytest.mark.parametrize("seed", range(4))
def test_fft_random_arguments(name, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in rng.integers(2, 7, 3))
    real_in = name in ("rfft", "ihfft", "rfft2", "rfftn")
    kw = {"norm": [None, "backward", "forward", "ortho"][int(rng.integers(4))]}
    if name.endswith("fft") and not name.endswith("2"):
        kw["dim"] = int(rng.integers(-3, 3))
        if rng.integers(2):
            kw["n"] = int(rng.integers(2, 9))
    else:
        dims = list(rng.permutation(3)[: 2 if name.endswith("2") else int(rng.integers(1, 4))])
        kw["dim"] = tuple(int(d) for d in dims)
        if rng.integers(2):
            kw["s"] = tuple(int(v) for v in rng.integers(2, 9, len(dims)))
    re = rng.standard_normal(shape)
    if real_in:
        _compare(lambda a: getattr(ember.fft, name)(a, **kw), lambda a: getattr(torch.fft, name)(a, **kw), [re])
    else:
        im = rng.standard_normal(shape)
        _compare(lambda a, b: getattr(ember.fft, name)(ember.complex(a, b), **kw),
                 lambda a, b: getattr(torch.fft, name)(torch.complex(a, b), **kw), [re, im])


@pytest.mark.parametrize("seed", range(10))
def test_ctc_loss_random_arguments(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    T, N, C = int(rng.integers(1, 15)), int(rng.integers(1, 5)), int(rng.integers(2, 7))
    blank = int(rng.integers(C))
    il = rng.integers(0, T + 1, N)
    tl = rng.integers(0, 6, N)
    labels = np.array([c for c in range(C) if c != blank])
    tg = labels[rng.integers(0, len(labels), (N, max(int(tl.max()), 1)))]
    concat = bool(rng.integers(2))
    if concat:
        tg = np.concatenate([tg[i, : tl[i]] for i in range(N)])
    reduction = ["none", "sum", "mean"][int(rng.integers(3))]
    zi = bool(rng.integers(2))
    lp = rng.standard_normal((T, N, C))

    def run(lib, F):
        def fn(a):
            loss = F.ctc_loss(a.log_softmax(2), lib.tensor(tg), lib.tensor(il), lib.tensor(tl), blank=blank,
                              reduction=reduction, zero_infinity=zi)
            return loss
        return fn

    import torch.nn.functional as TF

    ye, ge = _grads(ember, run(ember, EF), [lp])
    yt, gt = _grads(torch, run(torch, TF), [lp])
    np.testing.assert_allclose(ye, yt, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ge[0], gt[0], rtol=1e-8, atol=1e-10)
