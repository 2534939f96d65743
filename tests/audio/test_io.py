"""emberaudio.load / save / info over WAV, FLAC and OGG, paths and file objects, and their errors."""

import io

import numpy as np
import pytest
import soundfile as sf

import ember
import emberaudio


@pytest.fixture
def tone():
    t = np.arange(800) / 8000
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.cos(2 * np.pi * 220 * t)]).astype(np.float32)


def test_wav_int16_roundtrip_normalize_and_raw(tmp_path, tone):
    path = tmp_path / "a.wav"
    pcm = (tone * 32767).astype(np.int16)
    emberaudio.save(str(path), ember.from_numpy(pcm), 8000)
    meta = emberaudio.info(path)
    assert (meta.sample_rate, meta.num_frames, meta.num_channels, meta.bits_per_sample, meta.encoding) == (8000, 800, 2, 16, "PCM_S")
    wav, sr = emberaudio.load(path)
    assert sr == 8000 and wav.dtype == ember.float32 and tuple(wav.shape) == (2, 800)
    np.testing.assert_allclose(wav.numpy(), pcm / 32768.0, atol=1e-7)
    raw, _ = emberaudio.load(path, normalize=False)
    assert raw.dtype == ember.int16
    np.testing.assert_array_equal(raw.numpy(), pcm)
    part, _ = emberaudio.load(path, frame_offset=100, num_frames=50, channels_first=False)
    assert tuple(part.shape) == (50, 2)
    np.testing.assert_allclose(part.numpy(), pcm[:, 100:150].T / 32768.0, atol=1e-7)


def test_float_default_and_explicit_encodings(tmp_path, tone):
    src = ember.from_numpy(tone)
    emberaudio.save(tmp_path / "f.wav", src, 8000)
    assert emberaudio.info(tmp_path / "f.wav").encoding == "PCM_F"
    got, _ = emberaudio.load(tmp_path / "f.wav")
    np.testing.assert_array_equal(got.numpy(), tone)
    emberaudio.save(tmp_path / "s24.wav", src, 8000, encoding="PCM_S", bits_per_sample=24)
    meta = emberaudio.info(tmp_path / "s24.wav")
    assert (meta.encoding, meta.bits_per_sample) == ("PCM_S", 24)
    raw, _ = emberaudio.load(tmp_path / "s24.wav", normalize=False)
    assert raw.dtype == ember.int32
    emberaudio.save(tmp_path / "u8.wav", src, 8000, encoding="PCM_U", bits_per_sample=8)
    raw8, _ = emberaudio.load(tmp_path / "u8.wav", normalize=False)
    assert raw8.dtype == ember.uint8
    np.testing.assert_allclose((raw8.numpy().astype(np.float32) - 128) / 128, tone, atol=1 / 64)
    emberaudio.save(tmp_path / "mu.wav", src, 8000, encoding="ULAW")
    assert emberaudio.info(tmp_path / "mu.wav").encoding == "ULAW"
    with pytest.raises(ValueError, match="Unsupported encoding"):
        emberaudio.save(tmp_path / "bad.wav", src, 8000, encoding="PCM_F", bits_per_sample=16)


def test_flac_and_ogg(tmp_path, tone):
    emberaudio.save(tmp_path / "a.flac", ember.from_numpy(tone), 16000, bits_per_sample=16)
    meta = emberaudio.info(tmp_path / "a.flac")
    assert (meta.encoding, meta.bits_per_sample, meta.sample_rate) == ("FLAC", 16, 16000)
    got, sr = emberaudio.load(tmp_path / "a.flac")
    np.testing.assert_allclose(got.numpy(), tone, atol=1 / 32768 + 1e-6)
    emberaudio.save(tmp_path / "a.ogg", ember.from_numpy(tone), 8000)
    meta = emberaudio.info(tmp_path / "a.ogg")
    assert (meta.encoding, meta.num_channels) == ("VORBIS", 2)
    got, sr = emberaudio.load(tmp_path / "a.ogg")
    assert sr == 8000 and got.shape[0] == 2 and abs(got.shape[1] - 800) < 200


def test_file_objects(tone):
    buf = io.BytesIO()
    emberaudio.save(buf, ember.from_numpy(tone), 8000, format="wav")
    buf.seek(0)
    assert emberaudio.info(buf).num_frames == 800
    buf.seek(0)
    got, sr = emberaudio.load(buf)
    np.testing.assert_array_equal(got.numpy(), tone)
    with pytest.raises(ValueError, match="extension"):
        emberaudio.save(io.BytesIO(), ember.from_numpy(tone), 8000)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.wav"):
        emberaudio.load(tmp_path / "nothere.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(RuntimeError, match=r"empty\.wav.*empty"):
        emberaudio.info(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFF\x00\x01garbage" * 10)
    with pytest.raises(RuntimeError, match=r"junk\.wav.*corrupt"):
        emberaudio.load(tmp_path / "junk.wav")
    with pytest.raises(ValueError, match="Expected 2D Tensor"):
        emberaudio.save(tmp_path / "x.wav", ember.zeros(10), 8000)


def test_reads_a_wav_written_by_soundfile(tmp_path):
    data = (np.arange(-5, 5, dtype=np.int16) * 1000)[:, None]
    sf.write(tmp_path / "m.wav", data, 22050, subtype="PCM_16")
    got, sr = emberaudio.load(tmp_path / "m.wav")
    assert sr == 22050 and tuple(got.shape) == (1, 10)
    np.testing.assert_allclose(got.numpy()[0], data[:, 0] / 32768.0)
