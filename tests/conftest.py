import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fincli.cli import app
from fincli.workspace import open_workspace

SAMPLE_EXPORTS = sorted((Path(__file__).resolve().parents[1] / "data" / "samples" / "exports").glob("*.csv"))
SHARED_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "bank-samples"


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def ws(home):
    workspace = open_workspace(home)
    yield workspace
    workspace.close()


class Fin:
    """Runs `fin --home HOME ...` in process, the way a user would type it."""

    def __init__(self, home: Path):
        self.home = home
        self.runner = CliRunner()

    def __call__(self, *args: str):
        return self.runner.invoke(app, ["--home", str(self.home), *map(str, args)], catch_exceptions=False)


@pytest.fixture
def fin(home) -> Fin:
    return Fin(home)


@pytest.fixture(scope="module")
def imported_samples(tmp_path_factory) -> Path:
    """A workspace with the bundled sample exports imported (and so categorized on import)."""
    home = tmp_path_factory.mktemp("imported") / "ws"
    result = CliRunner().invoke(app, ["--home", str(home), "import", *map(str, SAMPLE_EXPORTS)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def sample(imported_samples, home, fin) -> Fin:
    """`fin` on a copy of `imported_samples` of this test's own."""
    shutil.copytree(imported_samples, home)
    return fin
