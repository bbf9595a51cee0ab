"""Every quotation of the source text in the notebooks is verbatim, and lies in the section it
names.

The conventions (what this test extracts and checks):

- **Markdown cells**: a fenced block whose info string starts with ``source`` and names the
  section, e.g.::

      ```source §4.2
      <text copied character for character from the file>
      ```

  The block's content, stripped of leading and trailing blank lines, must occur in the file
  inside that section (the section runs from its heading to the next heading that is not one of
  its subsections, so §3.3 contains §3.3.1). A ``source`` block that names no section fails.
- **Code cells**: the lines strictly between a marker line ``# --- source §5.2 ---`` and the
  next ``# --- end source ---`` are verbatim, by the same rule. The markers may sit in code or
  inside a string literal (notebook 06 runs the source's program from strings, so that each
  failure prints one line instead of a traceback); a start marker without its end marker fails.

- **The claims table** (notebook 14): each row of its ``CLAIMS`` list, ``(id, where, claim,
  ...)``, quotes a Chinese phrase of the source; the phrase must occur verbatim in *every* section
  its ``where`` names (``'§7.3.1, §10.1'`` names two), by the same rule. The rows are read from the
  notebook's code cells as Python literals (``CLAIMS = [...]`` and ``CLAIMS += [...]``), so a row
  that names the wrong section, or none, fails here.

Each quotation is followed in the notebook by an English gloss and a diagnosis in plain prose;
those are ours and are not checked here.
"""
import ast
import json
import re
from pathlib import Path

import pytest

import source_text

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[ \t]*source\b(?P<info>[^\n]*)\n"
                   r"(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
START = re.compile(r"^[ \t]*# --- source (?P<info>[^\n]*?) ---[ \t]*$")
END = re.compile(r"^[ \t]*# --- end source ---[ \t]*$")
SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)")
TEXT = source_text.read()
needs_text = pytest.mark.skipif(TEXT is None, reason=f"the source text {source_text.FILE_NAME} "
                                "was not found (set NASBOOK_SOURCE_TEXT)")


def _strip_blank(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "\n".join(lines)


def _section(info):
    m = SECTION.search(info)
    return m.group(1) if m else None


def quotes(notebook: dict, name: str = "notebook"):
    """[(where, section or None, quoted text)] of one notebook (a parsed .ipynb dict)."""
    out = []
    for i, cell in enumerate(notebook["cells"]):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        where = f"{name} cell {i}"
        if cell["cell_type"] == "markdown":
            for m in FENCE.finditer(src):
                out.append((where, _section(m.group("info")),
                            _strip_blank(m.group("body").split("\n"))))
        elif cell["cell_type"] == "code":
            lines, open_at = src.split("\n"), None
            for j, line in enumerate(lines):
                if START.match(line):
                    if open_at is not None:
                        out.append((where, None, "<start marker inside an open quote>"))
                    open_at, info = j, START.match(line).group("info")
                elif END.match(line) and open_at is not None:
                    out.append((where, _section(info), "\n".join(lines[open_at + 1:j])))
                    open_at = None
            if open_at is not None:
                out.append((where, None, "<start marker without '# --- end source ---'>"))
    return out


def problem(text: str, section, quoted: str):
    """None if ``quoted`` occurs verbatim inside §section of ``text``, else what is wrong."""
    if section is None:
        return "names no section (write e.g. ```source §4.2) or is not closed"
    spans = source_text.sections(text)
    if section not in spans:
        return f"§{section} is not a heading of the source text"
    if not quoted.strip():
        return "is empty"
    start, end = spans[section]
    if quoted in text[start:end]:
        return None
    if quoted in text:
        return f"is in the source text, but not in §{section}"
    # the longest verbatim prefix, to point at the first wrong character
    n = max((k for k in range(len(quoted) + 1) if quoted[:k] in text), default=0)
    return f"is not verbatim: matches up to character {n} ({quoted[max(0, n - 20):n + 20]!r})"


ALL = [(nb.name, q) for nb in NOTEBOOKS
       for q in quotes(json.loads(nb.read_text(encoding="utf-8")), nb.name)]


@needs_text
@pytest.mark.parametrize("where, section, quoted", [q for _, q in ALL],
                         ids=[f"{q[0]}:§{q[1]}" for _, q in ALL])
def test_every_quotation_is_verbatim_and_in_its_section(where, section, quoted):
    assert problem(TEXT, section, quoted) is None, f"{where}: {problem(TEXT, section, quoted)}"


def test_the_notebooks_quote_the_source_where_they_discuss_it():
    """The notebooks that diagnose the source text quote it (a test that finds nothing passes
    nothing)."""
    quoting = {name for name, _ in ALL}
    for prefix in ("01_", "02_", "03_", "04_", "06_"):
        assert any(n.startswith(prefix) for n in quoting), f"notebook {prefix}* quotes nothing"
    assert sum(q[2].count("\n") + 1 for _, q in ALL) > 60   # the §5.2 program alone has ~70 lines


def _notebook(*cells):
    return {"cells": [{"cell_type": kind, "metadata": {}, "source": src} for kind, src in cells]}


@needs_text
def test_a_wrong_quotation_fails():
    good = source_text.fenced_code(TEXT, "5.2", "FullyConnected").split("\n")[6]   # a layer
    assert good.strip().startswith('{"type": "Conv2D"')
    wrong = good.replace('"stride"', '"strides"')
    f1 = "- **F1分数**：准确率和召回率的加权平均。"   # §2.3, verbatim
    nb = _notebook(
        ("markdown", f"The source says:\n\n```source §2.3\n{f1}\n```\n"),
        ("markdown", f"```source §2.3\n{f1.replace('准确率', '精确率')}\n```"),   # corrected
        ("markdown", f"```source §4.3\n{f1}\n```"),                              # wrong §
        ("markdown", f"```source\n{f1}\n```"),                                   # no §
        ("markdown", f"```source §11.1\n{f1}\n```"),                             # no such §
        ("code", f"x = 1\n# --- source §5.2 ---\n{good}\n# --- end source ---\n"),
        ("code", f"# --- source §5.2 ---\n{wrong}\n# --- end source ---"),
        ("code", f"# --- source §5.2 ---\n{good}\n"),                               # unclosed
        ("code", "# an ordinary comment: the source's Pooling2D does not exist"),
    )
    found = quotes(nb, "synthetic")
    verdicts = [problem(TEXT, section, q) for _, section, q in found]
    assert len(found) == 8
    assert verdicts[0] is None and verdicts[5] is None
    assert "not verbatim" in verdicts[1] and "not verbatim" in verdicts[6]
    assert "not in §4.3" in verdicts[2]
    assert "names no section" in verdicts[3] and "names no section" in verdicts[7]
    assert "not a heading" in verdicts[4]


@needs_text
def test_sections_nest_and_skip_code_comments():
    spans = source_text.sections(TEXT)
    assert {"1", "2.3", "3.3.1", "4.2", "5.2", "10.6"} <= set(spans)
    assert spans["3.3"][0] < spans["3.3.1"][0] < spans["3.3.1"][1] <= spans["3.3"][1]
    assert TEXT[slice(*spans["4.2"])].startswith("### 4.2 优化算法")
    assert "# 初始化搜索空间" in TEXT[slice(*spans["3.3.1"])]   # a code comment, not a heading


# --- the claims table of notebook 14 --------------------------------------------------------------

CLAIMS_NOTEBOOK = next((nb for nb in NOTEBOOKS if nb.name.startswith("14_")), None)


def claim_rows(notebook: dict):
    """[(id, where, claim phrase)] of every ``CLAIMS = [...]`` / ``CLAIMS += [...]`` in the code
    cells of a notebook (a parsed .ipynb dict), in order."""
    rows = []
    for cell in notebook["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" or "CLAIMS" not in src:
            continue
        for node in ast.parse(src).body:       # a cell that builds the table must be plain Python
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AugAssign) else [])
            if any(isinstance(t, ast.Name) and t.id == "CLAIMS" for t in targets):
                rows += [tuple(row[:3]) for row in ast.literal_eval(node.value)]
    return rows


def claim_problem(text: str, where: str, phrase: str):
    """None if ``phrase`` occurs verbatim in every section that ``where`` names, else what is
    wrong (the first section it is missing from)."""
    sections = SECTION.findall(where)
    if not sections:
        return f"'where' {where!r} names no section (write e.g. '§7.3.1, §10.1')"
    for section in sections:
        wrong = problem(text, section, phrase)
        if wrong:
            return wrong
    return None


CLAIMS = (claim_rows(json.loads(CLAIMS_NOTEBOOK.read_text(encoding="utf-8")))
          if CLAIMS_NOTEBOOK else [])


def test_the_claims_table_is_read():
    """Notebook 14's table is found, whole (a test that finds nothing passes nothing)."""
    assert CLAIMS_NOTEBOOK is not None, "notebook 14 (the claims table) not found"
    ids = [row[0] for row in CLAIMS]
    assert len(ids) >= 40, f"only {len(ids)} claims rows read from {CLAIMS_NOTEBOOK.name}"
    assert len(set(ids)) == len(ids), "two claims rows share an id"


@needs_text
@pytest.mark.parametrize("claim_id, where, phrase", CLAIMS, ids=[row[0] for row in CLAIMS])
def test_every_claim_is_quoted_verbatim_in_the_sections_it_names(claim_id, where, phrase):
    wrong = claim_problem(TEXT, where, phrase)
    assert wrong is None, f"claims row {claim_id!r} ({where}): the phrase {wrong}"


@needs_text
def test_a_claims_row_with_a_wrong_section_fails():
    book = "由Ian Goodfellow、Yoshua Bengio和Aaron Courville合著的深度学习经典教材"   # §7.1.1 only
    nb = _notebook(
        ("markdown", "CLAIMS in prose is not read"),
        ("code", f"CLAIMS = [('ok', '§7.1.1', {book!r}, 'en', 'true', 'e', 'r')]\n"
                 f"CLAIMS += [('two', '§7.1.1, §10.4', {book!r}, 'en', 'true', 'e', 'r'),\n"
                 f"           ('wrong', '§10.4', {book!r}, 'en', 'true', 'e', 'r'),\n"
                 f"           ('none', 'the books section', {book!r}, 'en', 'true', 'e', 'r'),\n"
                 f"           ('no_such', '§11.2', {book!r}, 'en', 'true', 'e', 'r'),\n"
                 f"           ('edited', '§7.1.1', {book.replace('经典', '')!r}, 'en', 'true', 'e',"
                 f" 'r')]\n"
                 "print(len(CLAIMS))"),
    )
    rows = claim_rows(nb)
    assert [row[0] for row in rows] == ["ok", "two", "wrong", "none", "no_such", "edited"]
    verdicts = {row[0]: claim_problem(TEXT, row[1], row[2]) for row in rows}
    assert verdicts["ok"] is None
    assert "not in §10.4" in verdicts["two"] and "not in §10.4" in verdicts["wrong"]
    assert "names no section" in verdicts["none"]
    assert "not a heading" in verdicts["no_such"]
    assert "not verbatim" in verdicts["edited"]
