"""The layers of docs/architecture.md hold: `lint-imports` keeps the contracts in
pyproject.toml, names every module of the apps, and breaks when a service imports a face
or two modules import each other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("leads", "routing", "scoring", "opportunities", "sdrcrm")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def layer_modules() -> set[str]:
    named = set()
    for layer in contracts()["layers"]["layers"]:
        named.update(part.strip() for part in layer.replace("|", ":").split(":"))
    return named


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the apps and the contracts, to break without touching the real tree."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_module_of_the_apps_sits_in_a_layer():
    graph = grimp.build_graph(*APPS)
    named = layer_modules()
    unplaced = sorted(
        module for module in graph.modules
        if ".migrations" not in module and module not in APPS
        and not any(module == layer or module.startswith(f"{layer}.") for layer in named)
    )
    assert unplaced == [], f"name these modules in a layer of pyproject.toml's contract: {unplaced}"


def test_the_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_a_service_importing_a_face_breaks_the_layers(tree):
    with (tree / "leads" / "lifecycle.py").open("a") as module:
        module.write("\nfrom leads.api import serializers as _face  # noqa\n")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "leads.lifecycle is not allowed to import leads.api" in result.stdout


def test_an_import_cycle_between_services_breaks_the_layers(tree):
    # leads.services already imports leads.lifecycle: the way back closes a cycle.
    with (tree / "leads" / "lifecycle.py").open("a") as module:
        module.write("\nfrom leads import services as _cycle  # noqa\n")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "leads.lifecycle is not allowed to import leads.services" in result.stdout


def test_an_import_cycle_between_faces_breaks_the_acyclic_contract(tree):
    # leads.api.leads imports leads.api.filters; the way back closes a cycle.
    with (tree / "leads" / "api" / "filters.py").open("a") as module:
        module.write("\nfrom leads.api import leads as _cycle  # noqa\n")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "No cycles are allowed in leads.api." in result.stdout


def test_an_engine_importing_django_breaks_the_engines_contract(tree):
    with (tree / "routing" / "engine.py").open("a") as module:
        module.write("\nfrom django.utils import timezone as _django  # noqa\n")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "routing.engine is not allowed to import django" in result.stdout
