"""nasbook.book: what the reader sees is checked (tracebacks, warnings, tags); failed trials
counted; a real kernel runs a real notebook in a fresh directory, in the mode asked for."""
import json

import nbformat
import pytest

from nasbook.book import count_failed_trials, execute, output_problems


def _cell(outputs, tags=()):
    cell = nbformat.v4.new_code_cell("pass")
    cell.outputs = outputs
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _stream(text, name="stderr"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


@pytest.mark.parametrize("text", [
    "/x/optim.py:81: RuntimeWarning: overflow encountered in square\n  a = a + g ** 2\n",
    "WARNING:tensorflow:5 out of the last 5 calls triggered tf.function retracing\n",
    "ok\nConvergenceWarning: lbfgs failed to converge\n",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
])
def test_a_warning_in_any_stream_is_a_problem_unless_tagged(text):
    assert output_problems(_notebook(_cell([_stream(text)])))[0].startswith("cell 0: unexpected warning")
    assert output_problems(_notebook(_cell([_stream(text, "stdout")])))
    assert output_problems(_notebook(_cell([_stream(text)], tags=["expect-warning"]))) == []


def test_a_traceback_is_a_problem_unless_the_cell_raises_on_purpose():
    error = nbformat.v4.new_output("error", ename="KeyError", evalue="'activation'",
                                   traceback=["Traceback (most recent call last)", "KeyError: 'activation'"])
    printed = _stream("Traceback (most recent call last):\n  File ...\nValueError: bad\n", "stdout")
    problems = output_problems(_notebook(_cell([error]), _cell([printed])))
    assert problems == ["cell 0: KeyError: KeyError: 'activation'", "cell 1: traceback: ValueError: bad"]
    assert output_problems(_notebook(_cell([error], tags=["raises-exception"]))) == []
    # a warning tag does not excuse a traceback
    assert output_problems(_notebook(_cell([error], tags=["expect-warning"])))


def test_plain_output_mentioning_warnings_in_prose_is_not_a_problem():
    text = "the warning above is expected: warnings are explained in the prose\n"
    assert output_problems(_notebook(_cell([_stream(text, "stdout")]))) == []


def test_failed_trials_are_counted_from_nasbook_records_first(tmp_path):
    def trial(name, kt_status, ours=None):
        d = tmp_path / name
        d.mkdir(parents=True)
        (d / "trial.json").write_text(json.dumps({"status": kt_status}))
        if ours:
            (d / "nasbook_trial.json").write_text(json.dumps({"status": ours}))

    trial("raw/trial_0", "COMPLETED")
    trial("raw/trial_1", "FAILED")
    trial("raw/trial_2", "INVALID")
    trial("ours/trial_0", "COMPLETED", ours="failed")     # nasbook's record decides
    trial("ours/trial_1", "FAILED", ours="completed")
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / "trial.json").write_text("{not json")
    assert count_failed_trials(tmp_path) == 3


def test_execute_runs_a_real_kernel_in_the_mode_asked_and_sees_problems(tmp_path):
    nb = _notebook(
        nbformat.v4.new_code_cell("import os, warnings\nprint('quick=' + os.environ['NASBOOK_QUICK'])"),
        nbformat.v4.new_code_cell("warnings.warn('stray', UserWarning)"),
        nbformat.v4.new_code_cell("raise ValueError('on purpose')"),
    )
    nb.cells[2].metadata["tags"] = ["raises-exception"]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    run = execute(path, quick=False, timeout=120)
    assert run.error is None
    assert "quick=0" in run.notebook.cells[0].outputs[0]["text"]
    assert len(run.problems) == 1 and run.problems[0].startswith("cell 1: unexpected warning")
    assert "UserWarning: stray" in run.problems[0]
    assert not run.ok
    quick = execute(path, quick=True, timeout=120)
    assert "quick=1" in quick.notebook.cells[0].outputs[0]["text"]


def test_an_untagged_error_stops_the_run_and_is_reported(tmp_path):
    nb = _notebook(nbformat.v4.new_code_cell("{}['activation']"),
                   nbformat.v4.new_code_cell("print('never')"))
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    run = execute(path, quick=True, timeout=120)
    assert run.error is not None and "KeyError" in run.error
    assert not run.notebook.cells[1].get("outputs")
    with pytest.raises(FileNotFoundError):
        execute(tmp_path / "missing.ipynb", quick=True)
