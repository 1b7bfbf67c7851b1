"""The researcher's notebook runs top to bottom against the installed package."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_walkthrough_executes_without_errors():
    nb = nbformat.read(NOTEBOOKS / "walkthrough.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "marker macro-F1" in text and "expected calibration error" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, "confusion matrix and calibration plots"
