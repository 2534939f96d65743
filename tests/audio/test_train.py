"""emberaudio.train: learns on a small slice, resumes (also with more epochs), writes a valid confusion PNG;
the bundled FSDD subset; the YESNO word cutter; gated full-FSDD / YESNO accuracy runs."""

import os
import time
import zlib

import numpy as np
import pytest

import ember
import emberaudio
from emberaudio import _png, _train_data, datasets, train


def _tone_folder(root, n=12, sr=8000):
    rng = np.random.default_rng(0)
    t = np.arange(int(0.5 * sr)) / sr
    for split in ("train", "test"):
        for k, freq in enumerate((300.0, 900.0, 2000.0)):
            d = root / split / f"tone{k}"
            d.mkdir(parents=True)
            for i in range(n if split == "train" else 4):
                x = 0.4 * np.sin(2 * np.pi * freq * (1 + 0.02 * rng.standard_normal()) * t) + 0.02 * rng.standard_normal(t.size)
                emberaudio.save(d / f"{i}.wav", ember.from_numpy(x[None].astype(np.float32)), sr)
    return root


def test_folder_of_wavs_learns_and_writes_confusion_png(tmp_path):
    root = _tone_folder(tmp_path / "tones")
    out = tmp_path / "run"
    res = train.main(["--dataset", "folder", "--data-root", str(root), "--clip-seconds", "0.5", "--epochs", "6",
                      "--batch-size", "8", "--channels", "4", "--no-progress", "--output-dir", str(out)])
    assert res["classes"] == ["tone0", "tone1", "tone2"]
    assert res["test_acc"] >= 0.9
    assert res["confusion"].sum() == 12 and np.trace(res["confusion"]) >= 11
    png = (out / "confusion.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in png and png.endswith(b"IEND\xaeB`\x82")
    Image = pytest.importorskip("PIL.Image")  # a standard decoder reads what the zlib+struct writer produced
    with Image.open(out / "confusion.png") as img:
        assert img.mode == "RGB" and img.size[0] == img.size[1] >= 3 * 28
        img.load()


def test_bundled_fsdd_slice_learns_and_resumes_with_more_epochs(tmp_path):
    out = tmp_path / "run"
    common = ["--limit-train", "200", "--limit-test", "60", "--batch-size", "20", "--channels", "8", "--no-progress",
              "--output-dir", str(out)]
    first = train.main(common + ["--epochs", "3"])
    h = first["history"]
    assert len(h["train_loss"]) == 3
    resumed = train.main(common + ["--epochs", "6", "--resume", str(out / "checkpoint.ember")])
    h = resumed["history"]
    assert len(h["test_acc"]) == 6 and h["train_loss"][:3] == first["history"]["train_loss"]
    assert h["train_loss"][-1] < 0.8 * h["train_loss"][0]  # it learns
    assert max(h["test_acc"]) > 0.3  # chance is 0.1
    state = ember.load(str(out / "checkpoint.ember"))
    steps = 200 // 20
    assert state["epoch"] == 6  # the 6-epoch schedule, advanced past the 3 epochs already run
    assert state["scheduler"]["total_steps"] == 6 * steps and state["scheduler"]["last_epoch"] == 6 * steps


def test_waveform_feature_uses_m5(tmp_path):
    root = _tone_folder(tmp_path / "tones", n=4)
    res = train.main(["--dataset", "folder", "--data-root", str(root), "--feature", "waveform", "--epochs", "1",
                      "--batch-size", "6", "--no-progress", "--output-dir", str(tmp_path / "run")])
    assert len(res["history"]["train_loss"]) == 1 and np.isfinite(res["history"]["train_loss"][0])


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="Dataset not found"):
        train.main(["--dataset", "fsdd", "--data-root", str(tmp_path), "--output-dir", str(tmp_path / "r")])


def test_bundled_subset_layout_and_licence():
    root = _train_data.BUNDLED_FSDD
    assert "CC BY-SA 4.0" in (root / "README.md").read_text()
    tr, te = datasets.FSDD(root, split="train"), datasets.FSDD(root, split="test")
    assert (len(tr), len(te)) == (300, 120)
    assert sum(p.stat().st_size for p in (root / "FSDD" / "recordings").iterdir()) < 3_000_000


def test_fit_length_and_png_writer(tmp_path):
    x = np.zeros(100, np.float32)
    x[70:80] = 1.0
    np.testing.assert_array_equal(_train_data.fit_length(x, 20)[:10], 0)
    assert _train_data.fit_length(x, 20).sum() == 10
    assert _train_data.fit_length(x[:10], 20).shape == (20,)
    _png.write_png(str(tmp_path / "a.png"), np.full((2, 3, 3), 7, np.uint8))
    data = (tmp_path / "a.png").read_bytes()
    raw = zlib.decompress(data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8])
    assert raw == (b"\x00" + b"\x07" * 9) * 2


def test_yesno_word_cutter_on_real_data(shared_datasets):
    if not (shared_datasets / "waves_yesno").is_dir():
        pytest.skip("waves_yesno not in shared datasets")
    ds = datasets.YESNO(shared_datasets)
    counts = [len(_train_data.word_segments(ds[i][0].numpy()[0])) for i in range(0, 60, 7)]
    assert counts == [8] * len(counts)


ACCURACY = pytest.mark.skipif(os.environ.get("EMBER_AUDIO_ACCURACY") != "1", reason="set EMBER_AUDIO_ACCURACY=1 for the long runs")


@pytest.mark.slow
@ACCURACY
def test_full_fsdd_accuracy(shared_datasets, tmp_path):
    t0 = time.time()
    res = train.main(["--dataset", "fsdd", "--data-root", str(shared_datasets), "--epochs", "8", "--no-progress",
                      "--output-dir", str(tmp_path)])
    print(f"FSDD: {100 * res['test_acc']:.2f}% after 8 epochs in {time.time() - t0:.0f}s")
    assert res["test_acc"] >= 0.97


@pytest.mark.slow
@ACCURACY
def test_yesno_word_accuracy(shared_datasets, tmp_path):
    t0 = time.time()
    res = train.main(["--dataset", "yesno", "--data-root", str(shared_datasets), "--epochs", "10", "--channels", "8",
                      "--batch-size", "16", "--no-progress", "--output-dir", str(tmp_path)])
    print(f"YESNO words: {100 * res['test_acc']:.2f}% after 10 epochs in {time.time() - t0:.0f}s")
    assert res["test_acc"] >= 0.95
