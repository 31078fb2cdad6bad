from pathlib import Path

import pytest
from typer.testing import CliRunner

from fincli.cli import app
from fincli.workspace import open_workspace

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
