"""spending: next month's spending per category, with the backtested error of every method.

Each row is one (currency, category) series of month totals in minor units, oldest first
(``months``, ``totals``) and the month to forecast (``target``). Four methods:

- ``last``: last month's total;
- ``mean3``: the mean of the last 3 months;
- ``seasonal``: the same month last year (needs 12 months of history);
- ``xgboost``: one gradient-boosted model pooled over every series, on each series' totals
  divided by its own scale (the mean absolute total before the forecast month): lags 1–12,
  the 3- and 12-month means, the calendar month and the history length.

A rolling-origin backtest forecasts each of the last 12 months (one month ahead) from the
months before it only — XGBoost is refitted at every origin — and gives each method's MAE
and MASE (MAE over the in-sample error of the seasonal naive, or of last-month when there
is under two years of history). The forecast uses, per series, the method with the lowest
backtested MAE among those that forecast every backtest month; its 80% range is the 10th
and 90th percentile of that method's backtest errors around the forecast. ``selected`` in
the backtest scores choosing the method this way walk-forward (at each origin, by the MAE
of the origins before it): the honest error of the whole procedure.
"""

from __future__ import annotations

import math
import os

METHODS = ("last", "mean3", "seasonal", "xgboost")
BACKTEST_MONTHS = 12
MIN_TRAINING = 24          # samples XGBoost needs before it forecasts
LAGS = 12


def _baselines(y: list[float], t: int) -> dict[str, float | None]:
    """The baselines' forecasts of y[t] from y[:t]."""
    return {"last": y[t - 1] if t >= 1 else None,
            "mean3": sum(y[max(0, t - 3):t]) / len(y[max(0, t - 3):t]) if t >= 1 else None,
            "seasonal": y[t - 12] if t >= 12 else None}


def _features(y: list[float], t: int, month: int):
    """XGBoost's features for forecasting y[t] (calendar month `month`), and the series' scale."""
    past = y[:t]
    scale = sum(abs(v) for v in past) / len(past) if past else 0.0
    scale = scale or 1.0
    lags = [past[t - k] / scale if t - k >= 0 else math.nan for k in range(1, LAGS + 1)]
    m3, m12 = past[-3:], past[-12:]
    return lags + [sum(m3) / len(m3) / scale, sum(m12) / len(m12) / scale, month, min(t, 36)], scale


def _month_number(months: list[str], t: int) -> int:
    m = int(months[-1][5:7])
    offset = t - (len(months) - 1)             # t may be one past the end (the target)
    return (m - 1 + offset) % 12 + 1


class _Pool:
    """Every (series, month) sample, so that XGBoost can be fitted on any prefix of the months."""

    def __init__(self, series: list[dict]):
        import numpy as np

        X, target, ends, index, scales = [], [], [], [], []
        for s, row in enumerate(series):
            y, n = row["y"], len(row["y"])
            for t in range(1, n + 1):              # t == n: the month to forecast (no target)
                x, scale = _features(y, t, _month_number(row["months"], t))
                X.append(x)
                target.append(y[t] / scale if t < n else math.nan)
                ends.append(n - t)                 # months from the series' end: 0 is the target
                index.append((s, t))
                scales.append(scale)
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(target, dtype=float)
        self.ends = np.asarray(ends)
        self.index = index
        self.scales = np.asarray(scales)

    def forecast(self, before: int) -> dict[tuple[int, int], float]:
        """Fit on the samples at least `before`+1 months from the end, forecast those exactly `before` away."""
        import numpy as np
        import xgboost

        train = self.ends > before
        if train.sum() < MIN_TRAINING:
            return {}
        model = xgboost.XGBRegressor(n_estimators=150, max_depth=3, learning_rate=0.05, subsample=0.9,
                                     min_child_weight=2, objective="reg:absoluteerror", n_jobs=1,
                                     random_state=0, tree_method="hist")
        model.fit(self.X[train], self.y[train])
        rows = np.flatnonzero(self.ends == before)
        if not len(rows):
            return {}
        predicted = model.predict(self.X[rows])
        return {self.index[r]: float(p) * float(self.scales[r]) for r, p in zip(rows, predicted)}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _mase_scale(y: list[float]) -> float | None:
    m = 12 if len(y) >= 24 else 1
    diffs = [abs(y[t] - y[t - m]) for t in range(m, len(y))]
    scale = sum(diffs) / len(diffs) if diffs else 0.0
    return scale or None


def predict(rows: list, model_dir) -> list:
    series = [{**row, "y": [float(v) for v in row["totals"]]} for row in rows]
    if not series:
        return []
    pool = _Pool(series)
    # forecasts[(s, t)][method]: backtest origins (t < n) and the target (t == n)
    forecasts: dict[tuple[int, int], dict] = {}
    for s, row in enumerate(series):
        n = len(row["y"])
        for t in range(max(1, n - BACKTEST_MONTHS), n + 1):
            forecasts[(s, t)] = _baselines(row["y"], t)
    longest = max(len(row["y"]) for row in series)
    for before in range(0, min(BACKTEST_MONTHS, longest - 1) + 1):
        for key, value in pool.forecast(before).items():
            if key in forecasts:
                forecasts[key]["xgboost"] = value
    return [_answer(row, s, forecasts) for s, row in enumerate(series)]


def _answer(row: dict, s: int, forecasts: dict) -> dict:
    y, n = row["y"], len(row["y"])
    origins = list(range(max(1, n - BACKTEST_MONTHS), n))
    errors = {m: [y[t] - forecasts[(s, t)][m] for t in origins if forecasts[(s, t)].get(m) is not None]
              for m in METHODS}
    scale = _mase_scale(y)
    backtest = {}
    for m, errs in errors.items():
        if errs:
            mae = sum(abs(e) for e in errs) / len(errs)
            backtest[m] = {"mae": round(mae), "mase": round(mae / scale, 4) if scale else None, "months": len(errs)}
    target = forecasts[(s, n)]
    eligible = [m for m in METHODS if m in backtest and backtest[m]["months"] == len(origins)
                and target.get(m) is not None]
    if not eligible:                            # one month of history: nothing to backtest on
        eligible = ["last"]
    chosen = min(eligible, key=lambda m: (backtest.get(m, {}).get("mae", 0), METHODS.index(m)))
    selected = _walk_forward(y, s, origins, forecasts)
    if selected:
        mae = sum(abs(e) for e in selected) / len(selected)
        backtest["selected"] = {"mae": round(mae), "mase": round(mae / scale, 4) if scale else None,
                                "months": len(selected)}
    point = target[chosen]
    errs = errors.get(chosen) or [0.0]
    floor = min(0.0, min(y))
    low = max(floor, point + _quantile(errs, 0.1))
    high = point + _quantile(errs, 0.9)
    amount = round(point)
    return {"currency": row["currency"], "category": row["category"], "amount": amount,
            "low": min(round(low), amount), "high": max(round(high), amount), "method": chosen,
            "backtest": backtest}


def _walk_forward(y: list[float], s: int, origins: list[int], forecasts: dict) -> list[float]:
    """Errors of choosing, at each origin, the method with the lowest MAE over the origins before it."""
    out, past = [], {m: [] for m in METHODS}
    for t in origins:
        here = forecasts[(s, t)]
        ready = [m for m in METHODS if here.get(m) is not None and past[m]
                 and len(past[m]) == max(len(v) for v in past.values())]
        if ready:
            method = min(ready, key=lambda m: (sum(past[m]) / len(past[m]), METHODS.index(m)))
        else:
            method = "seasonal" if here.get("seasonal") is not None else "mean3"
        if here.get(method) is not None:
            out.append(y[t] - here[method])
        for m in METHODS:
            if here.get(m) is not None:
                past[m].append(abs(y[t] - here[m]))
    return out


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from service import serve

    serve(None, predict)
