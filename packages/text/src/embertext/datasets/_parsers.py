"""Record parsers shared by the dataset files (module-level functions, so datasets pickle for workers)."""

from __future__ import annotations

import csv


def csv_label_text(path: str, delimiter: str = ","):
    """``label,field,field...`` rows (AG_NEWS, Yelp, Amazon): ``(int(label), " ".join(fields))``."""
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter=delimiter):
            yield int(row[0]), " ".join(row[1:])


def lines(path: str, strip: bool = True, keep_newline: bool = False):
    """Each line of a UTF-8 file: stripped (``strip``), or with its newline kept (``keep_newline``)."""
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            if strip:
                yield line.strip()
            elif keep_newline:
                yield line
            else:
                yield line.rstrip("\r\n")
