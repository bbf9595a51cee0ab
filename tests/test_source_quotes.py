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

Each quotation is followed in the notebook by an English gloss and a diagnosis in plain prose;
those are ours and are not checked here.
"""
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
