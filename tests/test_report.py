"""nasbook report: one self-contained HTML page for a real small search, parsed section by
section; a search too small for importance says so; and the page opened in a real headless
browser (Debian's chromium driven by playwright) when the machine has one."""
import base64
import math
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import nasbook as nb
from nasbook.cli import main as cli
from nasbook.explain import search as xs
from nasbook.report import R2_TRUSTED, SECTIONS, build_report
from nasbook.results import SearchResult

CHROMIUM = "/usr/bin/chromium"


class Page(HTMLParser):
    """Sections, images, scripts, links and the trials table of a report."""

    def __init__(self, text):
        super().__init__()
        self.sections, self.images, self.external, self.scripts = [], [], [], 0
        self.notes, self.warnings, self.rows, self._in, self._row = [], [], [], None, None
        self.headers, self._th, self._td = [], False, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append((tag, value))
        if tag == "script":
            self.scripts += 1
        if tag == "p" and attrs.get("class") in ("note", "warning", "unavailable"):
            self._in = (attrs["class"], [])
        if tag == "table" and attrs.get("id") == "trials-table":
            self._row = []
        if self._row is not None and tag == "tr":
            self._row = []
        if self._row is not None and tag == "th":
            self._th = True
        if self._row is not None and tag == "td":
            self._row.append("")
            self._td = True

    def handle_endtag(self, tag):
        if tag == "p" and self._in:
            kind, parts = self._in
            (self.warnings if kind != "note" else self.notes).append("".join(parts))
            self._in = None
        if self._row is not None and tag == "tr" and self._row:
            self.rows.append(self._row)
        if tag == "table":
            self._row = None
        if tag == "th":
            self._th = False
        if tag == "td":
            self._td = False

    def handle_data(self, data):
        if self._in:
            self._in[1].append(data)
        if self._th:
            self.headers.append(data)
        elif self._td:
            self._row[-1] += data


@pytest.fixture(scope="session")
def search_run(tmp_path_factory):
    """A real random search on MNIST-1D: the mlp space, 10 trials of 1 epoch on 600 examples."""
    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=600, n_val=200, seed=0)
    space = nb.space.preset("mlp", ds.input_shape, ds.num_classes)
    run_dir = tmp_path_factory.mktemp("report") / "run"
    nb.search(ds, space, "random", max_trials=10, epochs=1, run_dir=run_dir, seed=0,
              progress=False)
    return run_dir


@pytest.fixture(scope="session")
def report(search_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    assert cli(["report", str(search_run), "-o", str(out)]) == 0
    return out


def test_every_section_is_there_with_its_figures_and_nothing_external(report):
    text = report.read_text(encoding="utf-8")
    assert report.stat().st_size < 5e6
    page = Page(text)
    assert page.sections == list(SECTIONS)
    assert page.external == [] and "http://" not in text and "https://" not in text
    # history, learning curves, importance, effects, confusion matrix, integrated gradients
    assert len(page.images) == 6
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.scripts == 1  # the inline sorter, no src
    assert not [w for w in page.warnings if w.startswith("Not available")]


def test_the_page_states_the_run_as_the_run_directory_has_it(search_run, report):
    result = SearchResult.load(search_run)
    page = Page(report.read_text(encoding="utf-8"))
    # the trials table: one row per trial, the objective as recorded
    assert len(page.rows) == len(result) == 10
    column = page.headers.index(result.objective)
    shown = [float(row[column]) for row in page.rows]
    np.testing.assert_allclose(shown, result.trials[result.objective].to_numpy(), rtol=1e-3)
    text = report.read_text(encoding="utf-8")
    assert result.stop_reason in text and "max_trials reached" in text
    # importance: the surrogate's R² as explain.search computes it, and its warning when low
    trials = xs.prepare(result)
    imp = xs.importance(result, methods=["fanova", "shap"], seed=0)
    r2 = imp.attrs["surrogate_r2"]
    low = [w for w in page.warnings if "R²" in w]
    if math.isfinite(r2):
        assert f"R² = {r2:.2f}" in text
        assert bool(low) == (r2 < R2_TRUSTED)
    else:
        assert any(f"could not be cross-validated ({len(trials)} distinct" in w for w in low)
    # the winner and the best model, on the search's own validation split
    assert f"{result.objective} {result.best_score:.4f}" in text
    assert any("evaluated on the search's validation split: 200 examples" in n
               for n in page.notes)


def test_a_search_too_small_for_importance_says_so_instead_of_crashing(search_run, tmp_path):
    small = tmp_path / "small"
    shutil.copytree(search_run, small)
    for trial in sorted(small.glob("trial_*"))[3:]:
        shutil.rmtree(trial)
    page = Page(build_report(small))
    assert page.sections == list(SECTIONS)
    unavailable = [w for w in page.warnings if w.startswith("Not available")]
    assert len(unavailable) == 2  # importance and marginal effects
    assert all("needs at least 5 distinct architectures; the search has 3" in w
               for w in unavailable)
    assert len(page.images) == 4   # history, curves, confusion matrix, attributions


def test_a_run_with_no_finished_trial_yet_still_gets_its_page(search_run, tmp_path):
    empty = tmp_path / "empty"
    shutil.copytree(search_run, empty)
    for trial in empty.glob("trial_*"):
        shutil.rmtree(trial)
    page = Page(build_report(empty))
    assert page.sections == list(SECTIONS) and page.images == []
    assert len([w for w in page.warnings if w.startswith("Not available")]) == 3
    assert {"No trial has finished yet.", "No trials in this run directory yet.",
            "No completed trial, so no model to inspect."} <= set(page.notes)


def test_report_of_a_directory_that_is_not_a_run_fails_clearly(tmp_path, capsys):
    assert cli(["report", str(tmp_path)]) == 1
    assert "is not a search run directory" in capsys.readouterr().err


def test_the_report_in_a_real_headless_browser(request, tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install playwright); "
                    "this check also needs Debian's chromium at /usr/bin/chromium")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    report = request.getfixturevalue("report")  # the search runs only when a browser is here
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete && "
                                                  "e.naturalWidth)")
        assert len(widths) == 6 and all(w > 100 for w in widths)
        # sorting the trials by the objective: ascending, then descending
        headers = page.eval_on_selector_all("#trials-table th", "els => els.map(e => "
                                                                "e.textContent)")
        col = headers.index("val_accuracy")
        th = page.locator("#trials-table th").nth(col)

        def column():
            cells = page.eval_on_selector_all(
                f"#trials-table tbody tr td:nth-child({col + 1})",
                "els => els.map(e => e.dataset.key)")
            return [float(c) for c in cells]

        th.click()
        assert column() == sorted(column()) and len(column()) == 10
        th.click()
        assert column() == sorted(column(), reverse=True)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 50_000
