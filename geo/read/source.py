"""Turn what the caller gave (path, bytes, file object) into bytes and a name, and sniff it.

The format is decided from the content first (magic bytes, the first
non-blank character, the XML root) and only then from the file name, so a
``.geojson`` that is really a PNG gets a precise answer instead of a parser crash.

Examples
--------
>>> sniff(b'{"type": "FeatureCollection", "features": []}', "a.txt")
'json'
>>> sniff(b"PK\\x03\\x04rest", "x.kmz"), sniff(b"  ", "e.csv"), sniff(b"lon,lat\\n1,2", "")
('zip', 'empty', 'text')
"""

from __future__ import annotations

import codecs
import io
import os
from typing import Any

from ..errors import GeoInputError

#: Formats the reader accepts, for hints.
ACCEPTED = ("GeoJSON, zipped Shapefile (.zip with .shp/.shx/.dbf/.prj), GeoPackage, KML/KMZ, "
            "GPX, CSV or XLSX with longitude/latitude (经度/纬度) columns")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
    (b"SQLite format 3\x00", "sqlite"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!", "rar"),
    (b"\x1f\x8b", "gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
    (b"\x00\x00\x27\x0a", "shp"),  # shapefile main-file code 9994
    (b"%PDF", "pdf"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
)


def load_source(source: Any, filename: str | None = None) -> tuple[bytes, str]:
    """Bytes and file name of ``source`` (a path, bytes or a binary file object).

    UTF-16 text (Excel's "Unicode text" export) is re-encoded as UTF-8 here so
    that every reader downstream deals with one text encoding less.

    Raises
    ------
    GeoInputError
        For a path that does not exist or a source of the wrong kind.

    Examples
    --------
    >>> load_source(b"abc", "x.csv")
    (b'abc', 'x.csv')
    >>> load_source(io.BytesIO(b"abc"))[0]
    b'abc'
    >>> load_source("\\ufefflon\\tlat".encode("utf-16"), "a.txt")[0]
    b'lon\\tlat'
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = filename or ""
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            shown = path if len(path) <= 200 else f"{path[:200]}…"
            raise GeoInputError(f"no such file: {shown}", hint="check the path; pass the "
                                "content as bytes, not str", status=400, code="not_found_file", message_zh=f"找不到文件：{shown}", hint_zh="请检查路径")
        with open(path, "rb") as fh:
            data = fh.read()
        name = filename or os.path.basename(path)
    elif hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):  # a text-mode file: accept it, as UTF-8
            data = data.encode("utf-8")
        name = filename or os.path.basename(str(getattr(source, "name", "") or ""))
    else:
        raise GeoInputError(f"cannot read a {type(source).__name__}",
                            hint="pass a path, bytes or a binary file object", status=400, code="file_unreadable", message_zh=f"无法读取 {type(source).__name__} 类型的输入")
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            data = data.decode("utf-16").lstrip("\ufeff").encode("utf-8")
        except UnicodeDecodeError as e:
            raise GeoInputError("the file starts like UTF-16 text but is not valid UTF-16",
                                hint="save it again as UTF-8 CSV", status=400, code="file_encoding", message_zh="文件像是 UTF-16 文本，但编码有误", hint_zh="请另存为 UTF-8 编码的 CSV") from e
    return data, name


def extension(name: str) -> str:
    """Lower-case extension of ``name`` with its dot (``""`` when none).

    Examples
    --------
    >>> extension("Sites.GeoJSON"), extension("noext")
    ('.geojson', '')
    """
    return os.path.splitext(name or "")[1].lower()


def sniff(data: bytes, name: str = "") -> str:
    """Kind of content: zip, sqlite, json, kml, gpx, xml, text, empty, or a refused kind.

    Refused kinds are 7z, rar, gzip, xls, shp (a lone shapefile part), pdf, image,
    binary.
    """
    if not data.strip():
        return "empty"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:8192]
    truncated = len(data) > len(head)
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    if b"\x00" in head:
        return "binary"
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "json"
    if stripped[:1] == b"<":
        lowered = stripped[:4096].lower()
        if b"<gpx" in lowered:
            return "gpx"
        if b"<kml" in lowered:
            return "kml"
        return "xml"
    if not _looks_like_text(head, truncated):
        return "binary"
    return "text"


def _looks_like_text(head: bytes, truncated: bool = False) -> bool:
    """Whether ``head`` decodes as UTF-8 or GB18030 with few control characters.

    ``truncated``: ``head`` is a sample cut from longer data, so its last character
    may be cut in the middle (a BOM stripped off the sample does not make it whole).
    """
    for enc in ("utf-8", "gb18030"):
        try:
            text = head.decode(enc, errors="ignore" if truncated else "strict")
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
        return controls <= max(1, len(text) // 100)
    return False


#: Chinese messages and hints of the refused kinds (the English ones are in :func:`refuse`).
MESSAGES_ZH = {
    "7z": "文件是 7-Zip 压缩包，不接受这种格式", "rar": "文件是 RAR 压缩包，不接受这种格式",
    "gzip": "文件是 gzip 压缩的，不接受这种格式", "xls": "文件是旧版 Excel（.xls）工作簿，不接受这种格式",
    "shp": "文件只是单独的 .shp：Shapefile 由几个文件组成",
    "sqlite": "文件是 SQLite 数据库，但不是 GeoPackage", "xml": "文件是 XML，但既不是 KML 也不是 GPX",
}
HINTS_ZH = {
    "7z": "请解压后改用 .zip 上传，或直接上传数据文件",
    "rar": "请解压后改用 .zip 上传，或直接上传数据文件",
    "gzip": "请上传未压缩的文件，或改用 .zip", "xls": "请在 Excel/WPS 中另存为 .xlsx 或 UTF-8 CSV 后上传",
    "shp": "请把 .shp、.shx、.dbf、.prj（和 .cpg）一起压缩成 .zip 上传",
    "sqlite": "请从中导出数据", "xml": "可用格式：GeoJSON、压缩的 Shapefile、GeoPackage、KML/KMZ、GPX、CSV、Excel",
}


def refuse(kind: str, name: str) -> GeoInputError:
    """The error for a content kind the reader does not take.

    Examples
    --------
    >>> refuse("xls", "a.xls").status
    415
    """
    shown = f" {name!r}" if name else ""
    ext = extension(name)
    named = {".geojson": "GeoJSON", ".json": "JSON", ".kml": "KML", ".gpx": "GPX",
             ".csv": "CSV"}.get(ext)
    if named and kind in ("binary", "image", "pdf", "sqlite", "zip", "gzip", "7z", "rar"):
        return GeoInputError(
            f"the file{shown} is named like {named} but its content is binary ({kind}), "
            f"not {named} text", hint=f"check that you picked the right file; accepted: {ACCEPTED}",
            status=415, code="unsupported_format", message_zh=f"文件{shown}的扩展名是 {named}，但内容是二进制（{kind}）", hint_zh="请检查是否选对了文件")
    messages = {
        "7z": ("the file is a 7-Zip archive, which is not accepted",
               "unpack it and upload the data as a .zip, or the file itself"),
        "rar": ("the file is a RAR archive, which is not accepted",
                "unpack it and upload the data as a .zip, or the file itself"),
        "gzip": ("the file is gzip-compressed, which is not accepted",
                 "upload it uncompressed, or as a .zip"),
        "xls": ("the file is an old Excel .xls workbook, which is not accepted",
                "save it as .xlsx or CSV (UTF-8) in Excel/WPS and upload that"),
        "shp": ("the file is a lone .shp: a shapefile is several files",
                "zip the .shp, .shx, .dbf, .prj (and .cpg) together and upload the .zip"),
        "sqlite": ("the file is an SQLite database but not a GeoPackage",
                   f"export the data from it; accepted: {ACCEPTED}"),
        "xml": ("the file is XML but neither KML nor GPX",
                f"accepted: {ACCEPTED}"),
    }
    if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        return GeoInputError(
            f"the file{shown} is one part of a shapefile, which is several files",
            hint="zip the .shp, .shx, .dbf, .prj (and .cpg) together and upload the .zip",
            status=422, code="unsupported_format", message_zh=f"文件{shown}只是 Shapefile 的一部分", hint_zh="请把 .shp、.shx、.dbf、.prj（和 .cpg）一起压缩成 .zip 上传")
    if kind in messages:
        msg, hint = messages[kind]
        return GeoInputError(msg, hint=hint, status=415, code="unsupported_format", message_zh=MESSAGES_ZH.get(kind, "不支持这种文件格式"), hint_zh=HINTS_ZH.get(kind, ""))
    return GeoInputError(
        f"the file{shown} is not a geodata format the atlas reads ({kind} content)",
        hint=f"accepted: {ACCEPTED}", status=415, code="unsupported_format", message_zh=f"文件{shown}不是图集能读取的地理数据格式（{kind}）", hint_zh="可用格式：GeoJSON、压缩的 Shapefile、GeoPackage、KML/KMZ、GPX、CSV、Excel（.xlsx）")


def as_stream(data: bytes) -> io.BytesIO:
    """A binary stream over ``data`` (for readers that want a file object)."""
    return io.BytesIO(data)
