"""One self-contained HTML page for any search run directory: ``nasbook report RUN_DIR``.

The page needs no network: figures are the package's own plots (``nasbook.plot``) embedded as
PNG data URIs, tables are HTML, and the trials table sorts with a few lines of inline
JavaScript. It shows what was searched (space, strategy, budgets, stop reason), the best so
far over trials and over time, the trials, which decisions mattered (with the tree
surrogate's cross-validated R² and a warning when it is too low to trust), marginal effects,
the winner beside its runners-up, and the best model's confusion matrix and integrated
gradients on a few validation examples (the dataset is rebuilt from the manifest). Whatever
a small search cannot support (importance needs 5 distinct architectures) is said on the page
instead.

Usage::

    nasbook report runs/demo -o demo.html

    from nasbook.report import write_report
    write_report("runs/demo", "demo.html")
"""
from __future__ import annotations

import base64
import datetime
import html
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["build_report", "write_report", "validation_split", "R2_TRUSTED", "SECTIONS"]

R2_TRUSTED = 0.5   # below this cross-validated R², surrogate-based numbers are not trusted
SECTIONS = ("searched", "progress", "trials", "importance", "effects", "winner", "best-model")
N_EXAMPLES = 4     # validation examples explained by integrated gradients


# --- small HTML helpers -----------------------------------------------------------------------

def _e(value) -> str:
    return html.escape(str(value))


def _figure(fig, alt: str) -> str:
    """A matplotlib figure as an <img> with a PNG data URI; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, *, table_id=None, sortable=False, index=True) -> str:
    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return ""
        if isinstance(v, (float, np.floating)):
            return f"{v:.4g}"
        return str(v)

    frame = frame.reset_index() if index else frame
    attrs = (f' id="{table_id}"' if table_id else "") + (' class="sortable"' if sortable else "")
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            text = cell(v)
            key = f' data-key="{float(v)!r}"' if isinstance(v, (int, float, np.number)) \
                and not isinstance(v, bool) and text else ""
            cells.append(f"<td{key}>{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table{attrs}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _note(text: str, kind="note") -> str:
    return f'<p class="{kind}">{_e(text)}</p>'


def _section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}"><h2>{_e(title)}</h2>\n{body}\n</section>'


# --- the sections -----------------------------------------------------------------------------

def _searched(result) -> str:
    m = result.manifest
    ds = m.get("dataset", {})
    space = m.get("space", {})
    options = m.get("strategy_options") or {}
    rows = [
        ("dataset", f"{ds.get('name')}: {ds.get('n_train')} training, {ds.get('n_val')} "
                    f"validation examples, input {tuple(ds.get('input_shape') or ())}, "
                    f"{ds.get('num_classes')} classes"),
        ("search space", f"{space.get('class', '?')}, {len(result.decisions)} decisions"
                         + (f", {space['size']:,} distinct models" if space.get("size") else "")),
        ("strategy", str(m.get("strategy")) + (
            " (" + ", ".join(f"{k}={v}" for k, v in options.items()) + ")" if options else "")),
        ("objective", f"{result.objective} ({'higher' if result.direction == 'max' else 'lower'}"
                      f" is better)"),
        ("budgets", f"max_trials {m.get('max_trials')}, time budget "
                    f"{m.get('time_budget') or 'none'}"
                    + (" s" if m.get("time_budget") else "")
                    + f", target {m.get('target') if m.get('target') is not None else 'none'}, "
                      f"{m.get('epochs')} epochs per trial (early-stopping patience "
                      f"{m.get('early_stopping_patience')}), batch size {m.get('batch_size')}, "
                      f"seed {m.get('seed')}"),
        ("stop reason", str(result.stop_reason)),
        ("trials", ", ".join(f"{n} {s}" for s, n in result.counts().items() if n) or "none"),
    ]
    body = _table(pd.DataFrame(rows, columns=["", "value"]), index=False)
    sessions = m.get("sessions") or []
    if sessions:
        frame = pd.DataFrame([{"session": i + 1, "started": s.get("started"),
                               "trials run": s.get("trials_run"),
                               "seconds": s.get("seconds"), "stop reason": s.get("stop_reason")}
                              for i, s in enumerate(sessions)])
        body += "<h3>Sessions (each call of search; a resumed search adds one)</h3>"
        body += _table(frame, index=False)
    if space.get("describe"):
        body += f"<details><summary>the space in full</summary><pre>{_e(space['describe'])}" \
                f"</pre></details>"
    return body


def _progress(result) -> str:
    from nasbook import plot

    if result.history().empty:
        return _note("No trial has finished yet.")
    body = _figure(plot.search_history(result), "best so far against trials and time")
    body += _figure(plot.trial_curves(result, result.objective if result.objective in
                                      result.curves() else "val_accuracy"),
                    "learning curves of every trial")
    return body


def _trials(result) -> str:
    frame = result.trials
    if frame.empty:
        return _note("No trials in this run directory yet.")
    columns = ["status", *result.decisions, result.objective]
    columns += [c for c in ("val_f1", "params", "train_time_s", "epochs_run")
                if c != result.objective]
    if frame["failure_reason"].notna().any():
        columns.append("failure_reason")
    if frame["duplicate_of"].notna().any():
        columns.append("duplicate_of")
    shown = frame[[c for c in columns if c in frame.columns]]
    return (_note("Click a column's header to sort by it (again to reverse). An empty decision "
                  "did not shape the model (e.g. the width of a layer that was not built).")
            + _table(shown, table_id="trials-table", sortable=True))


def _importance(result, seed) -> str:
    from nasbook import plot
    from nasbook.explain import search as xs

    trials = xs.prepare(result)
    n = len(trials)
    methods = ["fanova", "shap"] + (["ped_anova"] if n * 0.1 >= 2 else [])
    imp = xs.importance(result, methods=methods, seed=seed)
    r2 = imp.attrs.get("surrogate_r2", math.nan)
    if not (isinstance(r2, float) and math.isfinite(r2)):
        warn = (f"The tree surrogate's R² could not be cross-validated ({n} distinct "
                f"architectures): treat the SHAP column as a guess.")
    elif r2 < R2_TRUSTED:
        warn = (f"Warning: the tree surrogate's cross-validated R² is {r2:.2f} (below "
                f"{R2_TRUSTED}): it predicts unseen trials poorly, so the surrogate-based "
                f"numbers (SHAP, marginal effects) are not to be trusted. Run more trials.")
    else:
        warn = None
    body = _note(f"{n} distinct architectures finished; each column sums to 1. fANOVA: share "
                 f"of the score's variance over the space; SHAP: mean |SHAP| of a tree "
                 f"surrogate" + ("; PED-ANOVA: what separates the top 10% from the rest"
                                 if "ped_anova" in methods else "")
                 + (f". Tree surrogate cross-validated R² = {r2:.2f}." if math.isfinite(r2)
                    else "."))
    if warn:
        body += _note(warn, "warning")
    body += _figure(plot.importance_bars(imp), "decision importance")
    body += _table(imp.sort_values(imp.columns[0], ascending=False))
    body += _note("Trials chosen by evolution, RL or Bayesian optimisation describe the region "
                  "the strategy explored, not the whole space (Moosbauer et al., 2021).")
    return body


def _effects(result, seed) -> str:
    from nasbook import plot
    from nasbook.explain import search as xs

    effects = xs.marginal_effects(result, seed=seed)
    r2 = effects.attrs.get("surrogate_r2", math.nan)
    body = _note("Partial dependence of the surrogate (with the 10th-90th percentile of the "
                 "individual curves) beside the observed mean ± std of the trials with each "
                 "value" + (f"; surrogate R² = {r2:.2f}." if math.isfinite(r2) else "."))
    if math.isfinite(r2) and r2 < R2_TRUSTED:
        body += _note(f"Warning: surrogate R² {r2:.2f} is below {R2_TRUSTED}; read the "
                      f"observed means, not the partial dependence.", "warning")
    return body + _figure(plot.effect_plot(effects), "marginal effects")


def _winner(result) -> str:
    from nasbook.explain import search as xs

    table = xs.winner_vs_runners_up(result)
    return (_note(f"The winner ({table.attrs['winner']}, {result.objective} "
                  f"{table.attrs['winner_score']:.4f}) beside the next {table.attrs['k']}: "
                  f"agree = share of runners-up with the winner's value; effect = mean score "
                  f"of trials with that value minus the mean of all trials.")
            + _table(table))


def validation_split(manifest):
    """The search's dataset rebuilt from its manifest: ``(x, y, class_names, which)``.

    ``which`` says whether the validation split is exactly the search's (same fingerprint) or,
    when it cannot be rebuilt, the dataset's fixed test split (never used by a search)."""
    import nasbook as nb

    info = manifest.get("dataset", {})
    seed = int(manifest.get("seed") or 0)
    ds = nb.load_dataset(info["name"], seed=seed)
    if info.get("n_train", 0) < len(ds.y_train) or info.get("n_val", 0) < len(ds.y_val):
        ds = ds.subset(n_train=info.get("n_train"), n_val=info.get("n_val"), seed=seed)
    from nasbook.rundir import dataset_signature
    if dataset_signature(ds)["fingerprint"] == info.get("fingerprint"):
        return ds.x_val, ds.y_val, ds.class_names, "the search's validation split"
    return ds.x_test, ds.y_test, ds.class_names, (
        "the test split (the search's validation split could not be rebuilt from the "
        "manifest: a custom subset?)")


def _best_model(result) -> str:
    import nasbook as nb
    from nasbook import plot

    if not result.counts()["completed"]:
        return _note("No completed trial, so no model to inspect.")
    name = result.manifest.get("dataset", {}).get("name")
    try:
        x, y, class_names, which = validation_split(result.manifest)
    except (nb.DatasetError, nb.DatasetUnavailableError, KeyError, ValueError, OSError) as exc:
        return _note(f"The dataset {name!r} cannot be rebuilt here ({exc}); no confusion "
                     f"matrix or attribution.")
    model = result.best_model()
    logits = model.predict(x, verbose=0, batch_size=256)
    pred = np.asarray(logits).argmax(axis=1)
    matrix = nb.metrics.confusion_matrix(y, pred, num_classes=len(class_names))
    body = _note(f"Trial {result.best_trial} ({result.objective} {result.best_score:.4f}), "
                 f"evaluated on {which}: {len(y)} examples, accuracy "
                 f"{float(np.mean(pred == y)):.3f}.")
    body += _figure(plot.confusion_heatmap(matrix, class_names), "confusion matrix")
    pick = np.concatenate([np.flatnonzero(pred == y)[:N_EXAMPLES // 2],
                           np.flatnonzero(pred != y)[:N_EXAMPLES // 2]])
    pick = np.sort(np.concatenate([pick, np.setdiff1d(np.arange(len(y)), pick)
                                   [:N_EXAMPLES - len(pick)]]))
    maps = nb.explain.attribute(model, x[pick], method="integrated_gradients")
    body += _note("Integrated gradients (64 steps from a zero baseline) for the predicted class "
                  "on a few examples, right and wrong ones. A heatmap shows what the model "
                  "used, not that it is right: see notebook 07 for its sanity checks.")
    body += _figure(plot.attribution_grid(x[pick], {"integrated gradients": maps},
                                          labels=y[pick], predictions=pred[pick],
                                          class_names=class_names),
                    "integrated gradients")
    return body


# --- the page ---------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 0 auto; padding: 1em 2em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; }
th { background: #f2f2f2; white-space: nowrap; } .scroll { overflow-x: auto; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th:after { content: " \\2195"; color: #999; }
img { max-width: 100%; display: block; margin: 0.8em 0; }
.note { color: #444; } .warning { background: #fff3cd; border-left: 4px solid #e0a800;
  padding: 0.5em 0.8em; }
.unavailable { background: #eef; border-left: 4px solid #88a; padding: 0.5em 0.8em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""

_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var dir = th.dataset.dir === "asc" ? -1 : 1; th.dataset.dir = dir > 0 ? "asc" : "desc";
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        var kx = x.dataset.key, ky = y.dataset.key;
        if (kx !== undefined && ky !== undefined) return dir * (parseFloat(kx) - parseFloat(ky));
        if (kx === undefined && ky !== undefined) return 1;   // blanks last
        if (ky === undefined && kx !== undefined) return -1;
        return dir * x.textContent.localeCompare(y.textContent);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

_TITLES = {"searched": "What was searched", "progress": "Best so far, over trials and time",
           "trials": "The trials", "importance": "Which decisions mattered",
           "effects": "Marginal effects", "winner": "The winner and its runners-up",
           "best-model": "The best model: confusion matrix and attributions"}


def build_report(run_dir, *, seed=0) -> str:
    """The report of ``run_dir`` as one HTML string (see the module doc)."""
    from nasbook.explain.search import SearchExplainError
    from nasbook.results import ResultError, SearchResult

    result = run_dir if isinstance(run_dir, SearchResult) else SearchResult.load(run_dir)
    builders = {"searched": lambda: _searched(result), "progress": lambda: _progress(result),
                "trials": lambda: _trials(result),
                "importance": lambda: _importance(result, seed),
                "effects": lambda: _effects(result, seed), "winner": lambda: _winner(result),
                "best-model": lambda: _best_model(result)}
    sections = []
    for key in SECTIONS:
        try:
            body = builders[key]()
        except (SearchExplainError, ResultError) as exc:   # too few trials, nothing finished
            body = _note(f"Not available for this search: {exc}", "unavailable")
        sections.append(_section(key, _TITLES[key], body))
    nav = " ".join(f'<a href="#{k}">{_e(_TITLES[k])}</a>' for k in SECTIONS)
    title = f"Search report: {result.run_dir.name}"
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{_e(title)}</h1><p>{_e(result.summary())}</p>"
            f'<p class="note">Written by <code>nasbook report</code> on {stamp}. Everything '
            f"is in this one file; no network is needed to read it.</p>"
            f"<nav>{nav}</nav>\n" + "\n".join(sections)
            + f"<script>{_JS}</script></body></html>\n")


def write_report(run_dir, out=None, *, seed=0) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``)."""
    out = Path(out) if out is not None else Path(run_dir) / "report.html"
    text = build_report(run_dir, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
