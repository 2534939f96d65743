"""Spectral and sequence-loss benchmarks (issue 11, core pieces of emberaudio): ``fft.rfft`` / ``fft.fft2``,
``stft`` / ``istft`` at speech shapes (8 x 1 s at 16 kHz, n_fft=400, hop=160), and ``ctc_loss``."""

from __future__ import annotations

from .harness import Case


def _rfft(backward):
    def make(lib, device):
        x = lib.randn(64, 16384, device=device, requires_grad=backward)

        def run():
            y = lib.fft.rfft(x)
            if backward:
                y.abs().sum().backward()
                x.grad = None

        return run

    return make


def _fft2(lib, device):
    x = lib.randn(8, 256, 256, device=device, dtype=lib.complex64)
    return lambda: lib.fft.fft2(x)


def _stft(backward):
    def make(lib, device):
        x = lib.randn(8, 16000, device=device, requires_grad=backward)
        w = lib.hann_window(400, device=device)

        def run():
            s = lib.stft(x, 400, 160, window=w, return_complex=True)
            if backward:
                (s.abs() ** 2).sum().backward()
                x.grad = None

        return run

    return make


def _istft(lib, device):
    w = lib.hann_window(400, device=device)
    spec = lib.stft(lib.randn(8, 16000, device=device), 400, 160, window=w, return_complex=True)
    return lambda: lib.istft(spec, 400, 160, window=w, length=16000)


def _ctc(lib, device):
    lib.manual_seed(0)
    logits = lib.randn(200, 32, 30, device=device, requires_grad=True)
    targets = lib.randint(1, 30, (32, 30), device=device)
    lengths = lib.full((32,), 200, dtype=lib.int64)
    tlen = lib.full((32,), 30, dtype=lib.int64)

    def run():
        loss = lib.nn.functional.ctc_loss(logits.log_softmax(2), targets, lengths, tlen)
        loss.backward()
        logits.grad = None

    return run


CASES = [
    Case("fft.rfft 64x16384 fwd", "spectral", _rfft(False), number=5),
    Case("fft.rfft 64x16384 fwd+bwd", "spectral", _rfft(True), number=2),
    Case("fft.fft2 8x256x256 complex64", "spectral", _fft2, number=3),
    Case("stft 8x16000 n_fft=400 hop=160 fwd", "spectral", _stft(False), number=5),
    Case("stft 8x16000 n_fft=400 hop=160 fwd+bwd", "spectral", _stft(True), number=2),
    Case("istft 8x16000 n_fft=400 hop=160", "spectral", _istft, number=5),
    Case("ctc_loss T=200 N=32 C=30 S=30 fwd+bwd", "spectral", _ctc, number=1),
]
