"""The sentiment trainer and ``embertext.predict`` end to end, on small data."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ember
from embertext import datasets, predict, train

SMALL = ["--embed-dim", "32", "--hidden-size", "32", "--no-progress", "--test-batch-size", "512"]


def _write(path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(f'"{t}",{y}\n' for t, y in rows), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    """A separable toy task: sentences with 'good'/'great' words are pos, 'bad'/'awful' are neg."""
    rng = np.random.default_rng(0)
    filler = "the a film movie plot was is it this story acting".split()
    rows = []
    for i in range(240):
        label = "pos" if i % 2 else "neg"
        cue = rng.choice(["good", "great", "lovely"] if label == "pos" else ["bad", "awful", "dull"])
        words = list(rng.choice(filler, size=rng.integers(3, 9))) + [cue]
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    folder = tmp_path_factory.mktemp("toy")
    return _write(folder / "train.csv", rows[:200]), _write(folder / "dev.csv", rows[200:])


@pytest.mark.parametrize("model,extra", [("lstm", []), ("gru", ["--bucketing"]), ("cnn", []), ("transformer", [])])
def test_every_model_learns_a_toy_task(toy_files, tmp_path, model, extra):
    out = train.main(["--train-file", toy_files[0], "--dev-file", toy_files[1], "--model", model, "--epochs", "6",
                      "--batch-size", "16", "--lr", "5e-3", "--output-dir", str(tmp_path)] + extra + SMALL)
    assert out["best_dev_acc"] >= 0.9, out["history"]


@pytest.mark.slow
def test_defaults_learn_the_bundled_sst2_slice(tmp_path, capsys):
    # the default BiLSTM on all 6,000 bundled sentences for 2 epochs; chance is 51% on the dev set
    out = train.main(["--epochs", "2", "--no-progress", "--output-dir", str(tmp_path)])
    text = capsys.readouterr().out
    assert "epoch 2/2: train loss" in text and "final dev accuracy" in text
    assert out["best_dev_acc"] > 0.6, out["history"]
    losses = out["history"]["train_loss"]
    assert losses[-1] < losses[0]
    assert json.loads((tmp_path / "history.json").read_text())["dev_acc"] == out["history"]["dev_acc"]


def test_checkpoint_holds_what_predict_needs_and_predict_prints(toy_files, tmp_path, capsys):
    out = train.main(["--train-file", toy_files[0], "--dev-file", toy_files[1], "--epochs", "4", "--batch-size", "16",
                      "--lr", "5e-3", "--output-dir", str(tmp_path)] + SMALL)
    state = ember.load(out["best"])
    assert state["labels"] == ["neg", "pos"] and state["model_name"] == "lstm"
    assert state["text"]["kind"] == "basic_english" and state["text"]["vocab"]["itos"][:2] == ["<pad>", "<unk>"]
    capsys.readouterr()
    results = predict.main([out["best"], "a great film", "an awful plot", ""])
    printed = capsys.readouterr().out.splitlines()
    assert [r[0] for r in results[:2]] == ["pos", "neg"]
    assert printed[0].startswith("pos\t") and float(printed[0].split("\t")[1]) > 0.5
    assert len(printed) == 3  # an empty sentence still gets a label
    probs = predict.Classifier(out["best"]).predict_proba(["a great film", "an awful plot"])
    np.testing.assert_allclose(probs.sum(1).numpy(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("scheduler,extra", [("step", []), ("none", ["--bucketing"])])
def test_resume_continues_exactly(toy_files, tmp_path, scheduler, extra):
    args = ["--train-file", toy_files[0], "--dev-file", toy_files[1], "--batch-size", "32", "--optimizer", "sgd",
            "--scheduler", scheduler, "--output-dir", str(tmp_path)] + extra + SMALL
    first = train.main(args + ["--epochs", "1"])
    resumed = train.main(args + ["--epochs", "2", "--resume", first["checkpoint"]])
    straight = train.main(args[:-len(SMALL)] + SMALL + ["--epochs", "2", "--output-dir", str(tmp_path / "straight")])
    assert len(resumed["history"]["dev_acc"]) == 2
    np.testing.assert_allclose(resumed["history"]["train_loss"], straight["history"]["train_loss"], rtol=1e-5)


@pytest.mark.parametrize("scheduler", ["onecycle", "cosine", "linear"])
def test_resume_with_more_epochs_rebuilds_the_schedule(toy_files, tmp_path, scheduler):
    args = ["--train-file", toy_files[0], "--dev-file", toy_files[1], "--batch-size", "32", "--scheduler", scheduler,
            "--output-dir", str(tmp_path)] + SMALL
    first = train.main(args + ["--epochs", "1"])
    resumed = train.main(args + ["--epochs", "3", "--resume", first["checkpoint"]])
    straight = train.main(args + ["--epochs", "3", "--output-dir", str(tmp_path / "straight")])
    lr = lambda out: ember.load(out["checkpoint"])["optimizer"]["param_groups"][0]["lr"]  # noqa: E731
    assert lr(resumed) == pytest.approx(lr(straight), rel=1e-6, abs=1e-12)
    assert len(resumed["history"]["train_loss"]) == 3


def test_bpe_and_wordpiece_tokenizers_round_trip_through_the_checkpoint(toy_files, tmp_path):
    for kind in ("bpe", "wordpiece"):
        out = train.main(["--train-file", toy_files[0], "--dev-file", toy_files[1], "--tokenizer", kind, "--vocab-size",
                          "300", "--epochs", "6", "--batch-size", "16", "--lr", "5e-3",
                          "--output-dir", str(tmp_path / kind)] + SMALL)
        clf = predict.Classifier(out["best"])
        assert clf.encoder.kind == kind
        assert clf.encoder.encode("a great film") and clf.encoder.encode("") == []
        assert out["best_dev_acc"] >= 0.8, (kind, out["history"])


def test_bad_input_is_a_clear_exit(toy_files, tmp_path):
    base = ["--output-dir", str(tmp_path)] + SMALL
    with pytest.raises(SystemExit, match="needs a --dev-file"):
        train.main(["--train-file", toy_files[0]] + base)
    bad_dev = _write(tmp_path / "dev.csv", [("fine film", "meh")])
    with pytest.raises(SystemExit, match=r"unknown label 'meh'.*\['neg', 'pos'\]"):
        train.main(["--train-file", toy_files[0], "--dev-file", bad_dev] + base)
    latin = tmp_path / "latin1.tsv"
    latin.write_bytes("caf\xe9 au lait\t1\n".encode("latin-1"))
    with pytest.raises(SystemExit, match="is not UTF-8"):
        train.main(["--train-file", str(latin), "--dev-file", str(latin)] + base)
    with pytest.raises(SystemExit, match="does not exist"):
        train.main(["--train-file", str(tmp_path / "nope.csv"), "--dev-file", bad_dev] + base)
    short = tmp_path / "short.tsv"
    short.write_text("only-one-column\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="line 1: expected the columns"):
        train.main(["--train-file", str(short), "--dev-file", str(short)] + base)
    not_ckpt = tmp_path / "x.ember"
    ember.save({"weights": ember.zeros(2)}, not_ckpt)
    with pytest.raises(SystemExit, match="not an embertext-train checkpoint"):
        train.main(["--train-file", toy_files[0], "--dev-file", toy_files[1], "--resume", str(not_ckpt)] + base)
    with pytest.raises(SystemExit, match="not an embertext-train checkpoint"):
        predict.main([str(not_ckpt), "hello"])


def test_missing_dataset_download_is_a_clear_exit(tmp_path, monkeypatch):
    from embertext.datasets import imdb

    monkeypatch.setattr(imdb, "URL", "http://127.0.0.1:9/aclImdb_v1.tar.gz")
    with pytest.raises(SystemExit, match=r"http://127.0.0.1:9/aclImdb_v1.tar.gz.*place the file at"):
        train.main(["--dataset", "imdb", "--data-root", str(tmp_path)] + SMALL)


def test_bundled_set_labels_match_sst2():
    assert datasets.sst2.LABELS == ("negative", "positive")
