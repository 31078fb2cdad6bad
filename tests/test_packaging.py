"""The wheel carries models/ and data/ inside the package and installs the `fin` command."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_models_data_and_the_fin_command(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(tmp_path)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "fincli/_models/README.md" in names
    samples = [n for n in names if n.startswith("fincli/_data/samples/exports/") and n.endswith(".csv")]
    assert len(samples) == len(list((ROOT / "data" / "samples" / "exports").glob("*.csv"))) > 0
    assert any(n.startswith("fincli/_data/profiles/") for n in names)
    assert not any(n.startswith("models/") or n.startswith("data/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "fin = fincli.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
