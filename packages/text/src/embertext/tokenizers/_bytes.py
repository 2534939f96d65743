"""The byte <-> printable-character table of byte-level BPE (GPT-2's convention)."""

from __future__ import annotations

__all__ = ["BYTE_TO_CHAR", "CHAR_TO_BYTE"]


def _table() -> list[str]:
    # Printable Latin-1 bytes keep their own character; the other 68 bytes (controls, space, ...) are
    # given the characters U+0100, U+0101, ... in byte order, so every byte is a visible character.
    keep = set(range(ord("!"), ord("~") + 1)) | set(range(ord("¡"), ord("¬") + 1)) | set(range(ord("®"), 256))
    out, extra = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(256 + extra))
            extra += 1
    return out


BYTE_TO_CHAR: list[str] = _table()
CHAR_TO_BYTE: dict[str, int] = {c: b for b, c in enumerate(BYTE_TO_CHAR)}
