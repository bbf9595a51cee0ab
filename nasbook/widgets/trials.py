"""Browse the trials of a search: pick one (best first), see where its decisions differ from
the winner's, its score and rank, and its learning curve beside the winner's.

Usage (in JupyterLab)::

    nb.widgets.trial_browser(result)                                  # a SearchResult
    nb.widgets.trial_browser(nb.bench.simulate("random", 100), table=nb.bench.load())

A simulated search has no curves of its own: pass the benchmark ``table`` to draw each
architecture's recorded per-epoch curves (one line per seed). Headless, building the browser
and calling ``select(rank=...)`` is safe: figures are PNG bytes in an ``Image`` widget.
"""
import html

import ipywidgets as W
import numpy as np
import pandas as pd

from nasbook.labels import same as _same, text as _text
from nasbook.widgets._render import show_figure

__all__ = ["trial_browser", "TrialBrowser"]

ORDERS = ("best first", "worst first")


class TrialBrowser(W.VBox):
    """A trial dropdown (ranked by score) and a sort toggle above a decision table and a
    learning-curve image.

    ``ranked`` is the prepared trials (:func:`nasbook.explain.search.prepare`) best first with a
    ``rank`` column; ``select(rank=...)`` or ``select(architecture=...)`` picks a trial;
    ``comparison()`` is the decision table, ``figure()`` the curve panel as a matplotlib figure.
    """

    def __init__(self, source, *, objective=None, space=None, table=None):
        from nasbook.explain import search as xs
        from nasbook.results import SearchResult

        if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
            source = SearchResult.load(source)
        self.source = source
        self.result = source if isinstance(source, SearchResult) else None
        self.table = table
        trials = xs.prepare(source, objective=objective, space=space)
        self.direction = trials.attrs["direction"]
        self.objective = trials.attrs["objective"]
        self.decisions = list(trials.attrs["decisions"])
        ranked = trials.sort_values("score", ascending=(self.direction == "min"), kind="stable")
        self.ranked = ranked.assign(rank=np.arange(1, len(ranked) + 1))
        self.ranked.attrs.update(trials.attrs)
        self.winner = str(self.ranked.index[0])
        self._constant = self._constant_values(trials.attrs.get("constant") or [])
        self._curve_cache = {}

        self.order = W.ToggleButtons(options=list(ORDERS), value=ORDERS[0], description="order",
                                     style={"button_width": "90px"})
        self.trial = W.Dropdown(options=self._options(ORDERS[0]), value=self.winner,
                                description="trial", layout=W.Layout(width="560px"))
        self.info = W.HTML()
        self.image = W.Image(format="png")
        self._quiet = False
        self.trial.observe(self._on_trial, names="value")
        self.order.observe(self._on_order, names="value")
        super().__init__([W.HBox([self.trial, self.order]),
                          W.HBox([self.info, self.image])])
        self._redraw()

    # -- data --

    def _constant_values(self, names):
        """Values of decisions that never varied (to find a simulated trial in the table)."""
        if not isinstance(self.source, pd.DataFrame):
            return {}
        return {d: self.source[d].iloc[0] for d in names if d in self.source.columns}

    def _options(self, order):
        rows = self.ranked if order == ORDERS[0] else self.ranked.iloc[::-1]
        return [(f"#{int(r['rank'])}  {r['score']:.4f}  "
                 + ", ".join(_text(r[d]) for d in self.decisions), str(key))
                for key, r in rows.iterrows()]

    @property
    def selected(self) -> str:
        """The architecture key of the selected trial."""
        return self.trial.value

    def row(self, architecture=None) -> pd.Series:
        """The prepared row (decisions, score, n_runs, rank) of one architecture."""
        return self.ranked.loc[self.selected if architecture is None else architecture]

    def select(self, rank=None, *, architecture=None):
        """Select the trial at ``rank`` (1 = the winner) or with this ``architecture`` key."""
        if (rank is None) == (architecture is None):
            raise ValueError("give exactly one of rank=... or architecture=...")
        if rank is not None:
            if not 1 <= int(rank) <= len(self.ranked):
                raise ValueError(f"rank must be between 1 and {len(self.ranked)}, got {rank}")
            architecture = str(self.ranked.index[int(rank) - 1])
        elif architecture not in self.ranked.index:
            raise ValueError(f"no trial built the architecture {architecture!r}")
        self.trial.value = architecture
        return self

    def comparison(self) -> pd.DataFrame:
        """The selected trial's decisions beside the winner's: columns this, winner, differs."""
        this, best = self.row(), self.row(self.winner)
        frame = pd.DataFrame({"this": [this[d] for d in self.decisions],
                              "winner": [best[d] for d in self.decisions],
                              "differs": [not _same(this[d], best[d]) for d in self.decisions]},
                             index=pd.Index(self.decisions, name="decision"))
        return frame

    def curves(self, architecture=None) -> list:
        """Per-epoch values of the objective, one array per run of this architecture (empty
        when the source records none)."""
        key = self.selected if architecture is None else architecture
        if key not in self._curve_cache:
            self._curve_cache[key] = self._find_curves(key)
        return self._curve_cache[key]

    def _find_curves(self, key):
        """Curves come from the source's own accessors: ``SearchResult.architecture_curves``
        for a real search, ``nb.bench.architecture_curves`` of the table for a simulated one."""
        row = self.ranked.loc[key]
        decisions = {d: row[d] for d in self.decisions}
        if self.result is not None:
            return self.result.architecture_curves(key, self.objective, decisions=decisions)
        if self.table is not None:
            from nasbook.bench import architecture_curves

            return architecture_curves(self.table, {**self._constant, **decisions},
                                       self.objective)
        return []

    # -- views --

    def html(self) -> str:
        """The selected trial's rank, score and decisions beside the winner's, as HTML."""
        this, best = self.row(), self.row(self.winner)
        name = html.escape(self.objective.replace("val_", "validation ").replace("_", " "))
        gap = this["score"] - best["score"]
        head = (f"<b>rank {int(this['rank'])} of {len(self.ranked)}</b> &middot; {name} "
                f"<b>{this['score']:.4f}</b>")
        if self.selected != self.winner:
            head += f" (winner {best['score']:.4f}, {gap:+.4f})"
        else:
            head += " &middot; <i>this is the winner</i>"
        head += f" &middot; {int(this['n_runs'])} run(s)"
        rows = []
        for decision, r in self.comparison().iterrows():
            style = ' style="background:#ffe08a"' if r["differs"] else ""
            cells = "".join(f"<td style='padding:2px 8px'>{html.escape(_text(v))}</td>"
                            for v in (r["this"], r["winner"]))
            rows.append(f"<tr{style}><td style='padding:2px 8px'>{html.escape(decision)}</td>"
                        f"{cells}</tr>")
        n_diff = int(self.comparison()["differs"].sum())
        table = ("<table style='border-collapse:collapse;margin-top:4px'><tr>"
                 "<th style='padding:2px 8px'>decision</th><th style='padding:2px 8px'>this "
                 "trial</th><th style='padding:2px 8px'>winner</th></tr>"
                 + "".join(rows) + "</table>")
        note = (f"<div>{n_diff} decision(s) differ from the winner (highlighted)</div>"
                if n_diff else "")
        if not self.has_curves():
            note += ("<div style='color:#666'>no per-epoch curves in this source"
                     + (" (pass table=nb.bench.load() for simulated trials)"
                        if self.result is None and self.table is None else "") + "</div>")
        return f"<div>{head}</div>{table}{note}"

    def has_curves(self) -> bool:
        """Whether the winner has a recorded learning curve."""
        return bool(self.curves(self.winner))

    def figure(self):
        """The selected trial's learning curve(s) beside the winner's, as a matplotlib figure."""
        from nasbook.plot.search_explain import curves_vs_winner

        this = self.row()
        runs = None if self.selected == self.winner else self.curves()
        return curves_vs_winner(runs, self.curves(self.winner), metric=self.objective,
                                label=f"rank {int(this['rank'])}",
                                winner_label="the winner (rank 1)")

    def _redraw(self):
        self.info.value = self.html()
        if self.has_curves():
            self.image.layout.display = None
            show_figure(self.image, self.figure())
        else:
            self.image.layout.display = "none"

    def _on_trial(self, _change):
        if not self._quiet:
            self._redraw()

    def _on_order(self, change):
        keep = self.trial.value
        self._quiet = True
        try:
            self.trial.options = self._options(change["new"])
            self.trial.value = keep
        finally:
            self._quiet = False


def trial_browser(source, *, objective=None, space=None, table=None):
    """Build the browser for a SearchResult, a run directory or a DataFrame of trials.

    ``objective``/``space`` go to :func:`nasbook.explain.search.prepare`; ``table`` (the
    benchmark, ``nb.bench.load()``) supplies learning curves for a simulated search.

    Usage: ``nb.widgets.trial_browser(result)``
    """
    return TrialBrowser(source, objective=objective, space=space, table=table)
