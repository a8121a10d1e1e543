"""Zip files, opened defensively: bombs, path tricks and nested archives are refused.

A zip names its own uncompressed sizes and paths, and both can lie.  Before
anything is unpacked :func:`check_zip` refuses archives whose *declared* size
or compression ratio is over the limits, whose member paths are absolute or
climb out with ``..``, or that are encrypted.  :func:`extract` then copies
members into a temporary directory under a running byte count, so a zip whose
headers understate its size is stopped at the limit too.  Only one level of
archive is read: a zip inside the zip is refused with a hint.

Examples
--------
>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as zf:
...     zf.writestr("../evil.txt", "x")
>>> check_zip(buf.getvalue(), Limits())
Traceback (most recent call last):
...
geo.errors.GeoInputError: the zip holds an unsafe path '../evil.txt' (absolute or climbing out with '..')
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from dataclasses import dataclass

from ..errors import GeoInputError

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Limits on what an archive may unpack to.

    Attributes
    ----------
    max_uncompressed : int
        Total uncompressed bytes an archive may declare or unpack (default 500 MB;
        the web app passes its ``ATLAS_MAX_UNZIPPED_MB`` setting).
    max_ratio : float
        Largest compression ratio of a member bigger than ``ratio_floor``: real
        geodata compresses 3–20 times, a bomb thousands of times.
    ratio_floor : int
        Members smaller than this are not ratio-checked (tiny files compress oddly).
    max_members : int
        Most entries an archive may hold.
    """

    max_uncompressed: int = 500 * _MB
    max_ratio: float = 1000.0
    ratio_floor: int = _MB
    max_members: int = 10_000


def _is_unsafe(name: str) -> bool:
    """Absolute paths, drive letters, backslash roots and ``..`` components."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return any(part == ".." for part in norm.split("/"))


def _is_junk(name: str) -> bool:
    """macOS resource forks and folders that carry no data."""
    base = os.path.basename(name.rstrip("/"))
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith("._") \
        or base in (".DS_Store", "Thumbs.db")


def check_zip(data: bytes, limits: Limits) -> list[zipfile.ZipInfo]:
    """The data members of a zip, after refusing anything unsafe.

    Raises
    ------
    GeoInputError
        400 for a damaged zip or unsafe paths, 413 for a bomb (declared size or
        ratio), 422 for encrypted members or too many entries.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
        raise GeoInputError(f"the zip file is damaged or incomplete ({e})",
                            hint="zip the files again and re-upload", status=400, code="zip_invalid", message_zh="压缩包损坏或不完整", hint_zh="请重新压缩后上传") from e
    if len(infos) > limits.max_members:
        raise GeoInputError(f"the zip holds {len(infos)} entries, more than {limits.max_members}",
                            hint="zip only the files of one layer", status=422, code="zip_contents", message_zh=f"压缩包里有 {len(infos)} 个文件，超过 {limits.max_members} 个的上限", hint_zh="请只压缩一个图层的文件")
    for info in infos:
        if _is_unsafe(info.filename):
            raise GeoInputError(
                f"the zip holds an unsafe path {info.filename!r} (absolute or climbing out "
                "with '..')", hint="zip the files from inside their folder, with relative "
                "names only", status=400, code="zip_unsafe", message_zh=f"压缩包里有不安全的路径 {info.filename!r}", hint_zh="请在文件所在的文件夹里直接压缩，只用相对路径")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise GeoInputError(
            f"the zip declares {total / _MB:,.0f} MB uncompressed, over the limit of "
            f"{limits.max_uncompressed / _MB:,.0f} MB",
            hint="upload a smaller extract, or split the data into several files", status=413, code="upload_too_large", message_zh=f"压缩包解压后有 {total / _MB:,.0f} MB，超过了 {limits.max_uncompressed / _MB:,.0f} MB 的上限", hint_zh="请上传较小的数据，或拆分成几个文件")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise GeoInputError(
                f"the zip member {info.filename!r} expands {ratio:,.0f} times "
                f"({info.file_size / _MB:,.0f} MB): this looks like a zip bomb",
                hint="upload the real data files zipped normally", status=413, code="upload_too_large", message_zh=f"压缩包里的 {info.filename!r} 解压后膨胀 {ratio:,.0f} 倍，像是“压缩炸弹”", hint_zh="请上传正常压缩的数据文件")
        if info.flag_bits & 0x1:
            raise GeoInputError(f"the zip member {info.filename!r} is password-protected",
                                hint="zip the files again without a password", status=422, code="zip_invalid", message_zh=f"压缩包里的 {info.filename!r} 设了密码", hint_zh="请不加密码重新压缩")
    return [i for i in infos if not _is_junk(i.filename)]


def extract(data: bytes, members: list[zipfile.ZipInfo], dest: str, limits: Limits
            ) -> dict[str, str]:
    """Copy ``members`` into ``dest`` (flattened), counting bytes; return name → path.

    Member names are reduced to their base name and written only inside ``dest``,
    so nothing can land outside the temporary directory whatever the zip says.
    """
    out: dict[str, str] = {}
    written = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for n, info in enumerate(members):
            base = os.path.basename(info.filename.replace("\\", "/")) or f"member{n}"
            # Two members with one base name in different folders: keep both.
            target = os.path.join(dest, base if base not in {os.path.basename(p)
                                                             for p in out.values()}
                                  else f"{n}_{base}")
            if os.path.dirname(os.path.abspath(target)) != os.path.abspath(dest):
                raise GeoInputError(f"unsafe zip member {info.filename!r}", status=400, code="zip_unsafe", message_zh=f"压缩包里有不安全的文件 {info.filename!r}")
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > limits.max_uncompressed:
                            raise GeoInputError(
                                "the zip unpacks to more than its declared size and over the "
                                f"limit of {limits.max_uncompressed / _MB:,.0f} MB",
                                hint="upload a smaller extract", status=413, code="upload_too_large", message_zh=f"压缩包解压后超过了 {limits.max_uncompressed / _MB:,.0f} MB 的上限", hint_zh="请上传较小的数据")
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError,
                    RuntimeError) as e:
                raise GeoInputError(f"the zip member {info.filename!r} cannot be unpacked ({e})",
                                    hint="zip the files again (plain deflate) and re-upload",
                                    status=400, code="zip_invalid", message_zh=f"压缩包里的 {info.filename!r} 无法解压", hint_zh="请用普通的 zip 方式重新压缩后上传") from e
            out[info.filename] = target
    return out


def read_member(data: bytes, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    """The bytes of one member (size already checked by :func:`check_zip`)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        try:
            with zf.open(info) as src:
                content = src.read(limits.max_uncompressed + 1)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as e:
            raise GeoInputError(f"the zip member {info.filename!r} cannot be unpacked ({e})",
                                hint="zip the files again and re-upload", status=400, code="zip_invalid", message_zh=f"压缩包里的 {info.filename!r} 无法解压", hint_zh="请重新压缩后上传") from e
    if len(content) > limits.max_uncompressed:
        raise GeoInputError("the zip unpacks to more than the limit", status=413, code="upload_too_large", message_zh="压缩包解压后超过了大小上限", hint_zh="请上传较小的数据")
    return content


def remove_tree(path: str) -> None:
    """Delete a temporary directory, ignoring what is already gone."""
    shutil.rmtree(path, ignore_errors=True)
