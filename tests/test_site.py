"""The rendered book (`make book`): two tiny notebooks built in quick mode into a folder; every
page exists, every link resolves, every figure is embedded, nothing is loaded from a network."""
from html.parser import HTMLParser

import nbformat
import pytest

from nasbook import book, site


class Tags(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.links, self.images, self.loads, self.widget_notes = [], [], [], 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("script", "link", "iframe", "img", "source") and (
                attrs.get("src") or attrs.get("href")):
            self.loads.append((tag, attrs.get("src") or attrs.get("href")))
        if "nasbook-widget" in (attrs.get("class") or ""):
            self.widget_notes += 1


FIGURE = "import matplotlib.pyplot as plt\nplt.plot([0, 1, 4, 9])\nplt.title('squares')\nplt.show()"


def _notebook(title, goals, code):
    nb = nbformat.v4.new_notebook()
    opening = f"# {title}\n\nWhy this matters.\n\n**After this notebook you will be able to**\n\n"
    opening += "".join(f"{k}. {g}\n" for k, g in enumerate(goals, 1))
    nb.cells = [nbformat.v4.new_markdown_cell(opening),
                nbformat.v4.new_markdown_cell("The loss is $L(w) = \\sum_i (w x_i - y_i)^2$."),
                nbformat.v4.new_code_cell(code)]
    return nb


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("book")
    (root / "notebooks").mkdir()
    first = _notebook("00 · Welcome", ["run a search;", "read its\n   trials table;",
                                      "explain it;", "a fourth goal"], FIGURE)
    second = _notebook("01 · Widgets and figures", ["move a slider"],
                       FIGURE + "\nimport ipywidgets\nipywidgets.IntSlider(3)")
    nbformat.write(first, root / "notebooks" / "00_welcome.ipynb")
    nbformat.write(second, root / "notebooks" / "01_widgets.ipynb")
    (root / "notebooks" / "runtimes.csv").write_text(
        "notebook,quick_s,full_s,full_date,full_outcome,trials_failed_full,note\n"
        "00_welcome.ipynb,12.3,250,2026-11-30,clean,0,core track\n")
    paths = [str(root / "notebooks" / n) for n in ("00_welcome.ipynb", "01_widgets.ipynb")]
    assert book.main([*paths, "--out", str(root / "build"), "--quick", "--timeout", "300"]) == 0
    return root / "build"


def test_every_page_exists_and_every_link_resolves(built):
    pages = sorted(p.name for p in built.glob("*.html"))
    assert pages == ["00_welcome.html", "01_widgets.html", "index.html"]
    for page in pages:
        for href in Tags((built / page).read_text(encoding="utf-8")).links:
            target = href.split("#", 1)[0]
            if target:
                assert not target.startswith(("http:", "https:", "//")), (page, href)
                assert (built / target).is_file(), (page, href)
    index = Tags((built / "index.html").read_text(encoding="utf-8"))
    assert [h for h in index.links] == ["00_welcome.html", "01_widgets.html"]


def test_previous_and_next_links_follow_the_order(built):
    first = Tags((built / "00_welcome.html").read_text(encoding="utf-8")).links
    second = Tags((built / "01_widgets.html").read_text(encoding="utf-8")).links
    assert "01_widgets.html" in first and "00_welcome.html" not in first
    assert "00_welcome.html" in second and "01_widgets.html" not in second
    assert first.count("index.html") == second.count("index.html") == 2  # top and bottom


def test_every_figure_is_embedded_and_nothing_comes_from_a_network(built):
    for name in ("00_welcome.html", "01_widgets.html"):
        text = (built / name).read_text(encoding="utf-8")
        tags = Tags(text)
        assert len(tags.images) == 1 and tags.images[0].startswith("data:image/png;base64,")
        assert [load for load in tags.loads if not load[1].startswith("data:")] == []
        assert "require.min.js" not in text and "MathJax" not in text
        assert "L(w) = \\sum_i" in text  # the TeX stays readable as source
    widgets = Tags((built / "01_widgets.html").read_text(encoding="utf-8"))
    assert widgets.widget_notes == 1


def test_the_front_page_has_titles_goals_and_the_learning_path(built):
    text = (built / "index.html").read_text(encoding="utf-8")
    assert "00 · Welcome" in text and "01 · Widgets and figures" in text
    assert "<li>read its trials table;</li>" in text and "a fourth goal" not in text
    assert "core track" in text and "4 min" in text   # 250 s of the learning-path table
    assert "this build (quick mode)" in text
    assert (built / "runtimes.csv").exists()


def test_front_page_without_a_runtime_table(tmp_path):
    info = site.notebook_info(_notebook("03 · Metrics", ["count"], "pass"), "03_metrics.ipynb")
    assert info == {"path": "03_metrics.ipynb", "page": "03_metrics.html",
                    "title": "03 · Metrics", "goals": ["count"]}
    index = site.write_index([info], tmp_path, runtimes=site.read_runtimes(tmp_path / "no.csv"))
    assert "not measured yet" in index.read_text(encoding="utf-8")
