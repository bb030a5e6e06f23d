"""`pip install git+<repository>` (the README's Colab instructions) installs
what pyproject.toml declares: every third-party module nnbook imports must be
declared there. A cheap static check; `make check-install` does the real
install in a fresh venv (minutes, so not part of `make test`)."""

import ast
import importlib.metadata
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def imported_top_level_modules() -> set[str]:
    names = set()
    for path in (ROOT / "nnbook").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"nnbook", "__future__"}


def test_every_third_party_import_of_nnbook_is_a_declared_dependency():
    declared = {re.split(r"[<>=!~ \[;]", d)[0].lower().replace("_", "-")
                for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    modules = imported_top_level_modules()
    assert {"jax", "numpy", "matplotlib"} <= modules  # the scan sees nnbook's imports at all
    undeclared = {module: distributions.get(module, ["?"]) for module in modules
                  if not {d.lower().replace("_", "-") for d in distributions.get(module, [])} & declared}
    assert not undeclared, f"nnbook imports these, but pyproject.toml does not declare them: {undeclared}"
