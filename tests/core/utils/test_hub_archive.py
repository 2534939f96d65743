"""ember.hub.download_url_to_file (resume, checksums, offline error) and ember.utils.archive, on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from ember import hub
from ember.utils.archive import check_integrity, extract_archive

PAYLOAD = bytes(range(256)) * 1000


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = PAYLOAD
        rng = self.headers.get("Range")
        self.server.requests.append(rng)  # before answering: the client may return as soon as it has the body
        if rng:
            start = int(rng.split("=")[1].rstrip("-"))
            self.send_response(206)
            body = PAYLOAD[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    srv.requests = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv):
    return f"http://127.0.0.1:{srv.server_address[1]}/data.bin"


def test_download_checks_sha256_prefix_and_md5(server, tmp_path):
    dst = tmp_path / "sub" / "data.bin"
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    hub.download_url_to_file(_url(server), dst, hash_prefix=sha[:10], progress=False,
                             md5=hashlib.md5(PAYLOAD).hexdigest())
    assert dst.read_bytes() == PAYLOAD
    assert check_integrity(dst, md5=hashlib.md5(PAYLOAD).hexdigest(), sha256=sha)
    assert not check_integrity(dst, md5="0" * 32)


def test_download_resumes_a_partial_file(server, tmp_path):
    dst = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:1000])
    hub.download_url_to_file(_url(server), dst, progress=False)
    assert dst.read_bytes() == PAYLOAD
    assert server.requests == ["bytes=1000-"]


def test_bad_checksum_deletes_the_file(server, tmp_path):
    dst = tmp_path / "data.bin"
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.download_url_to_file(_url(server), dst, hash_prefix="deadbeef", progress=False)
    assert not dst.exists() and not (tmp_path / "data.bin.part").exists()


def test_offline_error_names_url_and_destination(tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    url = _url(srv)
    srv.server_close()  # nothing listens there any more
    with pytest.raises(RuntimeError, match=r"Failed to download http://127\.0\.0\.1.*place the file at .*data\.bin"):
        hub.download_url_to_file(url, tmp_path / "data.bin", progress=False)


def test_get_dir_follows_set_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    assert hub.get_dir() == str(tmp_path / "home" / "hub")
    hub.set_dir(tmp_path / "x")
    assert hub.get_dir() == str(tmp_path / "x")


def test_extract_tar_zip_and_gz(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("d/a.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    (tmp_path / "a.tar.gz").write_bytes(buf.getvalue())
    extract_archive(tmp_path / "a.tar.gz", tmp_path / "out")
    assert (tmp_path / "out" / "d" / "a.txt").read_bytes() == b"abc"
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as z:
        z.writestr("b.txt", "xyz")
    extract_archive(tmp_path / "b.zip", tmp_path / "out")
    assert (tmp_path / "out" / "b.txt").read_text() == "xyz"


def test_extract_refuses_escaping_members_and_corrupt_archives(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("../evil.txt", "x")
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(tmp_path / "evil.zip", tmp_path / "out")
    (tmp_path / "bad.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(RuntimeError, match="corrupt or truncated"):
        extract_archive(tmp_path / "bad.tar.gz", tmp_path / "out")
    with pytest.raises(RuntimeError, match="Unsupported archive type"):
        extract_archive(tmp_path / "x.rar")


