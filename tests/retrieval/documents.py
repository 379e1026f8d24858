"""Small documents of each kind the vector stores read, made in the test (a PDF too)."""

from __future__ import annotations


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose page shows ``text`` in Helvetica (offsets computed)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


DOCUMENTS: dict[str, bytes] = {
    "volcanoes.txt": (
        b"Volcanoes form where magma from the mantle reaches the surface. Mount Etna in "
        b"Sicily is one of the most active volcanoes in Europe, erupting lava and ash."
    ),
    "bread.md": (
        b"# Baking bread\n\nSourdough bread rises with a starter of wild yeast. Knead the "
        b"dough, let it proof overnight, then bake it in a hot oven until the crust is brown."
    ),
    "tides.html": (
        b"<html><head><title>x</title><script>var hidden = 'quasar';</script></head><body>"
        b"<h1>Ocean tides</h1><p>Tides rise and fall twice a day, pulled by the gravity "
        b"of the Moon and the Sun.</p></body></html>"
    ),
    "chess.json": (
        b'{"topic": "chess", "text": "In chess, the knight moves in an L shape and can '
        b'jump over other pieces. Castling protects the king."}'
    ),
    "rivers.csv": (
        b"river,country,length_km\nNile,Egypt,6650\nAmazon,Brazil,6400\nDanube,Austria,2850\n"
    ),
    "bees.pdf": pdf_with_text(
        "Honey bees pollinate flowers and make honey from nectar in their hive."
    ),
}
