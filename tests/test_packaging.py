"""pyproject.toml and environment.yml must list the same requirements."""
import os
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _normal(lines):
    out = {}
    for line in lines:
        req = Requirement(line)
        key = (req.name.lower().replace("_", "-"), str(req.marker) if req.marker else "")
        out[key] = str(req.specifier)
    return out


def _requirements(project):
    """The dependencies and every extra (test, classroom)."""
    return project["dependencies"] + sum(project["optional-dependencies"].values(), [])


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _normal(_requirements(project))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = _normal(line for line in pip_section if not line.startswith("-"))
    assert listed == wanted
    assert "-e ." in pip_section


def test_binder_environment_is_the_same_list_and_installs_nasbook_after():
    """repo2docker (Binder) reads binder/ instead of the root and installs the environment before
    the repository is copied in: the same requirements, one Python, no `-e .`; postBuild
    installs nasbook. Binder itself cannot be reached from here."""
    root = yaml.safe_load((ROOT / "environment.yml").read_text())
    binder = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    pips = [next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
            for env in (root, binder)]
    assert pips[1] == [line for line in pips[0] if line != "-e ."]
    conda = [[d for d in env["dependencies"] if isinstance(d, str)] for env in (root, binder)]
    assert "python=3.12" in conda[1] and [d for d in conda[1] if not d.startswith("python")] \
        == [d for d in conda[0] if not d.startswith("python")]
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK) and "pip install --no-deps ." in post.read_text()


def test_every_dependency_has_floor_and_ceiling():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in _requirements(project):
        spec = str(Requirement(line).specifier)
        assert ">=" in spec and "<" in spec.replace("<=", ""), line


def test_ci_runs_what_the_readme_says():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make lab" in readme


def test_the_wheel_lists_every_package_and_its_data():
    """pyproject lists the packages by hand (nasbook.tables is data/, nasbook.lessons is
    notebooks/), so a new subpackage must be added there; this test says which."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    mapped = setup["package-dir"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "nasbook").rglob(
        "__init__.py")}
    assert found | set(mapped) == listed, f"add {sorted(found - listed)} to pyproject's packages"
    assert mapped == {"nasbook.tables": "data", "nasbook.lessons": "notebooks"}
    for package, folder in mapped.items():
        assert (ROOT / folder / "__init__.py").exists()
        patterns = setup["package-data"][package]
        assert any((ROOT / folder).glob(pattern) for pattern in patterns)
