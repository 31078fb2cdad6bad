"""spending: next month's spending per category, with the backtested error of every method.

Each row is one (currency, category) series of month totals in minor units, oldest first
(``months``, ``totals``) and the month to forecast (``target``). Four methods:

- ``last``: last month's total;
- ``mean3``: the mean of the last 3 months;
- ``seasonal``: the same month last year (needs 12 months of history);
- ``xgboost``: one gradient-boosted model (absolute-error objective) pooled over every series,
  on each series' totals divided by its level (the mean absolute total of the 12 months before
  the forecast month, at least half the series' mean so far) and clipped at 6×: lags 1, 2, 3,
  6, 11, 12, 13 and 24, the 3- and 6-month means, the seasonal index (the same month in the
  last one or two years over that year's level), the year-over-year growth of the level, the
  calendar month (as a number and as sine/cosine) and the history length.

A rolling-origin backtest forecasts each of the last 12 months (one month ahead) from the
months before it only — XGBoost is refitted at every origin — and gives each method's MAE
and MASE (MAE over the in-sample error of the seasonal naive, or of last-month when there
is under two years of history). The forecast uses, per series, the method with the lowest
backtest MAE (only methods that forecast every backtest month count), so it is never worse
on the backtest than the best baseline. Its 80% range is the 10th and 90th percentile of that
method's backtest errors around the forecast. ``selected`` in the backtest scores making this
choice walk-forward (at each origin, from the 12 origins before it only, so the 12 months
before the backtest are forecast too): the honest error of the whole procedure, choice included.
"""

from __future__ import annotations

import math
import os

METHODS = ("last", "mean3", "seasonal", "xgboost")
BACKTEST_MONTHS = 12
MIN_TRAINING = 24          # samples XGBoost needs before it forecasts
TARGET_CLIP = 6.0          # a month over 6× its series' scale teaches the model nothing it can use
XGB_PARAMS = dict(n_estimators=200, max_depth=2, learning_rate=0.03, subsample=0.9, min_child_weight=2,
                  objective="reg:absoluteerror", n_jobs=1, random_state=0, tree_method="hist")


def _baselines(y: list[float], t: int) -> dict[str, float | None]:
    """The baselines' forecasts of y[t] from y[:t]."""
    return {"last": y[t - 1] if t >= 1 else None,
            "mean3": sum(y[max(0, t - 3):t]) / len(y[max(0, t - 3):t]) if t >= 1 else None,
            "seasonal": y[t - 12] if t >= 12 else None}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _features(y: list[float], t: int, month: int):
    """XGBoost's features for forecasting y[t] (calendar month `month`), and the series' scale.

    Everything is relative to the scale (the mean absolute total of the 12 months before t, at
    least half the mean of all months before t), so one model serves series of every size and a
    price trend moves the scale, not the target."""
    past = y[:t]
    recent = past[-12:]
    level = sum(abs(v) for v in recent) / len(recent) if recent else 0.0
    overall = sum(abs(v) for v in past) / len(past) if past else 0.0
    scale = max(level, overall / 2, 100.0)      # a quiet year does not blow the ratios up
    nan = math.nan
    lags = [past[t - k] / scale if t - k >= 0 else nan for k in (1, 2, 3, 6, 11, 12, 13, 24)]
    same = [past[t - k] for k in (12, 24) if t - k >= 0]          # the same month in earlier years
    before = past[-24:-12]                                        # the 12 months before the last 12
    level_then = _mean([abs(v) for v in before]) if len(before) == 12 else None
    seasonal_index = (_mean(same) / (level_then if len(same) == 2 and level_then else scale)) if same else nan
    growth = scale / level_then if level_then else nan
    return lags + [_mean(past[-3:]) / scale if past else nan, _mean(past[-6:]) / scale if past else nan,
                   seasonal_index, seasonal_index * growth if same and level_then else nan, growth,
                   month, math.sin(2 * math.pi * month / 12), math.cos(2 * math.pi * month / 12),
                   min(t, 36)], scale


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
                target.append(min(max(y[t] / scale, -TARGET_CLIP), TARGET_CLIP) if t < n else math.nan)
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
        model = xgboost.XGBRegressor(**XGB_PARAMS)
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
    # forecasts[(s, t)][method]: origins t < n (the backtest and, before it, the months its
    # walk-forward choices are judged on) and the target t == n
    forecasts: dict[tuple[int, int], dict] = {}
    reach = 2 * BACKTEST_MONTHS
    for s, row in enumerate(series):
        n = len(row["y"])
        for t in range(max(1, n - reach), n + 1):
            forecasts[(s, t)] = _baselines(row["y"], t)
    longest = max(len(row["y"]) for row in series)
    for before in range(0, min(reach, longest - 1) + 1):
        for key, value in pool.forecast(before).items():
            if key in forecasts:
                forecasts[key]["xgboost"] = value
    return [_answer(series, s, forecasts) for s in range(len(series))]


def _choose(series: list[dict], s: int, t: int, forecasts: dict) -> str | None:
    """The method for series s at origin t: the one with the lowest MAE over the (up to) 12 origins
    before t, among the methods that forecast each of them (ties go to the simpler method)."""
    y = series[s]["y"]
    history = range(max(1, t - BACKTEST_MONTHS), t)
    here = forecasts[(s, t)]
    eligible = [m for m in METHODS if here.get(m) is not None and history
                and all(forecasts.get((s, u), {}).get(m) is not None for u in history)]
    if not eligible:
        return None
    return min(eligible, key=lambda m: (sum(abs(y[u] - forecasts[(s, u)][m]) for u in history),
                                        METHODS.index(m)))


def _answer(series: list[dict], s: int, forecasts: dict) -> dict:
    row = series[s]
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
    chosen = _choose(series, s, n, forecasts) or "last"     # one month of history: nothing to judge on
    selected = []                                  # the same choice made walk-forward at every backtest origin
    for t in origins:
        method = _choose(series, s, t, forecasts)
        if method is not None:
            selected.append(y[t] - forecasts[(s, t)][method])
    if selected:
        mae = sum(abs(e) for e in selected) / len(selected)
        backtest["selected"] = {"mae": round(mae), "mase": round(mae / scale, 4) if scale else None,
                                "months": len(selected)}
    point = forecasts[(s, n)][chosen]
    errs = errors.get(chosen) or [0.0]
    floor = min(0.0, min(y))
    low = max(floor, point + _quantile(errs, 0.1))
    high = point + _quantile(errs, 0.9)
    amount = round(point)
    return {"currency": row["currency"], "category": row["category"], "amount": amount,
            "low": min(round(low), amount), "high": max(round(high), amount), "method": chosen,
            "backtest": backtest}


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from service import serve

    serve(None, predict)
