"""Short-time Fourier transform (``stft``) and its inverse (``istft``), with PyTorch's arguments.

Both are composites: ``stft`` = (reflect) padding, framing, windowing, ``rfft``/``fft``; ``istft`` =
``irfft``/``ifft``, windowing, overlap-add and division by the overlap-added squared window. Framing
(``_Frame``: a strided view) and overlap-add (``_OverlapAdd``) are primitives and each other's
adjoint, so gradients come from the pieces (and can be differentiated again).
"""

from __future__ import annotations

import warnings

from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import xp_of
from .fft import _C2C, _C2R, _R2C
from .shape import make_view
from .unary import scalar_type_name
from ..dtypes import np_kind as _np_kind


class _Frame(Primitive):
    """``x[..., T]`` -> ``[..., F, n]``: F frames of length ``n``, ``hop`` apart (a strided view)."""

    @staticmethod
    def forward(ctx, x, n, hop):
        arr = x._data
        length = arr.shape[-1]
        ctx.args = (hop, length)
        frames = 1 + (length - n) // hop
        s = arr.strides[-1]
        return xp_of(arr).lib.stride_tricks.as_strided(arr, arr.shape[:-1] + (frames, n), arr.strides[:-1] + (hop * s, s))

    @staticmethod
    def backward(ctx, grad):
        hop, length = ctx.args
        return _OverlapAdd.apply(grad, hop, length)


class _OverlapAdd(Primitive):
    """``[..., F, n]`` -> ``[..., length]``: frame f added at offset ``f * hop`` (length >= (F-1)*hop + n)."""

    @staticmethod
    def forward(ctx, frames, hop, length):
        arr = frames._data
        xp = xp_of(arr)
        lead, (f, n) = arr.shape[:-2], arr.shape[-2:]
        ctx.args = (n, hop)
        k = -(-n // hop)  # chunks of one hop per frame: chunk j of every frame lands in one contiguous run
        padded = xp.zeros(lead + (f, k * hop), dtype=arr.dtype)
        padded[..., :n] = arr
        padded = padded.reshape(lead + (f, k, hop))
        out = xp.zeros(lead + (max(length, (f + k - 1) * hop),), dtype=arr.dtype)
        for j in range(k):  # one strided add per chunk offset (k = ceil(n / hop)), never per frame
            out[..., j * hop : (j + f) * hop] += padded[..., j, :].reshape(lead + (f * hop,))
        return out[..., :length]

    @staticmethod
    def backward(ctx, grad):
        n, hop = ctx.args
        return make_view(_Frame.apply(grad, n, hop), grad)


def _type_repr(t) -> str:
    dev = "CPU" if t.device.type == "cpu" else "CUDA"
    return f"{dev}{scalar_type_name(t._data.dtype)}Type{list(t._data.shape)}"


def _window_repr(w) -> str:
    if w is None:
        return "None"
    return f"ember.{scalar_type_name(w._data.dtype)}Tensor{{{list(w._data.shape)}}}"


def _opt(v) -> str:
    return "None" if v is None else str(int(v))


def _pad_window(window, n_fft, win_length, like):
    from .spatial import _ConstantPad

    if window is None:
        xp = xp_of(like._data)
        window = Tensor._make(xp.ones(win_length, dtype=like._data.real.dtype))
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = _ConstantPad.apply(window, ((left, n_fft - win_length - left),), 0)
    return window


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """Short-time Fourier transform of a 1-D signal ``[T]`` or a batch ``[B, T]``.

    Returns ``[(B,) n_fft // 2 + 1, frames]`` complex (``onesided``, the default for real input), or
    ``[(B,) n_fft, frames]``; ``return_complex=False`` gives the real view with a trailing 2.
    ``center`` pads ``n_fft // 2`` on both sides with ``pad_mode``; ``normalized`` scales by ``n_fft ** -0.5``.
    """
    from .complex import view_as_real
    from .spatial import _ConstantPad, pad

    if not isinstance(input, Tensor):
        raise TypeError(f"stft(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    is_complex = input.is_complex() or (window is not None and window.is_complex())
    rc = is_complex if return_complex is None else bool(return_complex)
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
            "leakage. Other windows such as ember.hann_window or ember.hamming_window are recommended to reduce "
            "spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
            "`window=ember.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    if not rc:
        if return_complex is None:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will further require "
                "that return_complex=True in a future PyTorch release."
            )
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft will return complex "
            "tensors for all inputs, and return_complex=False will raise an error.\nNote: you can still call "
            "ember.view_as_real on the complex output to recover the old return format.", UserWarning, stacklevel=2)
    if window is not None and window.device != input.device:
        raise RuntimeError(
            f"stft input and window must be on the same device but got self on {input.device} and window on "
            f"{window.device}"
        )
    x = input
    if center:
        p = n_fft // 2
        shape = x._data.shape
        x = pad(x.reshape((1,) * max(3 - x.ndim, 0) + shape), [p, p], pad_mode).reshape(shape[:-1] + (-1,))

    def repr_():
        return (f"stft({_type_repr(x)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, "
                f"window={_window_repr(window)}, normalized={int(normalized)}, onesided={_opt(onesided)}, "
                f"return_complex={int(rc)}, align_to_window={_opt(align_to_window)}) ")

    if _np_kind(input._data.dtype) not in "fc":
        raise RuntimeError(repr_() + ": expected a tensor of floating point or complex values")
    if input.ndim not in (1, 2):
        raise RuntimeError(repr_() + ": expected a 1D or 2D tensor")
    length = x._data.shape[-1]
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(repr_() + f": expected 0 < n_fft < {length}, but got n_fft={win}")
    if hop <= 0:
        raise RuntimeError(repr_() + f": expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(repr_() + f": expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.ndim != 1 or window._data.shape[0] != win):
        raise RuntimeError(
            repr_() + f": expected a 1D window tensor of size equal to win_length={win}, but got window with size "
            f"{list(window._data.shape)}"
        )
    if align_to_window and win < n_fft:  # frames start where their (centred) window starts
        left = (n_fft - win) // 2
        x = _ConstantPad.apply(x, ((0, 0),) * (x.ndim - 1) + ((left, n_fft - win - left),), 0)
    w = _pad_window(window, n_fft, win, x) if (window is not None or win < n_fft) else None
    frames = make_view(_Frame.apply(x, n_fft, hop), x)
    if w is not None:
        frames = frames * w
    norm = "ortho" if normalized else "backward"
    side = (not frames.is_complex()) if onesided is None else bool(onesided)
    if frames.is_complex():
        if side:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        spec = _C2C.apply(frames, (frames.ndim - 1,), norm, True)
    elif side:
        spec = _R2C.apply(frames, (frames.ndim - 1,), norm)
    else:
        spec = _C2C.apply(frames.to(frames.dtype.to_complex()), (frames.ndim - 1,), norm, True)
    spec = spec.transpose(-1, -2)
    return spec if rc else view_as_real(spec.contiguous())


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """Inverse of :func:`stft` by windowed overlap-add, normalised by the overlap-added squared window.

    ``input`` is the complex ``[(B,) freq, frames]`` output of ``stft``; returns ``[(B,) length]``.
    Raises when the window envelope vanishes somewhere (the NOLA condition fails).
    """
    from .spatial import _ConstantPad

    if not isinstance(input, Tensor):
        raise TypeError(f"istft(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)

    def repr_():
        return (f"istft({_type_repr(input)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, "
                f"window={_window_repr(window)}, center={int(center)}, normalized={int(normalized)}, "
                f"onesided={_opt(onesided)}, length={_opt(length)}, return_complex={int(return_complex)}) ")

    if window is not None and window.device != input.device:
        raise RuntimeError(
            f"istft input and window must be on the same device but got self on {input.device} and window on "
            f"{window.device}"
        )
    if not input.is_complex():
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with return_complex=True."
        )
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied.Please provide the same window used by "
            "stft to make the inversion lossless.To suppress this warning and use a rectangular window, explicitly "
            "set `window=ember.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    if input.numel() == 0:
        raise RuntimeError(repr_() + ": input tensor cannot be empty.")
    if input.ndim not in (2, 3):
        raise RuntimeError(repr_() + f": expected a tensor with 3 or 4 dimensions, but got {input.ndim + 1}")
    n_frames, fft_size = input._data.shape[-1], input._data.shape[-2]
    side = (fft_size != n_fft) if onesided is None else bool(onesided)
    if side and n_fft // 2 + 1 != fft_size:
        raise RuntimeError(
            repr_() + ": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 "
            f"when onesided=True, but got {fft_size}"
        )
    if not side and n_fft != fft_size:
        raise RuntimeError(
            repr_() + ": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
            f"onesided=False, but got {fft_size}"
        )
    if not 0 < hop <= win:
        raise RuntimeError(repr_() + ": expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise RuntimeError(repr_() + ": expected 0 < win_length <= n_fft")
    if window is not None and (window.ndim != 1 or window._data.shape[0] != win):
        raise RuntimeError(repr_() + ": Invalid window shape. window has to be 1D and length of `win_length`")
    w = _pad_window(window, n_fft, win, input)
    x = input.transpose(-1, -2)  # [(B,) frames, freq]
    norm = "ortho" if normalized else "backward"
    last = x.ndim - 1
    if return_complex:
        if side:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = _C2C.apply(x, (last,), norm, False)
    else:
        if window is not None and window.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not side:
            x = x[..., : n_fft // 2 + 1]
        frames = _C2R.apply(x, (last,), norm, n_fft)
    expected = n_fft + hop * (n_frames - 1)
    y = _OverlapAdd.apply(frames * w, hop, expected)
    env = _OverlapAdd.apply((w * w).expand(n_frames, n_fft), hop, expected)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (expected - n_fft // 2 if center else expected)
    y, env = y[..., start:end], env[start:end]
    if env.numel() and float(xp_of(env._data).abs(env._data).min()) < 1e-11:
        raise RuntimeError(repr_() + "window overlap add min: 1")
    y = y / env
    if end > expected:
        warnings.warn(
            "The length of signal is shorter than the length parameter. Result is being padded with zeros in the "
            "tail. Please check your center and hop_length settings.", UserWarning, stacklevel=2)
        y = _ConstantPad.apply(y, ((0, 0),) * (y.ndim - 1) + ((0, end - expected),), 0)
    return y


def _stft_method(self, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
                 normalized=False, onesided=None, return_complex=None, align_to_window=None):
    return stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized, onesided, return_complex,
                align_to_window)


def _istft_method(self, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
                  onesided=None, length=None, return_complex=False):
    return istft(self, n_fft, hop_length, win_length, window, center, normalized, onesided, length, return_complex)


Tensor.stft = _stft_method
Tensor.istft = _istft_method

__all__ = ["stft", "istft"]
