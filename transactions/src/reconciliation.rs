//! Reconciliation: the channels' own statements, read into one row shape so they can be
//! matched against the payment book and the ledger (issue 20).
//!
//! Each channel writes its statement its own way — the card channel a CSV of Stripe balance
//! transactions, Alipay a GBK-encoded CSV inside a zip with header and summary lines around the
//! rows, WeChat Pay a CSV whose every field starts with a backtick, with a summary block at the
//! end. A reader here turns one file into [`statement::StatementRow`]s, or refuses it whole with
//! the line and the problem ([`statement::StatementError`]): a statement is imported entirely or
//! not at all, so a bad file leaves nothing half-read. Pure: no I/O beyond the bytes given.

pub mod alipay_bill;
pub mod archive;
pub mod card_csv;
pub mod day;
pub mod matching;
pub mod merge;
pub mod settlement;
pub mod statement;
pub mod tickets;
pub mod wechat_bill;
