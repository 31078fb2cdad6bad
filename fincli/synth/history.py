"""One history on disk: :func:`generate` runs the household simulation and writes its bank
exports, ground truth and manifest; :func:`write_sample` rewrites the bundled sample;
:func:`main` is the command line (``python -m fincli.synth``).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from .exports import write_exports
from .household import _Gen
from .large import write_large_export
from .model import ACCOUNTS, CURRENCY, LAYOUT
from .truth import write_truth

# The bundled sample in data/samples/ is exactly generate(**SAMPLE_PARAMS).
SAMPLE_PARAMS: dict = {"seed": 7, "start": date(2025, 1, 1), "months": 4,
                       "merchants": 80, "density": 0.4}


def write_history(g, out: Path) -> dict:
    """Write the exports and the truth files of a finished simulation ``g`` below ``out``;
    return the summary."""
    exp = out / "exports"
    tru = out / "truth"
    exp.mkdir(parents=True, exist_ok=True)
    tru.mkdir(parents=True, exist_ok=True)
    files, export_rows = write_exports(g, exp)
    write_truth(g, tru)
    counts = {a: sum(1 for t in g.txns if t.account == a) for a in ACCOUNTS}
    summary = {
        "start": g.start.isoformat(), "end": g.end.isoformat(),
        "transactions": counts, "total_transactions": len(g.txns),
        "export_rows": export_rows, "exports": files,
        "layouts": dict(LAYOUT), "currencies": dict(CURRENCY),
        "streams": len(g.streams), "fraud_transactions":
            sum(1 for t in g.txns if t.fraud_kind),
        "fraud_episodes": len(g.episodes), "labels": g.n_labels,
        "pending_seen": sum(1 for t in g.txns if t.pending_seen),
    }
    return summary


def generate(seed: int, out_dir: Path, *, start: date, months: int, merchants: int = 300,
             density: float = 1.0, all_frequencies: bool = False, seasonal: bool = False,
             surprises: bool = False) -> dict:
    """Write ``out_dir/exports/*.csv`` and ``out_dir/truth/*``; return a summary dict.

    ``density`` scales everyday discretionary spending (1.0 ≈ 70 USD purchases and 15 EUR
    purchases a month); recurring streams, transfers and fraud episodes are not scaled.
    ``seasonal`` gives everyday spending a yearly season, a December peak and a price trend
    (fincli/synth/seasons.py). ``surprises`` adds the household's own large purchases at the
    merchants it uses most, which a spike rule flags (fincli/synth/surprises.py).
    """
    out_dir = Path(out_dir)
    g = _Gen(seed, start, months, merchants, density)
    g.make_merchants()
    g.choose_cards()
    g.plan_exports()
    g.make_streams()
    if all_frequencies:               # more streams, for scoring bill detection (fincli/synth/streams.py)
        from .streams import add_streams
        add_streams(g, seed)
    g.make_daily()
    g.make_p2p()
    g.make_eur_online()
    g.make_specials()
    if seasonal:                      # for scoring the spending forecast (fincli/synth/seasons.py)
        from .seasons import apply_seasons
        apply_seasons(g, seed)
    if surprises:                     # for scoring fraud feedback (fincli/synth/surprises.py)
        from .surprises import add_surprises
        add_surprises(g, seed)
    g.make_amex_refunds()
    g.make_card_payments()
    g.make_savings()
    g.finalize()
    summary = write_history(g, out_dir)
    summary["params"] = {"seed": seed, "start": start.isoformat(), "months": months,
                         "merchants": merchants, "density": density}
    if seasonal:
        summary["params"]["seasonal"] = True
    if surprises:
        summary["params"]["surprises"] = True
    (out_dir / "truth" / "manifest.json").write_bytes(
        (json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
    return summary


def write_sample(out_dir: Path) -> dict:
    """Regenerate the bundled sample (data/samples) into ``out_dir``."""
    return generate(SAMPLE_PARAMS["seed"], out_dir, start=SAMPLE_PARAMS["start"],
                    months=SAMPLE_PARAMS["months"], merchants=SAMPLE_PARAMS["merchants"],
                    density=SAMPLE_PARAMS["density"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fincli.synth",
                                description="Write a synthetic household history "
                                            "(bank exports + ground truth) to OUT_DIR.")
    p.add_argument("out_dir", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    p.add_argument("--merchants", type=int, default=300)
    p.add_argument("--density", type=float, default=1.0,
                   help="scale of everyday spending (default 1.0)")
    p.add_argument("--all-frequencies", action="store_true",
                   help="add recurring streams of every frequency, cancelled, stepped and variable ones")
    p.add_argument("--seasonal", action="store_true",
                   help="give everyday spending a yearly season, a December peak and a slow price rise")
    p.add_argument("--surprises", action="store_true",
                   help="add large legitimate purchases at the household's usual card merchants")
    p.add_argument("--sample", action="store_true",
                   help="write the bundled sample (data/samples) parameters, ignoring the others")
    p.add_argument("--large", type=int, metavar="ROWS",
                   help="instead write one big Chase-style CSV of ROWS rows to OUT_DIR/large.csv")
    a = p.parse_args(argv)
    if a.large:
        a.out_dir.mkdir(parents=True, exist_ok=True)
        write_large_export(a.out_dir / "large.csv", a.large, a.seed)
        print(a.out_dir / "large.csv")
        return 0
    if a.sample:
        s = write_sample(a.out_dir)
    else:
        s = generate(a.seed, a.out_dir, start=a.start, months=a.months, merchants=a.merchants,
                     density=a.density, all_frequencies=a.all_frequencies,
                     seasonal=a.seasonal, surprises=a.surprises)
    print(json.dumps({k: s[k] for k in ("start", "end", "transactions", "export_rows")}))
    return 0
