"""The fused LSTM cell (``ember._fast_rnn``, the optional numba extra) and the LSTM layer's NumPy path,
both against a float64 reference written out here; inference (no_grad) must give the training path's
outputs."""

import numpy as np
import pytest

import ember
from ember import nn

from ._numba import HAVE_NUMBA


def _reference(x, w_ih, w_hh, b, h, c):
    """Float64 LSTM over (T, B, I) x, PyTorch's gate order (i, f, g, o)."""
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    H = w_hh.shape[1]
    ys = []
    for xt in x:
        g = xt @ w_ih.T + h @ w_hh.T + b
        i, f, gg, o = sig(g[:, :H]), sig(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), sig(g[:, 3 * H:])
        c = f * c + i * gg
        h = o * np.tanh(c)
        ys.append(h)
    return np.stack(ys), h, c


@pytest.mark.parametrize("grad", [True, False])
def test_lstm_layer_matches_a_float64_reference(kernel_path, grad):
    # B * 4H = 4096 gate values per step: large enough for the compiled cell
    ember.manual_seed(0)
    m = nn.LSTM(16, 128)
    with ember.no_grad():
        for p in m.parameters():
            p.mul_(8.0)  # saturating gates and |c| > 1: both branches of the kernel's tanh
    x = ember.randn(5, 8, 16)
    h0, c0 = ember.randn(1, 8, 128), ember.randn(1, 8, 128)
    with ember.set_grad_enabled(grad):
        y, (h, c) = m(x, (h0, c0))
    w = {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}
    ry, rh, rc = _reference(x.numpy().astype(np.float64), w["weight_ih_l0"], w["weight_hh_l0"],
                            w["bias_ih_l0"] + w["bias_hh_l0"], h0[0].numpy().astype(np.float64),
                            c0[0].numpy().astype(np.float64))
    np.testing.assert_allclose(y.detach().numpy(), ry, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(h[0].detach().numpy(), rh, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(c[0].detach().numpy(), rc, rtol=1e-5, atol=5e-5)
    assert y.requires_grad == grad


def _on_both_paths(monkeypatch, run):
    """``run()`` on the NumPy path, then on the compiled one: the two results."""
    results = []
    for env in ("1", "0"):
        monkeypatch.setenv("EMBER_NO_FAST", env)
        results.append(run())
    return results


def test_fast_and_numpy_paths_give_the_same_gradients(monkeypatch):
    if not HAVE_NUMBA:
        pytest.skip("numba (the ember[fast] extra) is not installed")

    def run():
        ember.manual_seed(1)
        m = nn.LSTM(16, 128, batch_first=True)
        x = ember.randn(8, 6, 16, requires_grad=True)
        y, (h, c) = m(x)
        (y.square().sum() + c.sum()).backward()
        return [x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]

    for a, b in zip(*_on_both_paths(monkeypatch, run)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fused_cell_activations_are_float32_accurate_and_propagate_nan_and_inf():
    if not HAVE_NUMBA:
        pytest.skip("numba (the ember[fast] extra) is not installed")
    from ember import _fast_rnn

    v = np.concatenate([np.linspace(-40, 40, 8001, dtype=np.float32),
                        np.float32([0.0, 1e-30, -1e-8, 0.3, -0.6249, 0.6251, np.inf, -np.inf, np.nan])])
    H = v.size
    g = np.zeros((1, 4 * H), np.float32)
    xw = np.tile(v, 4)[None].copy()
    c, tc, h = (np.zeros((1, H), np.float32) for _ in range(3))
    _fast_rnn.lstm_cell(g, xw, c, tc, h)
    v64 = v.astype(np.float64)
    sig, th = 1.0 / (1.0 + np.exp(-v64)), np.tanh(v64)
    np.testing.assert_allclose(g[0, :H], sig, rtol=5e-7, atol=0)
    np.testing.assert_allclose(g[0, 2 * H:3 * H], th, rtol=5e-7, atol=0)
    np.testing.assert_allclose(c[0], sig * th, rtol=1e-6, atol=0)
    np.testing.assert_allclose(h[0], sig * np.tanh(sig * th), rtol=1e-6, atol=0)
    assert np.isnan(g[0, H - 1]) and np.isnan(h[0, -1])


def test_packed_batches_give_the_same_result_on_both_paths(monkeypatch):
    """Variable lengths: at each step only the first batch_sizes[t] rows go through the cell."""
    from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    if not HAVE_NUMBA:
        pytest.skip("numba (the ember[fast] extra) is not installed")

    def run():
        ember.manual_seed(2)
        m = nn.LSTM(16, 128, bidirectional=True)
        x = ember.randn(7, 8, 16)
        lengths = ember.tensor([7, 3, 5, 1, 7, 2, 6, 4])
        with ember.no_grad():
            y, (h, c) = m(pack_padded_sequence(x, lengths, enforce_sorted=False))
        return [pad_packed_sequence(y)[0].numpy(), h.numpy(), c.numpy()]

    for a, b in zip(*_on_both_paths(monkeypatch, run)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("span, bias", [(128, True), (24, False), (10_000, True)])
def test_inference_with_the_batch_inner_matches_the_reference_both_directions(monkeypatch, span, bias):
    """Inference takes the transposed path (gates (4H, B), projections computed ``span`` columns at a time, in
    either direction); both directions against the float64 reference, with and without biases."""
    from ember.ops import rnn

    monkeypatch.setenv("EMBER_NO_FAST", "0")
    monkeypatch.setattr(rnn, "_SPAN_COLUMNS", span)
    monkeypatch.setattr(rnn, "_parts", lambda *a, **k: None)  # the one-thread loop (tested on its own below)
    taken = []
    real = rnn._inference_t
    monkeypatch.setattr(rnn, "_inference_t", lambda *a: taken.append(r := real(*a)) or r)
    ember.manual_seed(1)
    m = nn.LSTM(16, 128, bidirectional=True, bias=bias)
    x = ember.randn(7, 8, 16) * 2
    h0, c0 = ember.randn(2, 8, 128), ember.randn(2, 8, 128)
    with ember.no_grad():
        y, (h, c) = m(x, (h0, c0))
    assert len(taken) == 2 and all(r is not None for r in taken)
    w = {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}
    xs = x.numpy().astype(np.float64)
    for d, suffix, seq in ((0, "", xs), (1, "_reverse", xs[::-1])):
        b = w[f"bias_ih_l0{suffix}"] + w[f"bias_hh_l0{suffix}"] if bias else 0.0
        ry, rh, rc = _reference(seq, w[f"weight_ih_l0{suffix}"], w[f"weight_hh_l0{suffix}"], b,
                                h0[d].numpy().astype(np.float64), c0[d].numpy().astype(np.float64))
        got = y[..., d * 128:(d + 1) * 128].numpy()
        np.testing.assert_allclose(got if d == 0 else got[::-1], ry, rtol=1e-5, atol=2e-5)
        np.testing.assert_allclose(h[d].numpy(), rh, rtol=1e-5, atol=2e-5)
        np.testing.assert_allclose(c[d].numpy(), rc, rtol=1e-5, atol=5e-5)


def _shared_by_hidden_units(monkeypatch, parts, small=None):
    """Inference shared out by hidden units on ``parts`` threads whatever the machine (the spin barrier's memory
    order is x86's: skipped elsewhere); returns the list of parts each layer call ran on. ``small``: the step GEMMs'
    block limit (``_fast_rnn._step_block``) instead of the one for this machine's BLAS."""
    import platform

    from ember import _fast, _fast_rnn
    from ember.ops import rnn

    if small is not None:
        found = _fast_rnn.native()
        monkeypatch.setattr(_fast_rnn, "native", lambda: found[:4] + (small,))

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the threads' spin barrier relies on x86's memory order")
    monkeypatch.setenv("EMBER_NO_FAST", "0")
    monkeypatch.setattr(_fast, "together_threads", lambda limit: parts)
    taken = []
    real = _fast.run_together
    monkeypatch.setattr(_fast, "run_together", lambda process, n: taken.append(n) or real(process, n))
    monkeypatch.setattr(rnn, "_PART_MIN_HIDDEN", 1)
    return taken


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("parts, hidden, bias", [(2, 128, True), (3, 130, False)])
def test_inference_shared_by_hidden_units_matches_the_reference(monkeypatch, parts, hidden, bias):
    """Inference on several threads at once, each owning a share of the hidden units (uneven shares of units and
    of input features for 3 parts), both directions, batch-first input (a strided view of the time-major one),
    against the float64 reference."""
    taken = _shared_by_hidden_units(monkeypatch, parts)
    ember.manual_seed(2)
    m = nn.LSTM(17, hidden, bidirectional=True, bias=bias, batch_first=True)
    x = ember.randn(8, 9, 17) * 2
    h0, c0 = ember.randn(2, 8, hidden), ember.randn(2, 8, hidden)
    with ember.no_grad():
        y, (h, c) = m(x, (h0, c0))
    assert taken == [parts, parts]
    w = {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}
    xs = x.numpy().astype(np.float64).transpose(1, 0, 2)
    for d, suffix, seq in ((0, "", xs), (1, "_reverse", xs[::-1])):
        b = w[f"bias_ih_l0{suffix}"] + w[f"bias_hh_l0{suffix}"] if bias else 0.0
        ry, rh, rc = _reference(seq, w[f"weight_ih_l0{suffix}"], w[f"weight_hh_l0{suffix}"], b,
                                h0[d].numpy().astype(np.float64), c0[d].numpy().astype(np.float64))
        got = y[..., d * hidden:(d + 1) * hidden].numpy().transpose(1, 0, 2)
        np.testing.assert_allclose(got if d == 0 else got[::-1], ry, rtol=1e-5, atol=2e-5)
        np.testing.assert_allclose(h[d].numpy(), rh, rtol=1e-5, atol=2e-5)
        np.testing.assert_allclose(c[d].numpy(), rc, rtol=1e-5, atol=5e-5)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("small", [0, 140000])
@pytest.mark.parametrize("parts, bias", [(2, True), (3, False)])
def test_training_shared_by_hidden_units_gives_the_one_thread_paths_outputs_and_gradients(monkeypatch, parts, bias,
                                                                                          small):
    """The forward that keeps the backward's states and the backward through time, both shared out by hidden units
    (uneven shares for 3 parts): outputs and the gradients of input, initial states, weights and biases as on the
    one-thread path, both directions; each step's GEMMs whole (``small`` 0) or in blocks with a shorter last one
    (forward: 112 of 260 or 172-176 gate rows; backward: 32 of 65 or 43-44 units)."""
    from ember.ops import rnn

    def run():
        ember.manual_seed(3)
        m = nn.LSTM(17, 130, bidirectional=True, bias=bias, batch_first=True)
        x = (ember.randn(8, 9, 17) * 2).requires_grad_()
        h0, c0 = ember.randn(2, 8, 130).requires_grad_(), ember.randn(2, 8, 130).requires_grad_()
        y, (h, c) = m(x, (h0, c0))
        ember.manual_seed(4)
        ((y * ember.randn(*y.shape)).sum() + (h * h).sum() + c.sum()).backward()
        return [t.detach().numpy() for t in (y, h, c, x.grad, h0.grad, c0.grad)] + [
            p.grad.numpy() for p in m.parameters()]

    with monkeypatch.context() as mp:
        mp.setattr(rnn, "_parts", lambda *a, **k: None)
        mp.setattr(rnn, "_grad_parts", lambda *a, **k: None)
        expected = run()
    taken = _shared_by_hidden_units(monkeypatch, parts, small)
    got = run()
    assert taken == [parts] * 4  # each direction's forward, then each one's backward
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("kernel", ["lstm_part", "lstm_grad_part"])
@pytest.mark.parametrize("failing", [0, 1])
def test_a_failing_part_stops_the_others_and_raises(monkeypatch, kernel, failing):
    """A part that fails before its steps (here: its kernel raises), of the forward or of the backward through time,
    must not leave the others waiting at the barrier: the error reaches the caller, on the calling thread's part or
    on a pool thread's."""
    from ember import _fast_rnn

    taken = _shared_by_hidden_units(monkeypatch, 2)
    real = getattr(_fast_rnn, kernel)

    def fails(part, *args):
        if part == failing:
            raise MemoryError("part failed")
        return real(part, *args)

    monkeypatch.setattr(_fast_rnn, kernel, fails)
    m = nn.LSTM(8, 64)
    with pytest.raises(MemoryError, match="part failed"):
        y, _ = m(ember.randn(50, 16, 8))
        y.sum().backward()
    assert taken == ([2] if kernel == "lstm_part" else [2, 2])


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("packed", [False, True])
def test_fused_backward_cell_gives_the_numpy_paths_gradients(monkeypatch, packed):
    """The backward's fused cell (``lstm_cell_grad``) runs on the compiled path, full and packed batches, both
    directions, and gives the NumPy path's gradients (inputs, states, every weight and bias). (On one thread: the
    backward shared out by hidden units has its own test.)"""
    from ember import _fast_rnn
    from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    from ember.ops import rnn

    monkeypatch.setattr(rnn, "_grad_parts", lambda *a, **k: None)
    calls = []
    kernel = _fast_rnn.lstm_cell_grad
    monkeypatch.setattr(_fast_rnn, "lstm_cell_grad", lambda *a: (calls.append(1), kernel(*a))[1])

    def run():
        ember.manual_seed(3)
        m = nn.LSTM(16, 128, bidirectional=True)
        x = ember.randn(7, 8, 16, requires_grad=True)
        h0, c0 = ember.randn(2, 8, 128, requires_grad=True), ember.randn(2, 8, 128, requires_grad=True)
        if packed:
            lengths = ember.tensor([7, 3, 5, 1, 7, 2, 6, 4])
            out, (h, c) = m(pack_padded_sequence(x, lengths, enforce_sorted=False), (h0, c0))
            y = pad_packed_sequence(out)[0]
        else:
            y, (h, c) = m(x, (h0, c0))
        (y.square().sum() + (h * c).sum() + c.sum()).backward()
        return [x.grad.numpy(), h0.grad.numpy(), c0.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]

    numpy_path, fused = _on_both_paths(monkeypatch, run)
    assert calls
    for a, b in zip(numpy_path, fused):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
