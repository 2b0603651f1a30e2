"""policy/ imports nothing from sim/ (nor agent/, perception/, serving/); its model imports neither
its training nor its inference, and inference imports no training: read from the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

POLICY = Path(__file__).resolve().parents[2] / "policy"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offenders(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{path.relative_to(POLICY.parent)}: {module}"
                  for path in folder.rglob("*.py") for module in imported_modules(path)
                  if module.split(".")[0] in forbidden or any(module.startswith(f + ".") or module == f
                                                               for f in forbidden if "." in f))


def test_policy_imports_nothing_from_sim_or_the_layers_above():
    assert offenders(POLICY, ("sim", "agent", "perception", "serving")) == []


def test_the_model_needs_no_training_or_inference_and_inference_no_training():
    assert offenders(POLICY / "model", ("policy.training", "policy.inference")) == []
    assert offenders(POLICY / "inference", ("policy.training",)) == []
