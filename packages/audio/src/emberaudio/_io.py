"""Audio file I/O through soundfile (libsndfile): ``load``, ``save`` and ``info`` with torchaudio's signatures.

WAV, FLAC and OGG/Vorbis (plus whatever else the installed libsndfile reads); paths or file objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf

import ember

__all__ = ["AudioMetaData", "load", "save", "info"]

# libsndfile subtype -> (torchaudio encoding, bits per sample)
_SUBTYPES = {
    "PCM_S8": ("PCM_S", 8), "PCM_U8": ("PCM_U", 8), "PCM_16": ("PCM_S", 16), "PCM_24": ("PCM_S", 24),
    "PCM_32": ("PCM_S", 32), "FLOAT": ("PCM_F", 32), "DOUBLE": ("PCM_F", 64), "ULAW": ("ULAW", 8),
    "ALAW": ("ALAW", 8), "VORBIS": ("VORBIS", 0), "OPUS": ("OPUS", 0),
}
# (encoding, bits) -> libsndfile subtype, for save()
_ENCODE = {
    ("PCM_S", 8): "PCM_S8", ("PCM_U", 8): "PCM_U8", ("PCM_S", 16): "PCM_16", ("PCM_S", 24): "PCM_24",
    ("PCM_S", 32): "PCM_32", ("PCM_F", 32): "FLOAT", ("PCM_F", 64): "DOUBLE", ("ULAW", 8): "ULAW", ("ALAW", 8): "ALAW",
}
_EXT_FORMAT = {"wav": "WAV", "wave": "WAV", "flac": "FLAC", "ogg": "OGG", "vorbis": "OGG", "oga": "OGG"}


@dataclass
class AudioMetaData:
    """Metadata of an audio file, as returned by :func:`info`.

    ``encoding`` is one of ``"PCM_S"``, ``"PCM_U"``, ``"PCM_F"``, ``"FLAC"``, ``"ULAW"``, ``"ALAW"``,
    ``"VORBIS"``, ``"OPUS"`` or ``"UNKNOWN"``; ``bits_per_sample`` is 0 for lossy formats.
    """

    sample_rate: int
    num_frames: int
    num_channels: int
    bits_per_sample: int
    encoding: str


def _name(uri) -> str:
    if isinstance(uri, (str, os.PathLike)):
        return os.fspath(uri)
    return getattr(uri, "name", None) or f"<{type(uri).__name__} object>"


def _format_arg(uri, format):
    if format is None:
        return None
    fmt = _EXT_FORMAT.get(str(format).lower().lstrip("."), str(format).upper())
    if fmt not in sf.available_formats():
        raise ValueError(f"Unsupported audio format {format!r} for {_name(uri)!r}; soundfile knows {sorted(sf.available_formats())}")
    return fmt


def _open(uri, format=None):
    """Open ``uri`` for reading with clear errors for missing, empty and unreadable files."""
    name = _name(uri)
    if isinstance(uri, (str, os.PathLike)):
        if not os.path.exists(uri):
            raise FileNotFoundError(f"Audio file not found: {name!r}")
        if os.path.isdir(uri):
            raise IsADirectoryError(f"Expected an audio file, got a directory: {name!r}")
        if os.path.getsize(uri) == 0:
            raise RuntimeError(f"Failed to open the audio file {name!r}: the file is empty (0 bytes)")
    fmt = _format_arg(uri, format)
    try:
        return sf.SoundFile(uri if not isinstance(uri, os.PathLike) else os.fspath(uri), "r", format=fmt)
    except sf.LibsndfileError as exc:
        raise RuntimeError(f"Failed to open the audio file {name!r}: {exc.error_string} "
                           "(corrupt, truncated or not an audio format soundfile reads)") from None
    except (TypeError, RuntimeError) as exc:
        raise RuntimeError(f"Failed to open the audio file {name!r}: {exc}") from None


def _meta(f) -> AudioMetaData:
    encoding, bits = _SUBTYPES.get(f.subtype, ("UNKNOWN", 0))
    if f.format == "FLAC":
        encoding = "FLAC"
    return AudioMetaData(int(f.samplerate), int(f.frames), int(f.channels), bits, encoding)


def info(uri, format=None, buffer_size=4096, backend=None) -> AudioMetaData:
    """Get signal information of an audio file (path or file object)."""
    with _open(uri, format) as f:
        return _meta(f)


def load(uri, frame_offset: int = 0, num_frames: int = -1, normalize: bool = True, channels_first: bool = True,
         format=None, buffer_size: int = 4096, backend=None):
    """Load audio data from a path or file object.

    Returns ``(waveform, sample_rate)``: a float32 Tensor in [-1, 1] of shape ``[channel, time]``
    (``[time, channel]`` when ``channels_first=False``). With ``normalize=False`` an integer-PCM WAV file
    is returned in its own integer type (``int16``, ``int32`` for 24/32-bit, ``uint8`` for 8-bit unsigned).
    """
    if frame_offset < 0:
        raise ValueError(f"frame_offset must be non-negative, got {frame_offset}")
    if num_frames == 0 or num_frames < -1:
        raise ValueError(f"num_frames must be -1 (all) or positive, got {num_frames}")
    with _open(uri, format) as f:
        meta = _meta(f)
        if frame_offset > meta.num_frames and meta.num_frames > 0:
            raise ValueError(f"frame_offset {frame_offset} is beyond the end of {_name(uri)!r} ({meta.num_frames} frames)")
        dtype, post = "float32", None
        if not normalize and f.format in ("WAV", "WAVEX", "RF64"):
            if f.subtype == "PCM_16":
                dtype = "int16"
            elif f.subtype in ("PCM_24", "PCM_32"):
                dtype = "int32"
            elif f.subtype == "PCM_U8":
                dtype, post = "int16", lambda a: ((a.astype(np.int32) >> 8) + 128).astype(np.uint8)
        try:
            if frame_offset:
                f.seek(frame_offset)
            data = f.read(frames=num_frames, dtype=dtype, always_2d=True)
        except sf.LibsndfileError as exc:
            raise RuntimeError(f"Failed to decode the audio file {_name(uri)!r}: {exc.error_string}") from None
    if post is not None:
        data = post(data)
    if channels_first:
        data = data.T
    return ember.from_numpy(np.ascontiguousarray(data)), meta.sample_rate


def _default_encoding(fmt, dtype, encoding, bits):
    if fmt == "OGG":
        if encoding not in (None, "VORBIS", "OPUS"):
            raise ValueError(f"OGG supports encoding 'VORBIS' or 'OPUS', got {encoding!r}")
        return encoding or "VORBIS"
    if fmt == "FLAC":
        if encoding not in (None, "PCM_S", "FLAC"):
            raise ValueError(f"FLAC supports only signed integer PCM, got encoding {encoding!r}")
        bits = bits or (16 if dtype in (np.int16, np.uint8) else 24)
        if bits not in (8, 16, 24):
            raise ValueError(f"FLAC supports 8, 16 or 24 bits per sample, got {bits}")
        return _ENCODE[("PCM_S", bits)]
    if encoding is None:
        encoding = {np.dtype(np.int16): "PCM_S", np.dtype(np.int32): "PCM_S", np.dtype(np.uint8): "PCM_U"}.get(np.dtype(dtype), "PCM_F")
    if bits is None:
        bits = {"PCM_S": 16 if dtype != np.int32 else 32, "PCM_U": 8, "PCM_F": 32, "ULAW": 8, "ALAW": 8}.get(encoding)
        if encoding == "PCM_F" and dtype == np.float64:
            bits = 64
    key = (encoding, bits)
    if key not in _ENCODE:
        raise ValueError(f"Unsupported encoding/bits_per_sample for {fmt}: {encoding!r} with {bits} bits "
                         f"(supported: {sorted(_ENCODE)})")
    return _ENCODE[key]


def save(uri, src, sample_rate: int, channels_first: bool = True, format=None, encoding=None,
         bits_per_sample=None, buffer_size: int = 4096, backend=None, compression=None) -> None:
    """Save a ``[channel, time]`` (or ``[time, channel]`` with ``channels_first=False``) Tensor to an audio file.

    The format comes from ``format`` or the file extension (``wav``, ``flac``, ``ogg``); ``encoding``
    (``"PCM_S"``, ``"PCM_U"``, ``"PCM_F"``, ``"ULAW"``, ``"ALAW"``) and ``bits_per_sample`` pick the sample
    format (default: 32-bit float WAV for float tensors, the tensor's own integer type otherwise).
    """
    arr = src.detach().cpu().numpy() if isinstance(src, ember.Tensor) else np.asarray(src)
    if arr.ndim != 2:
        raise ValueError(f"Expected 2D Tensor, got {arr.ndim}D (shape {tuple(arr.shape)}).")
    if channels_first:
        arr = arr.T
    name = _name(uri)
    if format is None:
        ext = os.path.splitext(name)[1].lower().lstrip(".")
        if ext not in _EXT_FORMAT:
            raise ValueError(f"Cannot tell the audio format of {name!r} from its extension; pass format= ('wav', 'flac' or 'ogg')")
        fmt = _EXT_FORMAT[ext]
    else:
        fmt = _format_arg(uri, format)
    subtype = _default_encoding(fmt, arr.dtype, encoding, bits_per_sample)
    if arr.dtype == np.uint8:  # libsndfile writes from signed integers: recentre 8-bit unsigned samples
        arr = ((arr.astype(np.int16) - 128) << 8).astype(np.int16)
    elif arr.dtype not in (np.int16, np.int32, np.float32, np.float64):
        arr = arr.astype(np.float32)
    target = os.fspath(uri) if isinstance(uri, os.PathLike) else uri
    try:
        sf.write(target, arr, int(sample_rate), subtype=subtype, format=fmt)
    except sf.LibsndfileError as exc:
        raise RuntimeError(f"Failed to save the audio file {name!r}: {exc.error_string}") from None
