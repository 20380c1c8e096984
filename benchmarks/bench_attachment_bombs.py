"""Office files that unpack to far more than they weigh are kept without their text,
quickly and with little memory.

Builds two Word files whose document.xml is repeated paragraphs: one of 66 KB that unpacks
to 10.5 MB, one that unpacks to 84 MB; and, for comparison, an honest 300-page document.
Each is read by the attachment text reader (``innonet.knowledge.extract.text_of``) in a
process of its own; prints the outcome, the time and the peak memory above the process's
idle size. With ``--before`` it also reads the 10.5 MB file as python-docx does (the reader
before the bounds). Asserts nothing about time.

    .venv/bin/python benchmarks/bench_attachment_bombs.py [--before]
"""

import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import docx

PARAGRAPH = b"<w:p><w:r><w:t>" + b"A" * 60 + b"</w:t></w:r></w:p>"
READ = """
import sys, time
from pathlib import Path
from innonet.knowledge import extract
import lxml.etree, pypdf, openpyxl, docx  # loaded before idle is measured

def field(name):
    return next(int(l.split()[1]) * 1024 for l in Path("/proc/self/status").read_text().splitlines()
                if l.startswith(name + ":"))

idle, start = field("VmRSS"), time.perf_counter()
path, how = Path(sys.argv[1]), sys.argv[2]
try:
    if how == "before":
        document = docx.Document(str(path))
        outcome = f"read {sum(len(p.text) for p in document.paragraphs):,} characters"
    else:
        text = extract.text_of(path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        outcome = f"read {len(text or ''):,} characters"
except extract.TooLarge as bound:
    outcome = f"kept without text ({bound})"
print(f"{outcome}; {time.perf_counter() - start:.2f} s; peak {(field('VmHWM') - idle) / 1e6:.1f} MB above idle")
"""


def word_file(unpacked_bytes: int) -> bytes:
    """A real Word file whose document.xml is replaced by ``unpacked_bytes`` of paragraphs."""
    honest = io.BytesIO()
    docx.Document().save(honest)
    body = PARAGRAPH * (unpacked_bytes // len(PARAGRAPH))
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
           b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           + body + b"</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(honest) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in source.infolist():
            bomb.writestr(info.filename, xml if info.filename == "word/document.xml" else source.read(info))
    return out.getvalue()


def honest_file() -> bytes:
    document = docx.Document()
    for n in range(300 * 40):  # about 300 pages of varied sentences
        document.add_paragraph(f"Paragraph {n}: grease resistance of coating sample {n * 7919 % 10007} "
                               f"measured at {n % 90} degrees with the kit test.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def main() -> None:
    files = {"Word bomb, 10.5 MB of XML": word_file(10_500_000), "Word bomb, 84 MB of XML": word_file(84_000_000),
             "honest 300-page document": honest_file()}
    with tempfile.TemporaryDirectory() as folder:
        for name, content in files.items():
            path = Path(folder) / "file.docx"
            path.write_bytes(content)
            with zipfile.ZipFile(path) as archive:
                unpacked = archive.getinfo("word/document.xml").file_size
            runs = [("bounded reader", "now")] + ([("python-docx (before)", "before")]
                                                   if "--before" in sys.argv and unpacked < 20_000_000 else [])
            for label, how in runs:
                result = subprocess.run([sys.executable, "-c", READ, str(path), how], capture_output=True, text=True)
                print(f"{name} ({len(content) / 1e3:,.0f} KB, document.xml {unpacked / 1e6:.1f} MB), {label}: "
                      f"{result.stdout.strip() or result.stderr.strip()[-300:]}")


if __name__ == "__main__":
    main()
