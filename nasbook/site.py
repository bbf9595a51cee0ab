"""The rendered book: executed notebooks as HTML pages that need no network, and a front page.

Each page is nbconvert's ``lab`` HTML with the figures embedded (PNG data URIs, as nbconvert
writes them; markdown images embedded too) and previous / next / contents links. The ``lab``
template loads require.js, MathJax, Mermaid and the widget manager from CDNs; this template
drops them, so a page opens offline. What that costs: LaTeX in markdown shows as its TeX
source (``$\\sigma(Wx + b)$``) instead of typeset maths, and an ipywidgets output shows a note
("open the notebook to use it") instead of the live widget. Everything else (text, code,
tables, figures, printed output) is as in JupyterLab.

The front page lists the notebooks in order: each one's title (its first heading), its first
learning goals, and, when ``notebooks/runtimes.csv`` exists (columns notebook, quick_s,
full_s, full_date, full_outcome, trials_failed_full, note), the measured runtimes.

Usage (``make book`` runs it through ``python -m nasbook.book``)::

    python -m nasbook.book notebooks/0*.ipynb --out build      # build/index.html

    from nasbook.site import notebook_info, render_page, write_index
"""
from __future__ import annotations

import csv
import html
import re
from pathlib import Path

__all__ = ["notebook_info", "render_page", "write_index", "read_runtimes", "page_name",
           "OFFLINE_NOTE"]

OFFLINE_NOTE = ("Read offline: no script is loaded from the network, so LaTeX shows as its "
                "TeX source and interactive widgets show a note (open the notebook in "
                "JupyterLab to use them).")

_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}
<style type="text/css">
nav.nasbook { font-family: system-ui, sans-serif; display: flex; justify-content: space-between;
  gap: 1em; padding: 0.6em 1em; background: #f4f6f8; border-bottom: 1px solid #dde; }
nav.nasbook.bottom { border-top: 1px solid #dde; border-bottom: none; margin-top: 2em; }
nav.nasbook a { text-decoration: none; } .nasbook-widget { color: #666; font-style: italic; }
</style>
{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
{{ resources.nasbook_nav }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.nasbook_nav_bottom }}
{{ super() }}
{% endblock body_footer %}
{%- block data_widget_view scoped %}
<div class="jp-OutputArea-output nasbook-widget">An interactive widget was here: open the
notebook in JupyterLab to use it.</div>
{%- endblock data_widget_view -%}
{%- block footer %}
{% block footer_js %}{% endblock footer_js %}
</html>
{%- endblock footer %}
"""


def page_name(path) -> str:
    """The HTML file of a notebook: ``03_evaluation_metrics.html``."""
    return f"{Path(path).stem}.html"


def notebook_info(notebook, path) -> dict:
    """``{"path", "page", "title", "goals"}``: the first heading and the first few learning
    goals (the list under "you will be able to" in the opening cell, else its first lines)."""
    title, goals = Path(path).stem, []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        heading = next((ln for ln in lines if re.match(r"^#\s", ln)), None)
        if heading is None:
            continue
        title = heading.lstrip("#").strip()
        text = cell.source
        start = text.lower().find("you will be able to")
        body = text[start:].split("\n", 1)[1] if start >= 0 and "\n" in text[start:] else ""
        items = re.split(r"\n\s*(?:\d+\.|[-*])\s+", "\n" + body)
        goals = [" ".join(item.split()) for item in items[1:] if item.strip()]
        if not goals:
            goals = [" ".join(ln.split()) for ln in lines if ln.strip() and ln != heading][:1]
        break
    return {"path": str(path), "page": page_name(path), "title": title, "goals": goals[:3]}


def _nav(prev, nxt, bottom=False) -> str:
    def link(info, arrow_first):
        if info is None:
            return "<span></span>"
        text = html.escape(info["title"])
        return (f'<a href="{info["page"]}">' + (f"← {text}" if arrow_first else f"{text} →")
                + "</a>")

    return (f'<nav class="nasbook{" bottom" if bottom else ""}">{link(prev, True)}'
            f'<a href="index.html">Contents</a>{link(nxt, False)}</nav>')


def render_page(notebook, info, prev=None, nxt=None) -> str:
    """One executed notebook as an offline HTML page with previous / contents / next links."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader(
        {"nasbook_offline.html.j2": _TEMPLATE})], template_file="nasbook_offline.html.j2",
        embed_images=True)
    resources = {"metadata": {"name": info["title"]},
                 "nasbook_nav": _nav(prev, nxt), "nasbook_nav_bottom": _nav(prev, nxt, True)}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body


def read_runtimes(path) -> dict:
    """``{notebook file name: row}`` from a runtimes table; empty when the file is absent."""
    path = Path(path)
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(row.get("notebook", "")).name: row for row in csv.DictReader(fh)}


def _seconds(value) -> str:
    try:
        s = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min"


def write_index(infos, out, *, runtimes=None, built=None, quick=False) -> Path:
    """Write ``out/index.html``: the notebooks in order (title, goals, runtimes) and the
    learning path from ``runtimes`` (``read_runtimes``'s dict). ``built`` maps a notebook's
    file name to ``(seconds, outcome)`` measured in this build."""
    runtimes, built = runtimes or {}, built or {}
    items = []
    for k, info in enumerate(infos):
        name = Path(info["path"]).name
        goals = "".join(f"<li>{html.escape(g)}</li>" for g in info["goals"])
        measured = built.get(name)
        note = (f'<p class="meta">this build ({"quick" if quick else "full"} mode): '
                f"{_seconds(measured[0])}, {html.escape(measured[1])}</p>" if measured else "")
        items.append(f'<li><a href="{info["page"]}">{html.escape(info["title"])}</a>'
                     f'<ul class="goals">{goals}</ul>{note}</li>')
    if runtimes:
        rows = []
        for info in infos:
            row = runtimes.get(Path(info["path"]).name)
            if not row:
                continue
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                info["title"], _seconds(row.get("quick_s")), _seconds(row.get("full_s")),
                row.get("full_outcome", ""), row.get("trials_failed_full", ""),
                row.get("note", ""))) + "</tr>")
        path_html = ("<table><thead><tr><th>notebook</th><th>quick mode</th><th>full mode</th>"
                     "<th>full-mode outcome</th><th>failed trials (full)</th><th>note</th>"
                     "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    else:
        path_html = ("<p>Runtimes per notebook are not measured yet (notebooks/runtimes.csv "
                     "is absent).</p>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nasbook: Neural Architecture Search, and explaining it</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 900px;
       margin: 0 auto; padding: 1em 2em; color: #222; line-height: 1.45; }}
ul.book {{ list-style: none; padding-left: 0; }} ul.book > li {{ margin: 0.9em 0; }}
ul.book > li > a {{ font-weight: bold; }}
ul.goals {{ color: #444; font-size: 0.92em; }} .meta {{ color: #777; font-size: 0.85em;
  margin: 0.2em 0 0 1.2em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #ddd; padding: 3px 8px; text-align: left; }}
th {{ background: #f2f2f2; }}
</style></head><body>
<h1>nasbook</h1>
<p>Learn Neural Architecture Search by running it, and learn to explain both the models a
search finds and the search itself. Each notebook below was executed
{"in quick mode (small budgets)" if quick else "in full mode"}; its figures are embedded.</p>
<p class="meta">{html.escape(OFFLINE_NOTE)}</p>
<h2 id="notebooks">The notebooks, in order</h2>
<ul class="book">{"".join(items)}</ul>
<h2 id="learning-path">Learning path: runtimes</h2>
{path_html}
</body></html>
"""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
