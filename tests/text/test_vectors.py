import gzip
import http.server
import io
import tarfile
import threading
import zipfile

import numpy as np
import pytest

import ember
from embertext.vocab import CharNGram, FastText, GloVe, Vectors, build_vocab_from_iterator, pretrained_aliases

GLOVE = "the 0.1 0.2 -0.3\nfilm 1 2 3\ngood -1.5 0 2.25\nnon\u00a0breaking 4 5 6\n"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server:
    """Serve a folder on 127.0.0.1 for the duration of a with-block."""

    def __init__(self, folder):
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), lambda *a, **k: _Quiet(*a, directory=str(folder), **k))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def test_plain_file_values_and_lookup(tmp_path):
    f = tmp_path / "vec.txt"
    f.write_text(GLOVE, encoding="utf-8")
    v = Vectors(str(f), cache=str(tmp_path / "cache"))
    assert v.itos == ["the", "film", "good", "non\u00a0breaking"] and v.dim == 3 and len(v) == 4
    assert v.stoi["good"] == 2 and "film" in v and "bad" not in v
    assert v.vectors.dtype == ember.float32 and v.vectors.shape == (4, 3)
    np.testing.assert_allclose(v["good"].numpy(), [-1.5, 0, 2.25])
    np.testing.assert_allclose(v["unknown"].numpy(), [0, 0, 0])  # default unk_init: zeros
    vecs = v.get_vecs_by_tokens(["film", "Film", "the"], lower_case_backup=True)
    np.testing.assert_allclose(vecs.numpy(), [[1, 2, 3], [1, 2, 3], [0.1, 0.2, -0.3]], rtol=1e-6)
    vecs = v.get_vecs_by_tokens(["film", "Film"])
    np.testing.assert_allclose(vecs.numpy(), [[1, 2, 3], [0, 0, 0]])
    assert v.get_vecs_by_tokens("the").shape == (3,)
    assert (tmp_path / "cache" / "vec.txt.pt").is_file()


def test_unk_init_max_vectors_and_header(tmp_path):
    f = tmp_path / "wiki.xx.vec"
    f.write_text("3 2\na 1 2\nb 3 4\nc 5 6\n", encoding="utf-8")  # fastText/word2vec header line
    v = Vectors(str(f), cache=str(tmp_path), max_vectors=2, unk_init=lambda t: t.fill_(7.0))
    assert v.itos == ["a", "b"] and v.dim == 2
    assert v["zzz"].tolist() == [7.0, 7.0]
    assert (tmp_path / "wiki.xx.vec_2.pt").is_file()


def test_cache_is_used_and_loads_weights_only(tmp_path):
    f = tmp_path / "v.txt"
    f.write_text(GLOVE, encoding="utf-8")
    Vectors(str(f), cache=str(tmp_path / "c"))
    f.write_text("other 9 9 9\n", encoding="utf-8")  # the cache wins over the (changed) text file
    v = Vectors(str(f), cache=str(tmp_path / "c"))
    assert v.itos[0] == "the"
    assert zipfile.is_zipfile(tmp_path / "c" / "v.txt.pt")
    # ember.save writes PyTorch's layout; the cache holds only tensors and plain containers, so it loads with
    # the restricted (weights_only) unpickler that never runs code from the file
    cached = ember.load(str(tmp_path / "c" / "v.txt.pt"), weights_only=True)
    assert cached is not None
    (tmp_path / "c" / "v.txt.pt").write_bytes(b"garbage")  # unreadable cache: parse the text again
    assert Vectors(str(f), cache=str(tmp_path / "c")).itos == ["other"]


def test_gz_file(tmp_path):
    with gzip.open(tmp_path / "v.txt.gz", "wt", encoding="utf-8") as g:
        g.write(GLOVE)
    v = Vectors("v.txt.gz", cache=str(tmp_path))
    assert v.itos[:3] == ["the", "film", "good"]


def test_bad_files(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("a 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="has 2 dimensions, but previously read vectors have 3"):
        Vectors(str(f), cache=str(tmp_path))
    f.write_text("a 1 x 3\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="not a number"):
        Vectors(str(f), cache=str(tmp_path))
    with pytest.raises(RuntimeError, match="no vectors found at .*missing.txt"):
        Vectors("missing.txt", cache=str(tmp_path))
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(RuntimeError, match="no vectors found in"):
        Vectors(str(tmp_path / "empty.txt"), cache=str(tmp_path))
    f.write_bytes(b"ok 1 2\n\xff\xfe 3 4\n")  # a non-UTF-8 token is skipped
    assert Vectors(str(f), cache=str(tmp_path / "x")).itos == ["ok"]
    with pytest.raises(ValueError, match="unknown GloVe set"):
        GloVe(name="7B")


def test_download_zip_from_local_server(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "glove.6B.zip", "w") as z:
        z.writestr("glove.6B.3d.txt", GLOVE)
    with _Server(served) as srv:
        monkeypatch.setitem(GloVe.url, "6B", srv.url + "glove.6B.zip")
        v = GloVe(name="6B", dim=3, cache=str(tmp_path / "cache"))
    assert v.itos[:2] == ["the", "film"] and v.dim == 3
    assert (tmp_path / "cache" / "glove.6B.3d.txt").is_file()


def test_download_vec_and_tar_gz_from_local_server(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    (served / "wiki.xx.vec").write_text("2 3\n" + GLOVE, encoding="utf-8")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = "2gram-#BEGIN#a 1 0\n2gram-ab 0 1\n3gram-#BEGIN#ab 2 2\n2gram-b#END# 4 4\n".encode()
        info = tarfile.TarInfo("charNgram.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (served / "jmt.tar.gz").write_bytes(buf.getvalue())
    with _Server(served) as srv:
        monkeypatch.setattr(FastText, "url_base", srv.url + "wiki.{}.vec")
        ft = FastText(language="xx", cache=str(tmp_path / "c"))
        monkeypatch.setattr(CharNGram, "url", srv.url + "jmt.tar.gz")
        cg = CharNGram(cache=str(tmp_path / "c"))
    assert ft.itos[0] == "the" and ft.dim == 3
    # "ab": grams #BEGIN#a, ab, b#END#, #BEGIN#ab (+ two unknown) -> mean of 4 known rows
    np.testing.assert_allclose(cg["ab"].numpy(), [[(1 + 0 + 2 + 4) / 4, (0 + 1 + 2 + 4) / 4]])
    assert cg["ab"].shape == (1, 2)
    assert cg["zz"].tolist() == [[0.0, 0.0]] and cg["<unk>"].tolist() == [[0.0, 0.0]]


def test_download_failure_names_url(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    with _Server(served) as srv:
        with pytest.raises(RuntimeError, match="nothing.zip"):
            Vectors("nothing.txt", cache=str(tmp_path / "c"), url=srv.url + "nothing.zip")


def test_vectors_for_a_vocab_into_embedding(tmp_path):
    f = tmp_path / "v.txt"
    f.write_text(GLOVE, encoding="utf-8")
    vec = Vectors(str(f), cache=str(tmp_path))
    voc = build_vocab_from_iterator([["film", "good", "plot"]], specials=["<unk>"])
    weights = vec.get_vecs_by_tokens(voc.get_itos())
    emb = ember.nn.Embedding.from_pretrained(weights)
    assert emb(ember.tensor([voc["film"]])).tolist() == [[1.0, 2.0, 3.0]]
    assert emb(ember.tensor([voc["plot"]])).tolist() == [[0.0, 0.0, 0.0]]
    assert set(pretrained_aliases) >= {"glove.6B.50d", "fasttext.en.300d", "charngram.100d"}


def test_large_file_in_chunks_and_max_vectors_stops_early(tmp_path, monkeypatch):
    import embertext.vocab.vectors as V

    monkeypatch.setattr(V, "_CHUNK", 3)  # parse in several NumPy blocks
    rows = [f"w{i} {i} {-i}" for i in range(10)]
    (tmp_path / "v.txt").write_text("\n".join(rows) + "\nbroken 1 2 3\n", encoding="utf-8")
    v = Vectors(str(tmp_path / "v.txt"), cache=str(tmp_path / "c"), max_vectors=10)  # never reaches "broken"
    assert v.vectors.shape == (10, 2) and v["w7"].tolist() == [7.0, -7.0]
    with pytest.raises(RuntimeError, match="line 11"):
        Vectors(str(tmp_path / "v.txt"), cache=str(tmp_path / "c"))
