"""The offline backend: BM25 ranking, corpus loading, pages added at run time."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from relaystack.search import SearchConfigError, SearchResult, build_offline
from relaystack.search.bm25 import K1, B, Bm25Index
from relaystack.search.config import OfflineConfig
from relaystack.search.corpus import CorpusError, load_directory, load_pages_file
from relaystack.search.offline import OfflineBackend, excerpt

PAGES = [
    SearchResult("https://a.example/saturn", "Saturn", "Saturn has rings of ice."),
    SearchResult("https://b.example/planets", "Planets", "Saturn, Jupiter and Mars are planets."),
    SearchResult("https://docs.c.example/moons", "Moons", "Titan orbits Saturn."),
    SearchResult("https://d.example/cooking", "Cooking", "Rings of onion, fried."),
]


def test_bm25_scores_follow_the_documented_formula() -> None:
    index: Bm25Index[str] = Bm25Index()
    index.put("x", ["ice", "ice", "rock"])
    index.put("y", ["rock"])
    ranked = dict(index.rank("ice rock"))
    average = (3 + 1) / 2

    def part(tf: int, df: int, length: int) -> float:
        idf = math.log(1 + (2 - df + 0.5) / (df + 0.5))
        return idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))

    assert ranked["x"] == pytest.approx(part(2, 1, 3) + part(1, 2, 3))
    assert ranked["y"] == pytest.approx(part(1, 2, 1))
    assert list(index.rank("ice rock")) == sorted(ranked.items(), key=lambda kv: -kv[1])


def test_bm25_replacing_and_removing_documents_updates_the_statistics() -> None:
    index: Bm25Index[str] = Bm25Index()
    index.put("x", ["ice"])
    index.put("x", ["rock"])  # replaced, not added
    assert len(index) == 1 and index.rank("ice") == []
    index.remove("x")
    assert index.rank("rock") == [] and len(index) == 0


async def test_a_title_match_and_a_rare_term_rank_first() -> None:
    backend = OfflineBackend(PAGES)
    results = await backend.search("saturn rings", max_results=3)
    assert [r.url for r in results] == [
        "https://a.example/saturn",  # both terms, "saturn" in the title too
        "https://d.example/cooking",  # "rings" in the title: rarer than "saturn"
        "https://docs.c.example/moons",  # shorter than the planets page
    ]
    assert await backend.search("pluto", max_results=3) == []


async def test_allowed_domains_and_subdomains_in_the_offline_corpus() -> None:
    backend = OfflineBackend(PAGES)
    results = await backend.search("saturn", max_results=5, allowed_domains=["c.example"])
    assert [r.url for r in results] == ["https://docs.c.example/moons"]


async def test_pages_added_at_run_time_are_found_and_replace_the_same_url() -> None:
    backend = OfflineBackend(PAGES)
    backend.add_pages(
        [
            SearchResult("https://e.example/pluto", "Pluto", "Pluto is a dwarf planet."),
            SearchResult("https://a.example/saturn", "Saturn", "Saturn has 146 moons."),
        ]
    )
    assert len(backend) == 5
    (pluto,) = await backend.search("pluto", max_results=5)
    assert pluto.url == "https://e.example/pluto"
    (replaced,) = await backend.search("146", max_results=5)
    assert replaced == SearchResult("https://a.example/saturn", "Saturn", "Saturn has 146 moons.")
    assert await backend.search("ice", max_results=5) == []  # the old text is gone


async def test_results_are_excerpts_sized_by_the_context_size() -> None:
    filler = " ".join(["word"] * 400)
    page = SearchResult("https://f.example/", "Long", f"{filler}\nThe saturn paragraph. {filler}")
    backend = OfflineBackend([page])
    (low,) = await backend.search("saturn", max_results=1, context_size="low")
    (high,) = await backend.search("saturn", max_results=1, context_size="high")
    assert low.content.startswith("The saturn paragraph.") and low.content.endswith(" ...")
    assert len(low.content) <= 400 + 4 < len(high.content) <= 3000 + 4


def test_an_excerpt_starts_just_before_a_hit_deep_in_a_long_paragraph() -> None:
    text = " ".join(["filler"] * 200) + " the saturn part " + " ".join(["tail"] * 200)
    cut = excerpt(text, "saturn", 100)
    assert cut.startswith("... ") and "saturn" in cut and len(cut) <= 100 + 8


def test_a_directory_corpus_reads_text_markdown_and_html(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "rings.md").write_text("Intro line\n# Saturn's rings\nIce and rock.")
    (tmp_path / "moon.html").write_text(
        "<html><head><title>Titan</title><style>p {color: red}</style></head>"
        "<body><h1>Heading</h1><p>Titan has   lakes.</p><script>var x;</script></body></html>"
    )
    (tmp_path / "notes.txt").write_text("\n  Plain notes  \nabout Mars.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    pages = load_directory(tmp_path, base_url="https://docs.example/")
    assert pages == [
        SearchResult(
            "https://docs.example/guides/rings.md",
            "Saturn's rings",
            "Intro line\n# Saturn's rings\nIce and rock.",
        ),
        SearchResult("https://docs.example/moon.html", "Titan", "Heading\nTitan has lakes."),
        SearchResult("https://docs.example/notes.txt", "Plain notes", "Plain notes  \nabout Mars."),
    ]
    assert load_directory(tmp_path)[2].url == (tmp_path / "notes.txt").resolve().as_uri()


def test_a_pages_file_and_its_mistakes(tmp_path: Path) -> None:
    good = tmp_path / "pages.json"
    good.write_text(json.dumps({"pages": [{"url": "https://x.example/", "content": "text"}]}))
    assert load_pages_file(good) == [SearchResult("https://x.example/", "", "text")]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"title": "no url", "content": "x"}]))
    with pytest.raises(CorpusError, match="page 0 has no 'url'"):
        load_pages_file(bad)


async def test_build_offline_from_config(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Cassini\nCassini studied Saturn.")
    pages = tmp_path / "pages.json"
    pages.write_text(json.dumps([{"url": "https://y.example/", "title": "Y", "content": "Saturn"}]))
    config = OfflineConfig(type="offline", directory=tmp_path, pages_file=pages)
    backend = build_offline(config)
    assert len(backend) == 2
    assert len(await backend.search("saturn", max_results=5)) == 2
    with pytest.raises(SearchConfigError, match="does not exist"):
        build_offline(OfflineConfig(type="offline", directory=tmp_path / "missing"))
