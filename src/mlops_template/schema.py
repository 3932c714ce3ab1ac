"""The data contract: the one module to edit when you bring your own dataset.

`RawRecords` is what the pipeline accepts at the door (the `validate` stage, the gate);
`CleanRecords` refines it into what training and serving may assume (checked on
`prepare`'s output). Everything else derives from these two classes through
`mlops_template.features`: how `prepare` cleans each column, the model's preprocessing,
the service's request model and the drift tests.

How to write a column:
- a number: `Series[float]` with `plausible_range=(lo, hi)` in the raw schema (rare values
  outside it are repaired to missing) and `in_range` in the clean one;
- a category: `Series[Category]` with `category_of=[...]` (raw: case, spaces, '-' and '_' are
  forgiven) and `isin=[...]` (clean: canonical spellings only);
- a yes/no: `Series[Category]` with `boolean_spelling=True` (raw) and a boolean dtype (clean);
- a date: `Series[DateTime]`;
- anything that is not a model input: `metadata=role("id" | "text")`;
- the target, whose constructor names the task (raw → clean):
  two labels: `Series[Category] = target_binary(positive="bad", labels=["good", "bad"])` →
  `Series[bool]` (True = the positive label); three or more classes:
  `Series[Category] = target_classes([...])` → `Series[Category] = category([...], nullable=False)`;
  a number: `Series[float] = target_number((lo, hi))` → `Series[float] = number((lo, hi), nullable=False)`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Category, DateTime, Series  # type: ignore[attr-defined]

from mlops_template.checks import (
    category,
    number,
    raw_category,
    raw_number,
    raw_yes_no,
    role,
    target_binary,
)

CONTRACTS = ["month_to_month", "one_year", "two_year"]
PLANS = ["basic", "standard", "premium"]
PAYMENT_METHODS = ["credit_card", "bank_transfer", "electronic_check", "mailed_check"]
REGIONS = ["north", "south", "east", "west"]

AGE = (18, 100)
TENURE_MONTHS = (0, 120)
MONTHLY_CHARGES = (5, 500)
TOTAL_CHARGES = (0, 60_000)
SUPPORT_TICKETS = (0, 50)
SESSION_MINUTES = (0, 600)
LAST_LOGIN_DAYS = (0, 730)
DEVICES = (1, 20)
EARLIEST_SIGNUP = pd.Timestamp("2000-01-01")


class RawRecords(pa.DataFrameModel):
    """The raw export: one row per customer snapshot, as the source system sends it."""

    customer_id: Series[str] = pa.Field(nullable=False, metadata=role("id"))
    signup_date: Series[DateTime] = pa.Field(nullable=False)
    age: Series[float] = raw_number(AGE)
    region: Series[Category] = raw_category(REGIONS)
    plan: Series[Category] = raw_category(PLANS)
    contract: Series[Category] = raw_category(CONTRACTS)
    payment_method: Series[Category] = raw_category(PAYMENT_METHODS)
    tenure_months: Series[float] = raw_number(TENURE_MONTHS)
    monthly_charges: Series[float] = raw_number(MONTHLY_CHARGES)
    total_charges: Series[float] = raw_number(TOTAL_CHARGES)
    support_tickets: Series[float] = raw_number(SUPPORT_TICKETS)
    avg_session_minutes: Series[float] = raw_number(SESSION_MINUTES)
    last_login_days: Series[float] = raw_number(LAST_LOGIN_DAYS)
    num_devices: Series[float] = raw_number(DEVICES)
    has_partner: Series[Category] = raw_yes_no()
    paperless_billing: Series[Category] = raw_yes_no()
    auto_renew: Series[Category] = raw_yes_no()
    notes: Series[Category] = pa.Field(nullable=True, metadata=role("text"))
    churned: Series[Category] = target_binary(positive="yes", labels=["no", "yes"])

    class Config:
        strict = True  # an unexpected column is an error, not silently ignored
        coerce = True  # numbers and dates arrive as text; a value that does not parse fails

    @pa.check("signup_date", name="signup_date_not_in_future")
    def signup_date_not_in_future(cls, dates: Series[DateTime]) -> Series[bool]:  # noqa: N805 (Pandera passes the class)
        return (dates >= EARLIEST_SIGNUP) & (dates <= pd.Timestamp.now())


class CleanRecords(RawRecords):
    """After `prepare`: one row per customer, canonical categories and booleans,
    numbers inside their plausible range (or missing, for the model to impute)."""

    customer_id: Series[str] = pa.Field(unique=True, metadata=role("id"))
    age: Series[float] = number(AGE)
    region: Series[Category] = category(REGIONS)
    plan: Series[Category] = category(PLANS)
    contract: Series[Category] = category(CONTRACTS)
    payment_method: Series[Category] = category(PAYMENT_METHODS)
    tenure_months: Series[float] = number(TENURE_MONTHS)
    monthly_charges: Series[float] = number(MONTHLY_CHARGES)
    total_charges: Series[float] = number(TOTAL_CHARGES)
    support_tickets: Series[float] = number(SUPPORT_TICKETS)
    avg_session_minutes: Series[float] = number(SESSION_MINUTES)
    last_login_days: Series[float] = number(LAST_LOGIN_DAYS)
    num_devices: Series[float] = number(DEVICES)
    has_partner: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    paperless_billing: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    auto_renew: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    notes: Series[Category] = pa.Field(nullable=True, required=False, metadata=role("text"))  # dropped
    churned: Series[bool] = pa.Field(nullable=False)

    class Config:
        strict = True
        coerce = False  # prepare must produce these types itself
