"""Generate damaged and hostile inputs: what a scraped batch throws at the toolkit.

``generate_hostile(out_dir, seed, count)`` writes ``count`` inputs, cycling through
``KINDS`` so that any ``count >= len(KINDS)`` has every kind at least once; sizes,
offsets and variants vary with ``seed``, and the same seed gives the same files.
No file is a report: each must end as an error record, never as a crash, a hang or
gigabytes of memory.  The few kinds that cost disk or time are capped per batch,
so 150 inputs take well under 300 MB (most big files are sparse) and seconds to
write.  File names start with the index and the kind (``017_docx_bomb.docx``).

Everything is written by hand (zip members, PDF objects, PNG chunks) so that the
bytes are exactly what a test needs and do not depend on library versions; only
the encrypted PDF, JPEG and TIFF come from PyMuPDF, OpenCV and Pillow.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MB = 10**6
# Fixed zip timestamps: the same seed must give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Not reports: notes, ads, menus.  None mentions 信息公开 together with 年度报告.
_NOTES = [
    "会议纪要：今天讨论了食堂菜单和停车位安排。",
    "通知：本周五下午进行消防演练，请各科室做好准备。",
    "关于办公用品采购的说明，请于月底前提交需求。",
    "值班安排表已更新，请大家及时查看并确认。",
    "图书室新到一批期刊，欢迎借阅。",
]
_SPAM = [
    "加微信领取优惠券，限时抢购！",
    "点击这里，免费下载最新电影。",
    "代开发票，价格优惠，诚信经营。",
    "高薪招聘兼职，日结工资，在家即可完成。",
    "恭喜您中奖了，请点击链接领取奖品。",
]
_ASCII_NOTES = "Meeting notes: the canteen menu and parking were discussed; no decisions were taken. "


@dataclass(frozen=True)
class Kind:
    name: str
    make: Callable[[random.Random, Path], Path]  # (rng, stem without suffix) -> the path written
    most: int = 1_000_000  # copies at most per batch: for kinds that cost disk or time


def _notes(rng: random.Random, lines: int = 6) -> str:
    return "\n".join(rng.choice(_NOTES) for _ in range(lines)) + "\n"


# --- zip, written by hand ---------------------------------------------------------


@dataclass
class _Member:
    name: str
    data: bytes  # as stored in the zip (deflated or not)
    crc: int
    size: int  # declared inflated size
    method: int = 8  # 8 deflate, 0 stored


def _deflated(name: str, raw: bytes) -> _Member:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _Member(name, c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw))


def _write_zip(path: Path, members: list[_Member]) -> None:
    """A plain zip (no zip64): local headers, data, central directory, end record."""
    dos_time, dos_date = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00
    body = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        offset = len(body)
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, m.method, dos_time, dos_date, m.crc & 0xFFFFFFFF, len(m.data), m.size & 0xFFFFFFFF, len(name), 0)
        body += name + m.data
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, m.method, dos_time, dos_date, m.crc & 0xFFFFFFFF, len(m.data), m.size & 0xFFFFFFFF, len(name), 0, 0, 0, 0, 0, offset
        )
        central += name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="png" ContentType="image/png"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_PIC_NS = (
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)


def _document_xml(rng: random.Random, prolog: str = "", extra: str = "", picture: bool = False) -> bytes:
    paras = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in _notes(rng).splitlines())
    cells = "".join(f"<w:tc><w:p><w:r><w:t>{rng.randrange(100)}</w:t></w:r></w:p></w:tc>" for _ in range(3))
    table = f"<w:tbl><w:tr>{cells}</w:tr></w:tbl>"
    pic = (
        '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="100" cy="100"/><wp:docPr id="1" name="p"/>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
        '<pic:nvPicPr><pic:cNvPr id="1" name="p"/><pic:cNvPicPr/></pic:nvPicPr>'
        '<pic:blipFill><a:blip r:embed="rId9"/></pic:blipFill><pic:spPr/></pic:pic></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r></w:p>"
        if picture
        else ""
    )
    ns = f"{_W} {_PIC_NS}" if picture else _W
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}<w:document {ns}><w:body>{paras}{extra}{table}{pic}</w:body></w:document>'
    return xml.encode("utf-8")


def _docx_members(rng: random.Random, document: bytes | None = None, picture: bytes | None = None) -> list[_Member]:
    members = [
        _deflated("[Content_Types].xml", _CONTENT_TYPES.encode()),
        _deflated("_rels/.rels", _RELS.encode()),
        _deflated("word/document.xml", document if document is not None else _document_xml(rng, picture=picture is not None)),
    ]
    if picture is not None:
        rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.png"/>'
            "</Relationships>"
        )
        members += [_deflated("word/_rels/document.xml.rels", rels.encode()), _Member("word/media/image1.png", picture, zlib.crc32(picture), len(picture), 0)]
    return members


# --- PDF, written by hand -------------------------------------------------------------


def _pdf(pages: list[tuple[bytes, bytes]], mediabox: tuple[float, float] = (595, 842), images: list[bytes] | None = None, shared_content: bool = False) -> bytes:
    """A PDF of ``pages`` (content stream, resources dict); ``images`` are extra XObject objects.

    Objects: 1 catalog, 2 page tree, 3 font, 4.. images, then per page its page object
    and content (or one content stream shared by every page).
    """
    images = images or []
    objs: dict[int, bytes] = {3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    for k, img in enumerate(images):
        objs[4 + k] = img
    n = 4 + len(images)
    kids = []
    shared = None
    for content, resources in pages:
        if shared_content and shared is not None:
            content_ref = shared
        else:
            objs[n] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
            content_ref = n
            shared = n if shared_content else None
            n += 1
        objs[n] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Resources %s /Contents %d 0 R >>" % (mediabox[0], mediabox[1], resources, content_ref)
        kids.append(n)
        n += 1
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num] if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


_FONT = b"<< /Font << /F1 3 0 R >> >>"


def _text_page(rng: random.Random) -> tuple[bytes, bytes]:
    lines = [_ASCII_NOTES[: 40 + rng.randrange(40)] for _ in range(3 + rng.randrange(5))]
    ops = b"".join(b"BT /F1 11 Tf 50 %d Td (%s) Tj ET\n" % (780 - 20 * i, line.encode("ascii")) for i, line in enumerate(lines))
    return ops, _FONT


def _zeros_deflated(size: int, block: int, *, wrapped: bool) -> tuple[bytes, int]:
    """``size`` zero bytes deflated cheaply, and their CRC-32 (raw) or the stream with its zlib wrapper.

    After a full flush deflate forgets what came before, so compressing the same block
    again gives the same bytes: one block is compressed, then repeated.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = b"\0" * block
    unit = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    n, rest = divmod(size, block)
    body = unit * n + c.compress(b"\0" * rest) + c.flush()
    check = 1 if wrapped else 0
    for _ in range(n):
        check = zlib.adler32(zeros, check) if wrapped else zlib.crc32(zeros, check)
    tail = b"\0" * rest
    check = zlib.adler32(tail, check) if wrapped else zlib.crc32(tail, check)
    if wrapped:
        return b"\x78\xda" + body + struct.pack(">I", check & 0xFFFFFFFF), check
    return body, check & 0xFFFFFFFF


def _image_object(width: int, height: int, *, bpc: int = 8, gray: bool = True, real: bool = False) -> bytes:
    """An image XObject declaring ``width``×``height``: with ``real``, deflated zeros of its full size; else a few bytes."""
    if real:
        row = (width * bpc * (1 if gray else 3) + 7) // 8
        stream, _ = _zeros_deflated(row * height, row * 64, wrapped=True)
    else:
        stream = zlib.compress(b"\0" * 64)
    cs = b"/DeviceGray" if gray else b"/DeviceRGB"
    return (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent %d /Filter /FlateDecode /Length %d >>\nstream\n" % (width, height, cs, bpc, len(stream))
        + stream
        + b"\nendstream"
    )


# --- pictures -------------------------------------------------------------------------


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _png_header(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR with a tiny IDAT: the header says ``width``×``height``, the data is a stub."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b"")


def _small_png(rng: random.Random, width: int = 64, height: int = 48) -> bytes:
    rows = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(width * 3)) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(rows)) + _png_chunk(b"IEND", b"")


def _jpeg(rng: random.Random) -> bytes:
    import cv2
    import numpy as np

    gen = np.random.default_rng(rng.randrange(2**32))
    h, w = 240 + rng.randrange(240), 320 + rng.randrange(320)
    img = (np.linspace(0, 255, w, dtype=np.float32)[None, :, None] + gen.normal(0, 30, (h, w, 3))).clip(0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return buf.tobytes()


# --- the kinds ------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no disk (a hole)."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def k_empty(rng: random.Random, stem: Path) -> Path:
    return _write(stem.with_suffix(rng.choice([".txt", ".pdf", ".docx", ".html", ".png"])), b"")


def k_binary_txt(rng: random.Random, stem: Path) -> Path:
    return _write(stem.with_suffix(".txt"), rng.randbytes(1024 + rng.randrange(200_000)))


def k_utf16_junk(rng: random.Random, stem: Path) -> Path:
    # Every other byte zero: looks like UTF-16-LE without a BOM, decodes to control characters.
    units = bytes(rng.randrange(0, 0x20) if rng.random() < 0.6 else rng.randrange(0x20, 0x100) for _ in range(2000 + rng.randrange(20_000)))
    return _write(stem.with_suffix(".txt"), b"".join(bytes([u, 0]) for u in units))


def k_blank_lines(rng: random.Random, stem: Path) -> Path:
    line = rng.choice([b"\n", b"\r\n", b"   \n", b"\t\n"])
    return _write(stem.with_suffix(".txt"), line * (40_000 + rng.randrange(60_000)))


def k_spam_text(rng: random.Random, stem: Path) -> Path:
    text = "\n".join(rng.choice(_SPAM) for _ in range(50 + rng.randrange(500)))
    return _write(stem.with_suffix(rng.choice([".txt", ".md"])), text.encode(rng.choice(["utf-8", "gb18030"])))


def k_bad_text(rng: random.Random, stem: Path) -> Path:
    notes = _notes(rng, 200)
    variant = rng.randrange(4)
    if variant == 0:  # NULs sprinkled through the text
        data = b"".join(ch.encode() + (b"\0" if rng.random() < 0.05 else b"") for ch in notes)
    elif variant == 1:  # half UTF-8, half GBK
        half = len(notes) // 2
        data = notes[:half].encode("utf-8") + notes[half:].encode("gb18030")
    elif variant == 2:  # a UTF-8 BOM, then junk
        data = b"\xef\xbb\xbf" + rng.randbytes(5000)
    else:  # a UTF-16 BOM, then an odd number of junk bytes
        data = b"\xff\xfe" + rng.randbytes(5001)
    return _write(stem.with_suffix(".txt"), data)


def k_long_line(rng: random.Random, stem: Path) -> Path:
    unit = rng.choice(_NOTES).encode()
    return _write(stem.with_suffix(".txt"), unit * ((1 * MB + rng.randrange(2 * MB)) // len(unit)))


def k_sparse_huge(rng: random.Random, stem: Path) -> Path:
    suffix, size = rng.choice([(".txt", 25 * MB), (".html", 30 * MB), (".pdf", 250 * MB), (".docx", 250 * MB)])
    return _sparse(stem.with_suffix(suffix), size + rng.randrange(MB))


def k_html_big(rng: random.Random, stem: Path) -> Path:
    """A 50 MB page, written as a stream: very wide (paragraphs) or very deep (nested divs)."""
    path = stem.with_suffix(".html")
    target = 50 * MB + rng.randrange(MB)
    deep = rng.random() < 0.5
    unit = b"<div>" if deep else ("<p>" + rng.choice(_NOTES) + "</p>\n").encode()
    chunk = unit * (MB // len(unit))
    with open(path, "wb") as f:
        f.write(b"<html><head><meta charset='utf-8'></head><body>")
        written = 0
        while written < target:
            f.write(chunk)
            written += len(chunk)
        f.write(b"</body></html>")
    return path


def k_html_nested(rng: random.Random, stem: Path) -> Path:
    depth = 100_000 + rng.randrange(50_000)
    tag = rng.choice(["div", "span", "table", "b"])
    body = f"<{tag}>" * depth + rng.choice(_NOTES) + f"</{tag}>" * depth
    return _write(stem.with_suffix(".html"), f"<html><body>{body}</body></html>".encode())


def k_html_spans(rng: random.Random, stem: Path) -> Path:
    """A table whose cells claim absurd row and column spans."""
    rows = "".join(
        "<tr>" + "".join(f'<td rowspan="{rng.choice(["2147483647", "99999", "-5", "x"])}" colspan="{rng.choice(["99999", "1e9", "0"])}">{rng.randrange(9)}</td>' for _ in range(4)) + "</tr>"
        for _ in range(4 + rng.randrange(8))
    )
    return _write(stem.with_suffix(".html"), f"<html><body><p>{rng.choice(_NOTES)}</p><table>{rows}</table></body></html>".encode())


def _laughs(levels: int = 10) -> str:
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels)]
    return "".join(ents)


def k_html_entities(rng: random.Random, stem: Path) -> Path:
    page = f"<!DOCTYPE html [{_laughs()}]><html><body><p>&lol9;</p><p>{rng.choice(_NOTES)}</p></body></html>"
    return _write(stem.with_suffix(rng.choice([".html", ".xhtml"])), page.encode())


def k_html_junk(rng: random.Random, stem: Path) -> Path:
    """Binary junk inside <html>, or a page whose <meta charset> names a codec that is no document encoding."""
    if rng.random() < 0.5:
        codec = rng.choice(["punycode", "zlib", "unicode_escape", "x-no-such-charset"])
        body = b"abc-" * (250_000 + rng.randrange(250_000))  # punycode decodes this in quadratic time
        return _write(stem.with_suffix(".html"), b'<html><head><meta charset="%s"></head><body>' % codec.encode() + body + b"</body></html>")
    return _write(stem.with_suffix(".html"), b"<html><body>" + rng.randbytes(2000 + rng.randrange(50_000)) + b"</body></html>")


def k_html_img_bomb(rng: random.Random, stem: Path) -> Path:
    """A saved page whose picture (in its _files folder) declares 40000×40000 pixels."""
    page = stem.with_suffix(".html")
    assets = stem.parent / f"{stem.name}_files"
    assets.mkdir(exist_ok=True)
    (assets / "table.png").write_bytes(_png_header(40_000, 40_000 + rng.randrange(1000)))
    html = f'<html><body><p>{rng.choice(_NOTES)}</p><img src="{assets.name}/table.png" alt="表格"></body></html>'
    return _write(page, html.encode())


def k_docx_deflate(rng: random.Random, stem: Path) -> Path:
    """Damaged deflate data: bytes flipped inside word/document.xml's compressed stream."""
    members = _docx_members(rng)
    doc = members[2]
    data = bytearray(doc.data)
    for _ in range(1 + rng.randrange(4)):
        pos = rng.randrange(len(data) // 4, len(data) - 1)
        data[pos] ^= 1 + rng.randrange(255)
    doc.data = bytes(data)
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    return path


def k_docx_truncated(rng: random.Random, stem: Path) -> Path:
    members = _docx_members(rng, picture=_small_png(rng))
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    data = path.read_bytes()
    return _write(path, data[: int(len(data) * rng.uniform(0.05, 0.97))])


def k_docx_entities(rng: random.Random, stem: Path) -> Path:
    """document.xml with a DTD: billion laughs, or an external entity (XXE)."""
    if rng.random() < 0.6:
        prolog = f"<!DOCTYPE w:document [{_laughs()}]>"
        extra = "<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>"
    else:
        prolog = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        extra = "<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>"
    members = _docx_members(rng, document=_document_xml(rng, prolog=prolog, extra=extra))
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    return path


def k_docx_other_zip(rng: random.Random, stem: Path) -> Path:
    """A zip that is not a Word file, named .docx: a workbook, a presentation, an ODF text, an EPUB."""
    variant = rng.randrange(4)
    if variant == 0:
        members = [_deflated("[Content_Types].xml", b"<Types/>"), _deflated("xl/workbook.xml", b"<workbook/>"), _deflated("xl/worksheets/sheet1.xml", b"<worksheet/>")]
    elif variant == 1:
        members = [_deflated("[Content_Types].xml", b"<Types/>"), _deflated("ppt/presentation.xml", b"<presentation/>")]
    elif variant == 2:
        members = [
            _Member("mimetype", b"application/vnd.oasis.opendocument.text", zlib.crc32(b"application/vnd.oasis.opendocument.text"), 39, 0),
            _deflated("content.xml", b"<office:document-content/>"),
        ]
    else:
        members = [_Member("mimetype", b"application/epub+zip", zlib.crc32(b"application/epub+zip"), 20, 0), _deflated("META-INF/container.xml", b"<container/>")]
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    return path


def k_docx_bomb(rng: random.Random, stem: Path) -> Path:
    """A member that inflates to over 1 GB from about 1 MB; in one variant its header claims 1 kB."""
    inflated = (1100 + rng.randrange(900)) * MB
    stream, crc = _zeros_deflated(inflated, MB, wrapped=False)
    lie = rng.random() < 0.3
    bomb = _Member(rng.choice(["word/document.xml", "word/media/image1.png", "word/styles.xml"]), stream, crc, 1000 if lie else inflated)
    members = [m for m in _docx_members(rng) if m.name != bomb.name] + [bomb]
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    return path


def k_docx_members(rng: random.Random, stem: Path) -> Path:
    """A zip listing tens of thousands of empty members."""
    members = _docx_members(rng) + [_Member(f"word/media/x{i}.bin", b"", 0, 0, 0) for i in range(20_000 + rng.randrange(20_000))]
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    return path


def k_docx_junk(rng: random.Random, stem: Path) -> Path:
    """Not a zip at all: random bytes, or an OLE container (a password-protected Word file)."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" if rng.random() < 0.5 else b""
    return _write(stem.with_suffix(".docx"), head + rng.randbytes(4096 + rng.randrange(50_000)))


def k_docx_img_bomb(rng: random.Random, stem: Path) -> Path:
    """A Word file whose embedded picture declares 40000×40000 pixels."""
    members = _docx_members(rng, picture=_png_header(40_000, 40_000 + rng.randrange(1000)))
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    return path


def k_docx_bad_xml(rng: random.Random, stem: Path) -> Path:
    """A zip with word/document.xml that python-docx cannot take: broken XML, or no [Content_Types].xml."""
    if rng.random() < 0.5:
        broken = _document_xml(rng)[: -rng.randrange(20, 200)] + b"<w:p><w:r>"
        members = _docx_members(rng, document=broken)
    else:
        members = [m for m in _docx_members(rng) if m.name != "[Content_Types].xml"]
    path = stem.with_suffix(".docx")
    _write_zip(path, members)
    return path


def k_pdf_truncated(rng: random.Random, stem: Path) -> Path:
    data = _pdf([_text_page(rng) for _ in range(2 + rng.randrange(6))])
    return _write(stem.with_suffix(".pdf"), data[: int(len(data) * rng.uniform(0.05, 0.98))])


def k_pdf_bad_xref(rng: random.Random, stem: Path) -> Path:
    data = _pdf([_text_page(rng) for _ in range(1 + rng.randrange(4))])
    variant = rng.randrange(3)
    xref = data.rindex(b"\nxref\n") + 1
    if variant == 0:  # startxref points into the middle of an object
        data = data[: data.rindex(b"startxref\n") + 10] + b"%d\n%%%%EOF\n" % rng.randrange(10, xref)
    elif variant == 1:  # every xref offset shifted
        table = data[xref:].split(b"\n")
        shifted = [b"%010d 00000 n " % (int(t[:10]) + rng.randrange(1, 50)) if t.endswith(b" n ") else t for t in table]
        data = data[:xref] + b"\n".join(shifted)
    else:  # the xref table replaced by junk
        end = data.index(b"trailer", xref)
        data = data[:xref] + rng.randbytes(end - xref) + data[end:]
    return _write(stem.with_suffix(".pdf"), data)


_PDF_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def _rc4(key: bytes, data: bytes) -> bytes:
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


def _encrypted_pdf(rng: random.Random, user_pw: bytes, owner_pw: bytes = b"owner") -> bytes:
    """A one-page PDF under the standard security handler, revision 2 (RC4, 40-bit), written by hand.

    PDF writers draw the file key at random; this one derives everything from ``rng``,
    so the same seed gives the same bytes.
    """
    import hashlib

    file_id = rng.randbytes(16)
    perms = -4  # every permission bit set but the reserved ones
    owner_key = hashlib.md5((owner_pw + _PDF_PAD)[:32]).digest()[:5]
    o_entry = _rc4(owner_key, (user_pw + _PDF_PAD)[:32])
    key = hashlib.md5((user_pw + _PDF_PAD)[:32] + o_entry + struct.pack("<i", perms) + file_id).digest()[:5]
    u_entry = _rc4(key, _PDF_PAD)
    content, _ = _text_page(rng)
    object_key = hashlib.md5(key + struct.pack("<I", 4)[:3] + b"\0\0").digest()[:10]
    sealed = _rc4(object_key, content)
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: b"<< /Length %d >>\nstream\n" % len(sealed) + sealed + b"\nendstream",
        5: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>",
        6: b"<< /Filter /Standard /V 1 /R 2 /Length 40 /O <%s> /U <%s> /P %d >>" % (o_entry.hex().encode(), u_entry.hex().encode(), perms),
    }
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for num, body in objs.items():
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 7\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, 7))
    fid = file_id.hex().encode()
    out += b"trailer\n<< /Size 7 /Root 1 0 R /Encrypt 6 0 R /ID [<%s><%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (fid, fid, xref)
    return bytes(out)


def k_pdf_encrypted(rng: random.Random, stem: Path) -> Path:
    """Password-protected: a user password is needed to open it."""
    return _write(stem.with_suffix(".pdf"), _encrypted_pdf(rng, user_pw=b"user%d" % rng.randrange(1000)))


def k_pdf_many_pages(rng: random.Random, stem: Path) -> Path:
    page = _text_page(rng)
    return _write(stem.with_suffix(".pdf"), _pdf([page] * (501 + rng.randrange(2500)), shared_content=True))


def k_pdf_huge_page(rng: random.Random, stem: Path) -> Path:
    """A page of absurd size holding only a picture, so OCR would render it whole."""
    side = rng.choice([14_400, 14_400, 200_000])
    img = _image_object(8, 8)
    content = b"q %d 0 0 %d 0 0 cm /Im1 Do Q" % (side, side)
    return _write(stem.with_suffix(".pdf"), _pdf([(content, b"<< /XObject << /Im1 4 0 R >> >>")], mediabox=(side, side), images=[img]))


def k_pdf_huge_image(rng: random.Random, stem: Path) -> Path:
    """A picture declaring 40000×40000 pixels: its data a stub, or 200 MB of real 1-bit pixels."""
    real = rng.random() < 0.5
    img = _image_object(40_000, 40_000, bpc=1 if real else 8, gray=real, real=real)
    text, _ = _text_page(rng) if rng.random() < 0.5 else (b"", b"")
    content = text + b"q 500 0 0 700 50 50 cm /Im1 Do Q"
    return _write(stem.with_suffix(".pdf"), _pdf([(content, b"<< /Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >> >>")], images=[img]))


def k_pdf_junk(rng: random.Random, stem: Path) -> Path:
    variant = rng.randrange(3)
    if variant == 0:
        data = b"%PDF-1.7\n" + rng.randbytes(2000 + rng.randrange(50_000))
    elif variant == 1:  # a scraper saved the server's error page
        data = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
    else:  # a page tree whose Kids point back at itself
        data = _pdf([_text_page(rng)]).replace(b"/Kids [", b"/Kids [2 0 R ", 1)
    return _write(stem.with_suffix(".pdf"), data)


def k_image_huge(rng: random.Random, stem: Path) -> Path:
    """Headers declaring far more pixels than the data holds: PNG, BMP or GIF."""
    variant = rng.randrange(3)
    if variant == 0:
        return _write(stem.with_suffix(".png"), _png_header(40_000, 40_000))
    if variant == 1:
        w, h = 50_000, 50_000 + rng.randrange(1000)
        header = struct.pack("<2sIHHI", b"BM", 54 + 64, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
        return _write(stem.with_suffix(".bmp"), header + b"\0" * 64)
    gif = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0) + b",\0\0\0\0" + struct.pack("<HH", 65535, 65535) + b"\0\x02\x02\x44\x01\0;"
    return _write(stem.with_suffix(".png"), gif)  # a GIF named .png: content decides


def k_jpeg_truncated(rng: random.Random, stem: Path) -> Path:
    data = _jpeg(rng)
    return _write(stem.with_suffix(".jpg"), data[: int(len(data) * rng.uniform(0.2, 0.9))])


def k_png_corrupt(rng: random.Random, stem: Path) -> Path:
    data = bytearray(_small_png(rng, 200, 150))
    idat = data.index(b"IDAT")
    variant = rng.randrange(3)
    if variant == 0:  # bytes flipped inside the compressed pixels
        for _ in range(3):
            data[idat + 8 + rng.randrange(200)] ^= 0xFF
    elif variant == 1:  # cut inside IDAT
        data = data[: idat + 8 + rng.randrange(500)]
    else:  # a zero width in IHDR
        data[16:20] = b"\0\0\0\0"
    return _write(stem.with_suffix(".png"), bytes(data))


def k_tiff_frames(rng: random.Random, stem: Path) -> Path:
    """A multi-page TIFF with more frames than a report has pages."""
    from PIL import Image as PILImage

    frames = [PILImage.new("L", (4, 4), color=k % 256) for k in range(501 + rng.randrange(300))]
    path = stem.with_suffix(".tif")
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="raw")
    return path


def k_image_junk(rng: random.Random, stem: Path) -> Path:
    head = rng.choice([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"II*\x00"])
    return _write(stem.with_suffix(rng.choice([".png", ".jpg", ".tif", ".bmp"])), head + rng.randbytes(1000 + rng.randrange(50_000)))


def k_nonutf8_name(rng: random.Random, stem: Path) -> Path:
    """A file name that is not UTF-8: GBK bytes, or Latin-1 (the content is notes, not a report)."""
    tail = rng.choice([b"\xb9\xab\xbf\xaa", b"\xff\xfe", b"caf\xe9"])
    raw = os.fsencode(stem) + b"_" + tail + b".txt"
    with open(raw, "wb") as f:
        f.write(_notes(rng).encode("utf-8"))
    return Path(os.fsdecode(raw))


def k_fifo(rng: random.Random, stem: Path) -> Path:
    path = stem.with_suffix(rng.choice([".txt", ".pdf", ".html"]))
    os.mkfifo(path)
    return path


def k_device_link(rng: random.Random, stem: Path) -> Path:
    path = stem.with_suffix(rng.choice([".txt", ".pdf", ".docx"]))
    os.symlink(rng.choice(["/dev/zero", "/dev/urandom", "/dev/null"]), path)
    return path


def k_dir_named_pdf(rng: random.Random, stem: Path) -> Path:
    path = stem.with_suffix(rng.choice([".pdf", ".docx"]))
    path.mkdir()
    (path / "notes.dat").write_bytes(b"not an input: no report suffix")
    return path


def k_bad_link(rng: random.Random, stem: Path) -> Path:
    path = stem.with_suffix(rng.choice([".txt", ".docx"]))
    if rng.random() < 0.5:
        os.symlink(path.name + ".missing", path)  # dangling
    else:
        os.symlink(path.name, path)  # a link to itself: ELOOP
    return path


KINDS: tuple[Kind, ...] = (
    Kind("empty", k_empty),
    Kind("binary_txt", k_binary_txt),
    Kind("utf16_junk", k_utf16_junk),
    Kind("blank_lines", k_blank_lines),
    Kind("spam_text", k_spam_text),
    Kind("bad_text", k_bad_text),
    Kind("long_line", k_long_line, most=2),
    Kind("sparse_huge", k_sparse_huge),
    Kind("html_big", k_html_big, most=1),  # 50 MB of real disk
    Kind("html_nested", k_html_nested),
    Kind("html_spans", k_html_spans),
    Kind("html_entities", k_html_entities),
    Kind("html_junk", k_html_junk),
    Kind("html_img_bomb", k_html_img_bomb),
    Kind("docx_deflate", k_docx_deflate),
    Kind("docx_truncated", k_docx_truncated),
    Kind("docx_entities", k_docx_entities),
    Kind("docx_other_zip", k_docx_other_zip),
    Kind("docx_bomb", k_docx_bomb, most=3),
    Kind("docx_members", k_docx_members, most=2),
    Kind("docx_junk", k_docx_junk),
    Kind("docx_img_bomb", k_docx_img_bomb),
    Kind("docx_bad_xml", k_docx_bad_xml),
    Kind("pdf_truncated", k_pdf_truncated),
    Kind("pdf_bad_xref", k_pdf_bad_xref),
    Kind("pdf_encrypted", k_pdf_encrypted),
    Kind("pdf_many_pages", k_pdf_many_pages, most=3),
    Kind("pdf_huge_page", k_pdf_huge_page, most=2),  # rendered for OCR: seconds each
    Kind("pdf_huge_image", k_pdf_huge_image, most=3),
    Kind("pdf_junk", k_pdf_junk),
    Kind("image_huge", k_image_huge),
    Kind("jpeg_truncated", k_jpeg_truncated),
    Kind("png_corrupt", k_png_corrupt),
    Kind("tiff_frames", k_tiff_frames, most=2),
    Kind("image_junk", k_image_junk),
    Kind("nonutf8_name", k_nonutf8_name),
    Kind("fifo", k_fifo),
    Kind("device_link", k_device_link),
    Kind("dir_named_pdf", k_dir_named_pdf),
    Kind("bad_link", k_bad_link),
)
GOOD_PREFIX = "good_"


def kind_of(path: Path) -> str | None:
    """The kind a generated file was made as (from its name), or None for a copied good report."""
    name = os.fsdecode(path.name)
    if name.startswith(GOOD_PREFIX):
        return None
    base = name.split("_", 1)[1] if "_" in name else name
    return next((k.name for k in sorted(KINDS, key=lambda k: -len(k.name)) if base.startswith(k.name)), None)


def _schedule(count: int) -> list[Kind]:
    """``count`` kinds, round-robin over KINDS, each capped at its ``most``."""
    made = {k.name: 0 for k in KINDS}
    out: list[Kind] = []
    while len(out) < count:
        open_kinds = [k for k in KINDS if made[k.name] < k.most]
        if not open_kinds:
            break
        for kind in open_kinds:
            if len(out) == count:
                break
            out.append(kind)
            made[kind.name] += 1
    return out


def generate_hostile(out_dir: Path, seed: int = 0, count: int = 150, good: list[Path] | None = None) -> list[Path]:
    """Write ``count`` hostile inputs (and copies of ``good`` reports, named good_*) into ``out_dir``.

    Returns every input path written, hostile ones first.  ``out_dir`` should be empty:
    existing generated names are replaced.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for index, kind in enumerate(_schedule(count)):
        rng = random.Random(f"{seed}:{index}:{kind.name}")
        stem = out_dir / f"{index:03d}_{kind.name}"
        for old in out_dir.glob(f"{index:03d}_{kind.name}*"):
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
        paths.append(kind.make(rng, stem))
    for src in good or []:
        dest = out_dir / f"{GOOD_PREFIX}{src.name}"
        shutil.copyfile(src, dest)
        paths.append(dest)
    return paths
