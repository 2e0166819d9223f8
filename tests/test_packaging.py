"""Set-up stays honest: conda and pip agree, the public API is what the docs say, imports stay light."""

import re
import subprocess
import sys
import tomllib

import yaml

import engine

from conftest import ROOT


def _requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    return project, {re.split(r"[<>=!]", r, maxsplit=1)[0].lower(): r[len(re.split(r"[<>=!]", r, maxsplit=1)[0]):]
                     for r in reqs}


def test_environment_yml_matches_pyproject():
    project, pip = _requirements()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda, pip_section, python = {}, None, None
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section = dep["pip"]
            continue
        name, bounds = re.match(r"([A-Za-z0-9_.-]+)(.*)", dep).groups()
        if name == "python":
            python = bounds
        elif name != "pip":
            conda[name.lower()] = bounds
    assert conda == pip, "environment.yml and pyproject.toml list different packages or bounds"
    assert pip_section == ["-e ."]
    lowest = re.search(r">=\s*([\d.]+)", python).group(1)
    assert project["requires-python"] == f">={lowest}"


def test_public_api_is_documented():
    text = (ROOT / "docs" / "api.md").read_text()
    documented = re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", text, re.M)
    assert sorted(documented) == sorted(engine.__all__)
    assert len(set(engine.__all__)) == len(engine.__all__)
    for name in engine.__all__:
        assert hasattr(engine, name), name


def test_import_engine_stays_light():
    code = ("import sys, engine; heavy = [m for m in ('matplotlib', 'ipywidgets', 'networkx', 'IPython', 'tqdm') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_readme_gives_exactly_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## ", 2)[1]  # the first section after the title
    commands = re.findall(r"^make \w+", quick, re.M)
    assert commands == ["make lab", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _table(text, heading):
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([^`]+)` \| (.+) \|$", section, re.M))


def test_engine_doc_lists_every_event_kind_and_invariant():
    text = (ROOT / "docs" / "engine.md").read_text()
    assert _table(text, "Trace events") == engine.KINDS
    assert _table(text, "Invariants") == engine.INVARIANTS
    assert _table(text, "Business invariants") == engine.EFFECT_INVARIANTS
