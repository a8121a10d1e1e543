"""Reading the PDFs the print command makes: text and a page as PNG (pypdfium2, no PIL).

Examples
--------
>>> import numpy as np
>>> png_bytes(np.zeros((2, 3, 3), dtype=np.uint8))[:8]
b'\\x89PNG\\r\\n\\x1a\\n'
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pypdfium2 as pdfium


def pdf_text(pdf: bytes) -> str:
    """The text of every page of ``pdf``."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def pdf_to_png(pdf: bytes, page: int = 0, dpi: int = 100) -> bytes:
    """Page ``page`` of ``pdf`` drawn by PDFium, as PNG bytes."""
    doc = pdfium.PdfDocument(pdf)
    try:
        bitmap = doc[page].render(scale=dpi / 72, rev_byteorder=True)
        pixels = bitmap.to_numpy()  # rows × columns × (RGB or RGBA)
    finally:
        doc.close()
    return png_bytes(pixels)


def png_bytes(pixels: np.ndarray) -> bytes:
    """A PNG of an RGB or RGBA ``uint8`` array (rows × columns × channels), with zlib only."""
    arr = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width, channels = arr.shape
    color = {3: 2, 4: 6}[channels]
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), arr.reshape(height, -1)]).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
