"""A seeded generator of customer-churn data with the defects real exports have.

The churn probability is a logistic function of contract, tenure, engagement, support
load, price and payment method, so a model has real signal to find; the intercept is
solved for the wanted churn rate. `drift` moves the world (prices up, engagement down,
a different contract and payment mix) to make the batches the drift check must notice.

Text columns are built as categorical codes, not Python strings, so a million rows
take seconds (for the benchmarks) rather than minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# The simulated source system's own vocabulary. It is not imported from schema.py on purpose:
# the contract is checked against what a source sends (tests/data), not defined by it.
CONTRACTS = ["month_to_month", "one_year", "two_year"]
PLANS = ["basic", "standard", "premium"]
PAYMENT_METHODS = ["credit_card", "bank_transfer", "electronic_check", "mailed_check"]
REGIONS = ["north", "south", "east", "west"]

SNAPSHOT_DATE = np.datetime64("2024-12-31")
TARGET_CHURN_RATE = 0.22

NOTES = [
    "",
    "asked about a discount",
    "complained about outage",
    "called about billing",
    "requested plan change",
    "happy with service",
    "moved house, updated address",
]
TRUE_SPELLINGS = ["yes", "Y", "true", "1", "True", "YES"]
FALSE_SPELLINGS = ["no", "n", "false", "0", "No", "FALSE"]
BOOLEAN_COLUMNS = ("has_partner", "paperless_billing", "auto_renew", "churned")
CATEGORY_COLUMNS = ("region", "plan", "contract", "payment_method")
# The export this generator writes, column for column: the example's contract.
COLUMNS = (
    *("customer_id", "signup_date", "age", "region", "plan", "contract", "payment_method"),
    *("tenure_months", "monthly_charges", "total_charges", "support_tickets", "avg_session_minutes"),
    *("last_login_days", "num_devices", "has_partner", "paperless_billing", "auto_renew", "notes", "churned"),
)


def not_the_example(columns: tuple[str, ...]) -> str | None:
    """Why a contract with these columns is not the example's (None when it is): the generator
    makes churn data only, so its demo and its tests apply to the example's contract alone."""
    if columns == COLUMNS:
        return None
    missing, extra = sorted(set(COLUMNS) - set(columns)), sorted(set(columns) - set(COLUMNS))
    differs = "; ".join(
        part
        for part in (
            f"without {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}" if missing else "",
            f"with {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}" if extra else "",
        )
        if part
    )
    return f"schema.py declares another dataset than the example's churn export ({differs or 'columns reordered'})"


@dataclass(frozen=True)
class GeneratorSettings:
    rows: int = 20_000
    seed: int = 42
    defect_rate: float = 0.02
    drift: float = 0.0
    first_id: int = 100_000  # customer ids are first_id .. first_id + rows - 1 (a later batch: new customers)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    """Bisection on the intercept so that the mean churn probability equals `rate`."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(logit + mid).mean() < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _pick(rng: np.random.Generator, n: int, weights: list[float]) -> np.ndarray:
    p = np.clip(np.asarray(weights, dtype=float), 1e-6, None)
    return rng.choice(len(p), size=n, p=p / p.sum())


def generate_clean(settings: GeneratorSettings) -> pd.DataFrame:
    """The true, defect-free world: canonical values and a churn label."""
    rng = np.random.default_rng(settings.seed)
    n, d = settings.rows, settings.drift

    contract = _pick(rng, n, [0.55 + 0.15 * d, 0.25 - 0.07 * d, 0.20 - 0.08 * d])
    plan = _pick(rng, n, [0.45, 0.35, 0.20])
    payment = _pick(rng, n, [0.35 - 0.10 * d, 0.25, 0.25 + 0.15 * d, 0.15 - 0.05 * d])
    region = _pick(rng, n, [0.30, 0.25, 0.25, 0.20])
    monthly_contract = contract == CONTRACTS.index("month_to_month")

    tenure = np.clip(rng.gamma(2.0, np.array([6.0, 15.0, 24.0])[contract]), 0, 119).round()
    age = np.clip(rng.normal(44, 14, n), 18, 90).round()
    devices = np.clip(rng.poisson(1.5, n) + 1, 1, 12).astype(float)
    plan_price = np.array([25.0, 55.0, 95.0])[plan]
    monthly = np.clip(
        np.round(plan_price * (1 + 0.15 * d) + 6.0 * devices + rng.normal(0, 6, n), 2),
        5,
        480,
    )
    total = np.round(monthly * np.maximum(tenure, 1) * rng.normal(1.0, 0.04, n), 2)
    tickets = rng.poisson(0.8 + 0.6 * monthly_contract + 0.4 * d, n).astype(float)
    session = np.round(np.clip(rng.lognormal(3.2 - 0.25 * d, 0.5, n), 0.5, 590), 1)
    last_login = np.clip(np.round(rng.exponential(12 * (1 + 0.6 * d), n)), 0, 720)
    has_partner = rng.random(n) < 0.48
    paperless = rng.random(n) < 0.6
    auto_renew = rng.random(n) < np.where(monthly_contract, 0.3, 0.7)
    days_ago = (tenure * 30.44).astype("int64") + rng.integers(0, 28, n)
    signup = SNAPSHOT_DATE - days_ago.astype("timedelta64[D]")
    promo_month = np.isin(pd.DatetimeIndex(signup).month, [11, 12])

    logit = (
        1.6 * monthly_contract
        - 0.9 * (contract == CONTRACTS.index("two_year"))
        - 0.035 * tenure
        + 0.35 * tickets
        + 0.030 * last_login
        - 0.012 * session
        + 0.008 * (monthly - 60)
        + 0.55 * (payment == PAYMENT_METHODS.index("electronic_check"))
        - 0.5 * auto_renew
        - 0.25 * has_partner
        + 0.35 * promo_month
        + 0.2 * (age < 30)
        + np.array([0.0, 0.15, -0.1, 0.25])[region]
    )
    churned = rng.random(n) < _sigmoid(logit + _intercept_for_rate(logit, TARGET_CHURN_RATE))

    ids = pd.Series(rng.permutation(n) + settings.first_id).astype(str)
    return pd.DataFrame(
        {
            "customer_id": "C" + ids.str.zfill(7),
            "signup_date": pd.DatetimeIndex(signup),
            "age": age,
            "region": pd.Categorical.from_codes(region, REGIONS),
            "plan": pd.Categorical.from_codes(plan, PLANS),
            "contract": pd.Categorical.from_codes(contract, CONTRACTS),
            "payment_method": pd.Categorical.from_codes(payment, PAYMENT_METHODS),
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "support_tickets": tickets,
            "avg_session_minutes": session,
            "last_login_days": last_login,
            "num_devices": devices,
            "has_partner": has_partner,
            "paperless_billing": paperless,
            "auto_renew": auto_renew,
            "notes": pd.Categorical.from_codes(_pick(rng, n, [4, 1, 1, 1, 1, 1, 1]), NOTES),
            "churned": churned,
        }
    )


def _spelled_booleans(values: np.ndarray, rng: np.random.Generator) -> pd.Categorical:
    """yes/Y/true/1/No/n/false/0...: one export, many spellings."""
    k = len(TRUE_SPELLINGS)
    codes = rng.integers(0, k, len(values)) + np.where(values, 0, k)
    return pd.Categorical.from_codes(codes, TRUE_SPELLINGS + FALSE_SPELLINGS)


def _misspelled(values: pd.Categorical, rng: np.random.Generator, rate: float) -> pd.Categorical:
    """Upper case, padded title case, spaces or hyphens instead of underscores."""
    canonical = list(values.categories)
    variants = [
        [
            c,
            c.upper(),
            f" {c.title()} ",
            c.replace("_", " "),
            c.replace("_", "-").title(),
        ]
        for c in canonical
    ]
    labels = pd.Index([v for group in variants for v in group])
    unique_labels = labels.unique()
    code_of_variant = unique_labels.get_indexer(labels)
    styles = np.where(rng.random(len(values)) < rate, rng.integers(1, 5, len(values)), 0)
    variant = np.where(values.codes < 0, -1, values.codes * 5 + styles)
    codes = np.where(variant < 0, -1, code_of_variant[variant])
    return pd.Categorical.from_codes(codes, unique_labels)


def add_defects(clean: pd.DataFrame, settings: GeneratorSettings) -> pd.DataFrame:
    """Render the clean world as a messy export: what `prepare` exists to repair."""
    rng = np.random.default_rng(settings.seed + 1)
    rate = settings.defect_rate
    n = len(clean)
    df = clean.copy()
    for column in BOOLEAN_COLUMNS:
        df[column] = _spelled_booleans(df[column].to_numpy(), rng)
    for column in CATEGORY_COLUMNS:
        df[column] = _misspelled(df[column].array, rng, rate)
    for column in (
        "age",
        "total_charges",
        "payment_method",
        "has_partner",
        "avg_session_minutes",
    ):
        df.loc[rng.random(n) < rate, column] = np.nan
    # Out-of-range values stay rare (a tenth of the defect rate): the gate tolerates them.
    df.loc[rng.random(n) < rate / 10, "tenure_months"] = -1.0
    df.loc[rng.random(n) < rate / 10, "age"] = 200.0
    duplicated_rows = rng.choice(n, size=int(n * rate / 2), replace=False)
    order = rng.permutation(np.concatenate([np.arange(n), duplicated_rows]))
    return df.iloc[order].reset_index(drop=True)


def generate_raw(settings: GeneratorSettings) -> pd.DataFrame:
    """A raw export of `settings.rows` customers plus the duplicate rows it carries."""
    return add_defects(generate_clean(settings), settings)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV as a source system writes it: whole numbers without `.0`, ISO dates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    df.to_csv(
        tmp,
        index=False,
        lineterminator="\n",
        float_format="%.10g",
        date_format="%Y-%m-%d",
    )
    tmp.replace(path)
