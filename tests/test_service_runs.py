"""A service run is recorded only when it did something, under an id that names what it covered.

An event id is its idempotency key; a run with nothing new writes nothing to the log; a
model's training is a `model.trained` event with its artifact hashes and metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPORT = sorted((ROOT / "data" / "samples" / "exports").glob("checking_*.csv"))[0]


def events(fin) -> list[dict]:
    result = fin("events", "--limit", "100000", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_running_every_service_twice_adds_nothing_the_second_time(fin):
    assert fin("import", EXPORT).exit_code == 0
    assert fin("run", "all").exit_code == 0
    before = events(fin)
    assert fin("run", "all").exit_code == 0
    assert events(fin) == before


def test_an_unrelated_event_wakes_no_empty_categorize_run(fin):
    assert fin("import", EXPORT).exit_code == 0
    first = json.loads(fin("transactions", "--format", "json").stdout)[0]
    assert fin("label", first["id"], "groceries").exit_code == 0
    before = [e for e in events(fin) if e["type"] == "service.ran"]
    assert fin("run", "categorize").exit_code == 0
    assert [e for e in events(fin) if e["type"] == "service.ran"] == before


def test_training_is_a_model_trained_event_and_every_id_is_derived(fin):
    assert fin("import", EXPORT).exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    log = events(fin)
    trained = [json.loads(e["payload"]) for e in log if e["type"] == "model.trained"]
    assert len(trained) == 2                       # once on import (no model yet), once on --retrain
    assert all(set(t["artifacts"]) == {"model.npz"} and len(t["artifacts"]["model.npz"]) == 64 for t in trained)
    assert all(t["metrics"]["rows"] > 0 for t in trained)
    service_ids = [e["event_id"] for e in log if e["type"] in ("service.ran", "model.trained", "artifact.saved",
                                                                  "transactions.categorized")]
    assert all(not any(len(part) == 32 and all(c in "0123456789abcdef" for c in part)
                       for part in event_id.split(":")) for event_id in service_ids), service_ids
