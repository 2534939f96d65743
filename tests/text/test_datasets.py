"""embertext.datasets: torchtext's layouts and items, downloads from a local HTTP server (checksums,
caching, resume, offline errors), the bundled SST-2 subset and the real GLUE SST-2 files."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import pathlib
import shutil
import tarfile
import threading
import zipfile

import pytest

from embertext import datasets
from embertext.datasets import (ag_news, amazonreviewpolarity, imdb, multi30k, penntreebank, sst2, wikitext2,
                                yelpreviewpolarity)
from ember.utils.data import DataLoader


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    log: list = []

    def do_GET(self):  # noqa: N802
        body = self.files.get(self.path)
        self.log.append((self.path, self.headers.get("Range")))
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.files, _Handler.log = {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


def _targz(members: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _serve(monkeypatch, server, module, name, data, url_key=None, digest="md5"):
    base, handler = server
    url = f"{base}/{name}"
    handler.files[f"/{name}"] = data
    value = _md5(data) if digest == "md5" else hashlib.sha256(data).hexdigest()
    if url_key is None:
        monkeypatch.setattr(module, "URL", url)
        monkeypatch.setattr(module, "MD5", value)
    else:
        monkeypatch.setitem(module.URL, url_key, url)
        monkeypatch.setitem(module.MD5, url_key, value)
    return url


SST_FILES = {
    "SST-2/train.tsv": "sentence\tlabel\nit 's a charming journey . \t1\nbleak and desperate \t0\n",
    "SST-2/dev.tsv": "sentence\tlabel\na gorgeous film \t1\n",
    "SST-2/test.tsv": "index\tsentence\n0\tuneasy mishmash .\n1\tsnow : a poor imitation .\n",
}


def test_sst2_download_layout_and_items(server, monkeypatch, tmp_path):
    _serve(monkeypatch, server, sst2, "SST-2.zip", _zip(SST_FILES))
    train, dev, test = datasets.SST2(root=tmp_path)
    assert list(train) == [("it 's a charming journey .", 1), ("bleak and desperate", 0)]
    assert dev[0] == ("a gorgeous film", 1) and len(dev) == 1
    assert list(test) == [("uneasy mishmash .",), ("snow : a poor imitation .",)]
    folder = tmp_path / "datasets" / "SST2"
    assert (folder / "SST-2.zip").is_file() and (folder / "SST-2" / "train.tsv").is_file()
    # cached: a second call does not download again; one split returns one dataset
    requests = len(server[1].log)
    assert len(datasets.SST2(root=tmp_path, split="dev")) == 1
    assert len(server[1].log) == requests
    loader = DataLoader(train, batch_size=2)
    texts, labels = next(iter(loader))
    assert list(texts) == ["it 's a charming journey .", "bleak and desperate"] and labels.tolist() == [1, 0]


def test_split_argument_is_checked(tmp_path):
    with pytest.raises(TypeError, match=r"not supported for dataset SST2. Please choose from \('train', 'dev', 'test'\)"):
        datasets.SST2(root=tmp_path, split="valid")


def test_a_wrong_checksum_deletes_the_file_and_says_so(server, monkeypatch, tmp_path):
    _serve(monkeypatch, server, sst2, "SST-2.zip", _zip(SST_FILES))
    monkeypatch.setattr(sst2, "MD5", "0" * 32)
    with pytest.raises(RuntimeError, match="MD5 mismatch"):
        datasets.SST2(root=tmp_path, split="train")
    assert not (tmp_path / "datasets" / "SST2" / "SST-2.zip").exists()


def test_offline_error_names_the_url_and_the_place_for_the_file(monkeypatch, tmp_path):
    monkeypatch.setattr(ag_news, "URL", {"train": "http://127.0.0.1:9/train.csv", "test": "http://127.0.0.1:9/test.csv"})
    with pytest.raises(RuntimeError) as info:
        datasets.AG_NEWS(root=tmp_path, split="train")
    message = str(info.value)
    assert "http://127.0.0.1:9/train.csv" in message
    assert os.path.join(str(tmp_path), "datasets", "AG_NEWS", "train.csv") in message


def test_a_partial_download_resumes(server, monkeypatch, tmp_path):
    data = _zip(SST_FILES)
    _serve(monkeypatch, server, sst2, "SST-2.zip", data)
    folder = tmp_path / "datasets" / "SST2"
    folder.mkdir(parents=True)
    (folder / "SST-2.zip.part").write_bytes(data[:100])
    assert len(datasets.SST2(root=tmp_path, split="train")) == 2
    assert server[1].log[-1] == ("/SST-2.zip", "bytes=100-")


def test_an_archive_without_the_expected_files_is_a_clear_error(server, monkeypatch, tmp_path):
    _serve(monkeypatch, server, sst2, "SST-2.zip", _zip({"other/file.txt": "x"}))
    with pytest.raises(RuntimeError, match="does not contain"):
        datasets.SST2(root=tmp_path, split="train")


def test_ag_news_csv(server, monkeypatch, tmp_path):
    csv_text = '"3","Wall St. Bears","Short-sellers, Wall Street\'s dwindling band"\n"4","Title","a ""quoted"" word"\n'
    for split in ("train", "test"):
        _serve(monkeypatch, server, ag_news, f"{split}.csv", csv_text.encode(), url_key=split)
    train = datasets.AG_NEWS(root=tmp_path, split="train")
    assert list(train) == [(3, "Wall St. Bears Short-sellers, Wall Street's dwindling band"), (4, 'Title a "quoted" word')]
    assert (tmp_path / "datasets" / "AG_NEWS" / "train.csv").is_file()


@pytest.mark.parametrize("module,name,folder", [
    (yelpreviewpolarity, "YelpReviewPolarity", "yelp_review_polarity_csv"),
    (amazonreviewpolarity, "AmazonReviewPolarity", "amazon_review_polarity_csv"),
])
def test_review_polarity_archives(server, monkeypatch, tmp_path, module, name, folder):
    members = {f"{folder}/train.csv": '"1","bad, very bad"\n"2","great"\n', f"{folder}/test.csv": '"2","fine"\n'}
    _serve(monkeypatch, server, module, f"{folder}.tar.gz", _targz(members))
    train, test = getattr(datasets, name)(root=tmp_path)
    assert list(train) == [(1, "bad, very bad"), (2, "great")] and test[0] == (2, "fine")
    assert (tmp_path / "datasets" / name / folder / "test.csv").is_file()


def test_imdb_archive(server, monkeypatch, tmp_path):
    members = {"aclImdb/train/pos/10_9.txt": "Loved it.<br />Truly.", "aclImdb/train/pos/2_8.txt": "Good.",
               "aclImdb/train/neg/0_1.txt": "Awful.\n", "aclImdb/train/unsup/5_0.txt": "unlabelled",
               "aclImdb/test/neg/1_2.txt": "Bad.", "aclImdb/test/pos/3_10.txt": "Great."}
    _serve(monkeypatch, server, imdb, "aclImdb_v1.tar.gz", _targz(members))
    train = datasets.IMDB(root=tmp_path, split="train")
    assert list(train) == [(1, "Awful."), (2, "Good."), (2, "Loved it.<br />Truly.")]
    assert len(datasets.IMDB(root=tmp_path, split="test")) == 2


def test_wikitext2_keeps_newlines(server, monkeypatch, tmp_path):
    members = {f"wikitext-2/wiki.{s}.tokens": f" \n = {s} = \n text <unk> here \n" for s in ("train", "valid", "test")}
    _serve(monkeypatch, server, wikitext2, "wikitext-2-v1.zip", _zip(members))
    assert list(datasets.WikiText2(root=tmp_path, split="valid")) == [" \n", " = valid = \n", " text <unk> here \n"]


def test_penntreebank_strips_lines(server, monkeypatch, tmp_path):
    _serve(monkeypatch, server, penntreebank, "ptb.valid.txt", b" the cat <unk> \n a dog \n", url_key="valid")
    assert list(datasets.PennTreebank(root=tmp_path, split="valid")) == ["the cat <unk>", "a dog"]


def test_multi30k_pairs_and_language_order(server, monkeypatch, tmp_path):
    data = _targz({"val.de": "Ein Hund.\nZwei Katzen.\n", "val.en": "A dog.\nTwo cats.\n"})
    _serve(monkeypatch, server, multi30k, "validation.tar.gz", data, url_key="valid", digest="sha256")
    assert list(datasets.Multi30k(root=tmp_path, split="valid")) == [("Ein Hund.", "A dog."), ("Zwei Katzen.", "Two cats.")]
    assert datasets.Multi30k(root=tmp_path, split="valid", language_pair=("en", "de"))[1] == ("Two cats.", "Zwei Katzen.")
    with pytest.raises(AssertionError, match="language_pair"):
        datasets.Multi30k(root=tmp_path, split="valid", language_pair=("en", "fr"))


def test_bundled_sst2_small():
    train, dev = datasets.sst2_small(("train", "dev"))
    assert (len(train), len(dev)) == (6000, 872)
    assert dev[0] == ("it 's a charming and often affecting journey .", 1)
    assert {label for _, label in train} == {0, 1}
    readme = pathlib.Path(datasets.BUNDLED_SST2_ROOT) / "README.md"
    assert "Socher" in readme.read_text()
    size = sum(p.stat().st_size for p in pathlib.Path(datasets.BUNDLED_SST2_ROOT).rglob("*") if p.is_file())
    assert size < 1_000_000
    with pytest.raises(ValueError, match="sst2_small has the splits"):
        datasets.sst2_small("test")


def test_real_glue_sst2_files(shared_datasets, tmp_path):
    folder = tmp_path / "datasets" / "SST2" / "SST-2"
    folder.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        shutil.copyfile(shared_datasets / "SST2" / f"{split}.tsv", folder / f"{split}.tsv")
    train, dev, test = datasets.SST2(root=tmp_path)
    assert (len(train), len(dev), len(test)) == (sst2.NUM_LINES["train"], sst2.NUM_LINES["dev"], sst2.NUM_LINES["test"])
    assert train[0] == ("hide new secretions from the parental units", 0)
    assert sum(label for _, label in dev) == 444
    assert test[0] == ("uneasy mishmash of styles and genres .",)
