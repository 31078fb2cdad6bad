"""fin schedule: fin's jobs go into the real crontab once, other lines stay, and come out again."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("crontab") is None, reason="needs the crontab program (cron)")


def _crontab() -> str:
    done = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else ""


@pytest.fixture
def crontab():
    """The user's crontab with one line of their own; whatever was there before is put back after."""
    before = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    subprocess.run(["crontab", "-"], input="MAILTO=someone\n5 4 * * * /bin/echo mine # my own job\n",
                   text=True, check=True)
    try:
        yield
    finally:
        if before.returncode == 0:
            subprocess.run(["crontab", "-"], input=before.stdout, text=True, check=True)
        else:
            subprocess.run(["crontab", "-r"], capture_output=True)


def test_show_prints_absolute_paths_and_the_workspace(fin):
    result = fin("schedule", "show")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        command = line.split(" # ")[0].split()[5:]
        assert command[0].startswith("/") and command[1:3] == ["--home", str(fin.home.absolute())]
    assert any(line.endswith(" predict-bills") for line in (l.split(" # ")[0] for l in lines))
    assert any("run spending" in line for line in lines) and any("run fraud" in line for line in lines)


def test_install_twice_adds_the_lines_once_and_keeps_the_others_then_remove(fin, crontab):
    shown = fin("schedule", "show").stdout.splitlines()
    assert fin("schedule", "install").exit_code == 0
    assert fin("schedule", "install").exit_code == 0
    table = _crontab().splitlines()
    assert "MAILTO=someone" in table and "5 4 * * * /bin/echo mine # my own job" in table
    for line in shown:
        assert table.count(line) == 1, (line, table)
    assert fin("schedule", "remove").exit_code == 0
    table = _crontab().splitlines()
    assert not any("fin-schedule" in line for line in table)
    assert "MAILTO=someone" in table and "5 4 * * * /bin/echo mine # my own job" in table
