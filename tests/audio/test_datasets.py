"""emberaudio.datasets: folder layouts and item tuples, download (local 127.0.0.1 server) with checksum,
resume and offline errors, and the real FSDD / yesno files when ../shared/datasets is present."""

import hashlib
import http.server
import io
import os
import tarfile
import threading
import zipfile

import numpy as np
import pytest

import ember
import emberaudio
from emberaudio import datasets


def _wav_bytes(n=400, sr=8000, seed=0):
    buf = io.BytesIO()
    data = (np.random.default_rng(seed).standard_normal((1, n)) * 0.1).astype(np.float32)
    emberaudio.save(buf, ember.from_numpy(data), sr, format="wav", encoding="PCM_S", bits_per_sample=16)
    return buf.getvalue()


def _flac_bytes(n=400, sr=16000, seed=0):
    buf = io.BytesIO()
    data = (np.random.default_rng(seed).standard_normal((1, n)) * 0.1).astype(np.float32)
    emberaudio.save(buf, ember.from_numpy(data), sr, format="flac", bits_per_sample=16)
    return buf.getvalue()


def _tar(path, files, mode="w:gz"):
    with tarfile.open(path, mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and honours ``Range: bytes=N-`` (206) so resumed downloads can be tested."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().do_GET()
        start = int(rng.split("=")[1].rstrip("-"))
        with open(path, "rb") as f:
            data = f.read()[start:]
        self.server.ranges.append(start)
        self.send_response(206)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server:
    def __init__(self, folder):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a, **k: _RangeHandler(*a, directory=str(folder), **k))
        self.httpd.ranges = []
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_yesno_download_and_items(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    _tar(served / "waves_yesno.tar.gz", {"waves_yesno/0_1_0_0_1_0_1_1.wav": _wav_bytes(), "waves_yesno/1_1_1_1_0_0_0_0.wav": _wav_bytes(seed=1),
                                        "waves_yesno/README": b"readme"})
    with _Server(served) as server:
        ds = datasets.YESNO(tmp_path / "root", url=server.url + "waves_yesno.tar.gz", download=True)
    assert len(ds) == 2
    wav, sr, labels = ds[0]
    assert sr == 8000 and tuple(wav.shape) == (1, 400) and labels == [0, 1, 0, 0, 1, 0, 1, 1]
    assert datasets.YESNO(tmp_path / "root")[1][2] == [1, 1, 1, 1, 0, 0, 0, 0]  # no download needed the second time
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.YESNO(tmp_path / "nothing")


def test_fsdd_download_checksum_resume_and_split(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    names = ["0_george_0", "0_george_7", "3_jackson_12", "9_theo_4", "5_lucas_49"]
    archive = _tar(served / "fsdd.tar.gz", {f"free-spoken-digit-dataset-1.0.10/recordings/{n}.wav": _wav_bytes(seed=i)
                                            for i, n in enumerate(names)} | {"free-spoken-digit-dataset-1.0.10/README.md": b"x"})
    digest = _sha256(archive)
    root = tmp_path / "root"
    root.mkdir()
    # half of the archive is already on disk from an interrupted download
    (root / "fsdd.tar.gz.part").write_bytes(archive.read_bytes()[:300])
    with _Server(served) as server:
        with pytest.raises(RuntimeError, match="invalid hash value"):
            datasets.FSDD(tmp_path / "bad", download=True, url=server.url + "fsdd.tar.gz", checksum="0000")
        train = datasets.FSDD(root, split="train", download=True, url=server.url + "fsdd.tar.gz", checksum=digest[:16])
        assert server.httpd.ranges == [300]
    test = datasets.FSDD(root, split="test")
    assert len(train) == 3 and len(test) == 2 and len(datasets.FSDD(root)) == 5
    wav, sr, label, speaker, take = test[0]
    assert (sr, label, speaker, take) == (8000, 0, "george", 0) and tuple(wav.shape) == (1, 400)
    assert [train.get_metadata(i)[2:] for i in range(3)] == [(0, "george", 7), (3, "jackson", 12), (5, "lucas", 49)]
    assert not (root / "FSDD.extract").exists()
    with pytest.raises(ValueError, match="split must be"):
        datasets.FSDD(root, split="valid")


def test_offline_error_names_url_and_destination(tmp_path):
    with pytest.raises(RuntimeError, match=r"Failed to download http://127\.0\.0\.1:9/waves_yesno\.tar\.gz.*place the file at"):
        datasets.YESNO(tmp_path, url="http://127.0.0.1:9/waves_yesno.tar.gz", download=True)


def test_speechcommands_subsets(tmp_path):
    base = "SpeechCommands/speech_commands_v0.02/"
    files = {f"{base}yes/abc_nohash_0.wav": _wav_bytes(sr=16000), f"{base}yes/def_nohash_1.wav": _wav_bytes(sr=16000),
             f"{base}no/abc_nohash_0.wav": _wav_bytes(sr=16000), f"{base}no/ghi_nohash_2.wav": _wav_bytes(sr=16000),
             f"{base}_background_noise_/noise.wav": _wav_bytes(sr=16000),
             f"{base}validation_list.txt": b"yes/def_nohash_1.wav\n", f"{base}testing_list.txt": b"no/ghi_nohash_2.wav\n"}
    root = tmp_path / "root"
    root.mkdir()
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    assert len(datasets.SPEECHCOMMANDS(root)) == 4
    train = datasets.SPEECHCOMMANDS(root, subset="training")
    assert [train.get_metadata(i)[2:] for i in range(len(train))] == [("no", "abc", 0), ("yes", "abc", 0)]
    wav, sr, label, speaker, n = datasets.SPEECHCOMMANDS(root, subset="testing")[0]
    assert (sr, label, speaker, n) == (16000, "no", "ghi", 2)
    assert datasets.SPEECHCOMMANDS(root, subset="validation").get_metadata(0)[0] == os.path.join("speech_commands_v0.02", "yes", "def_nohash_1.wav")
    with pytest.raises(ValueError, match="subset"):
        datasets.SPEECHCOMMANDS(root, subset="train")
    with pytest.raises(RuntimeError, match="doesn't exist"):
        datasets.SPEECHCOMMANDS(tmp_path / "none")


def test_librispeech_download(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    d = "LibriSpeech/dev-clean/84/121123/"
    _tar(served / "dev-clean.tar.gz", {d + "84-121123-0000.flac": _flac_bytes(), d + "84-121123-0001.flac": _flac_bytes(seed=2),
                                       d + "84-121123.trans.txt": b"84-121123-0000 GO DO YOU HEAR\n84-121123-0001 BUT IN LESS THAN FIVE MINUTES\n"})
    with _Server(served) as server:
        ds = datasets.LIBRISPEECH(tmp_path / "root", url="dev-clean", download=True, base_url=server.url)
    wav, sr, transcript, spk, chapter, utt = ds[1]
    assert (sr, transcript, spk, chapter, utt) == (16000, "BUT IN LESS THAN FIVE MINUTES", 84, 121123, 1)
    with pytest.raises(ValueError, match="Invalid url"):
        datasets.LIBRISPEECH(tmp_path, url="clean")


def test_ljspeech_download(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    _tar(served / "LJSpeech-1.1.tar.bz2", {"LJSpeech-1.1/wavs/LJ001-0001.wav": _wav_bytes(sr=22050),
                                           "LJSpeech-1.1/metadata.csv": b"LJ001-0001|Printing, in 1912|Printing, in nineteen twelve\n"},
         mode="w:bz2")
    with _Server(served) as server:
        ds = datasets.LJSPEECH(tmp_path / "root", url=server.url + "LJSpeech-1.1.tar.bz2", download=True)
    wav, sr, text, norm = ds[0]
    assert (len(ds), sr, text, norm) == (1, 22050, "Printing, in 1912", "Printing, in nineteen twelve")


def test_vctk_download(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "VCTK-Corpus-0.92.zip", "w") as z:
        z.writestr("txt/p225/p225_001.txt", "Please call Stella.\n")
        z.writestr("txt/p225/p225_002.txt", "Ask her to bring these things.\n")
        z.writestr("txt/p280/p280_001.txt", "Only mic1.\n")
        for utt in ("001", "002"):
            z.writestr(f"wav48_silence_trimmed/p225/p225_{utt}_mic2.flac", _flac_bytes(sr=48000))
        z.writestr("wav48_silence_trimmed/p280/p280_001_mic1.flac", _flac_bytes(sr=48000))
    with _Server(served) as server:
        ds = datasets.VCTK_092(str(tmp_path / "root"), download=True, url=server.url + "VCTK-Corpus-0.92.zip")
    assert len(ds) == 2  # p280 has no mic2
    wav, sr, text, spk, utt = ds[1]
    assert (sr, text, spk, utt) == (48000, "Ask her to bring these things.\n", "p225", "002")
    assert len(datasets.VCTK_092(str(tmp_path / "root"), mic_id="mic1")) == 3
    with pytest.raises(RuntimeError, match="mic_id"):
        datasets.VCTK_092(str(tmp_path), mic_id="mic3")


def test_audio_folder(tmp_path):
    for cls, n in (("cat", 2), ("dog", 1)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            (tmp_path / cls / f"{i}.wav").write_bytes(_wav_bytes(seed=i))
    ds = datasets.AudioFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.targets == [0, 0, 1]
    assert ds[2][1:] == (8000, 1)
    with pytest.raises(FileNotFoundError, match="class sub-folders"):
        datasets.AudioFolder(tmp_path / "cat")


def test_real_fsdd_and_yesno(shared_datasets):
    if not (shared_datasets / "FSDD" / "recordings").is_dir():
        pytest.skip("FSDD not in shared datasets")
    train, test = datasets.FSDD(shared_datasets, split="train"), datasets.FSDD(shared_datasets, split="test")
    assert (len(train), len(test)) == (2700, 300)
    wav, sr, label, speaker, take = test[0]
    assert sr == 8000 and wav.shape[0] == 1 and 0 <= label <= 9 and take < 5
    assert np.bincount([test.get_metadata(i)[2] for i in range(len(test))]).tolist() == [30] * 10
    yesno = datasets.YESNO(shared_datasets)
    assert len(yesno) == 60
    wav, sr, labels = yesno[0]
    assert sr == 8000 and len(labels) == 8 and set(labels) <= {0, 1}
