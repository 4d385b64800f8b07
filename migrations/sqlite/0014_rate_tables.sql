-- Amounts in a reporting currency (issue 24): versioned exchange-rate tables. The newest
-- version is in force; every decision records the version and rate it converted with, so
-- old versions are kept (they explain old decisions). `rates` is the JSON object of
-- currency code to decimal string, as the API took it.
-- An applied migration is never edited: add a new file instead.
CREATE TABLE rate_tables (
    version INTEGER PRIMARY KEY,
    reporting_currency TEXT NOT NULL,
    rates TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
