//! The daily reconciliation: from the configured time of day (UTC) on, each channel's last
//! complete statement days are fetched from the channel and reconciled, once across all
//! replicas. Every replica ticks; a channel's day is a claim in the database
//! (`recon:<channel>:<day>`) that one replica takes, finishes when the run is recorded, and
//! lets lapse when it cannot (no statement yet, the channel or the database away) so that it,
//! or another replica, tries again once the claim lapses (15 minutes). A replica that dies
//! mid-run leaves its claim to lapse the same way.

use std::sync::Arc;
use std::time::Duration;

use arbiter_engine::audit::Actor;
use arbiter_transactions::TxError;
use arbiter_transactions::channels::BEIJING;
use arbiter_transactions::reconciliation::archive::STATEMENT_CHANNELS;
use arbiter_transactions::store::TransactionStore;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use tokio::task::JoinHandle;

use super::{FeeSchedules, FetchedStatement, fetch_and_import, reconcile_day};
use crate::services::transactions::channels::PaymentChannels;

/// How long a claim holds before another replica may take the day over.
pub const CLAIM_FOR: chrono::Duration = chrono::Duration::minutes(15);
/// How many past days a tick looks at: a service down over a weekend catches up.
const DAYS_BACK: u64 = 3;
/// How often a replica looks.
const TICK: Duration = Duration::from_secs(60);

/// The running job; dropping it stops it.
pub struct DailyJob {
    task: JoinHandle<()>,
}

impl Drop for DailyJob {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DailyJob {
    /// Ticks now and then every minute.
    pub fn spawn(
        store: Arc<dyn TransactionStore>,
        channels: Arc<PaymentChannels>,
        fees: FeeSchedules,
        at: NaiveTime,
    ) -> DailyJob {
        let holder = format!("replica_{}", uuid::Uuid::now_v7().simple());
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                tick(&store, &channels, &fees, at, &holder, Utc::now()).await;
            }
        });
        DailyJob { task }
    }
}

/// The statement days of `channel` due at `now` for a daily time `at`: none before `at` on
/// `now`'s UTC day; from then on the channel's last [`DAYS_BACK`] complete days (UTC days for
/// the card, Beijing days for Alipay and WeChat Pay), newest first.
pub fn due_days(channel: &str, at: NaiveTime, now: DateTime<Utc>) -> Vec<NaiveDate> {
    if now.time() < at {
        return Vec::new();
    }
    let today = match channel {
        "alipay" | "wechat" => now.with_timezone(&BEIJING).date_naive(),
        _ => now.date_naive(),
    };
    today
        .iter_days()
        .rev()
        .skip(1)
        .take(DAYS_BACK as usize)
        .collect()
}

/// One look: every due day not done yet is claimed, its statement fetched from the channel
/// (when the channel hands statements out; otherwise the one uploaded is used), and run.
pub async fn tick(
    store: &Arc<dyn TransactionStore>,
    channels: &PaymentChannels,
    fees: &FeeSchedules,
    at: NaiveTime,
    holder: &str,
    now: DateTime<Utc>,
) {
    for channel in STATEMENT_CHANNELS {
        for date in due_days(channel, at, now) {
            let name = format!("recon:{channel}:{date}");
            match store.claim_job(&name, holder, now + CLAIM_FOR, now).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, claim = %name, "cannot claim a reconciliation day");
                    return;
                }
            }
            if channels
                .adapter(channel)
                .is_ok_and(|a| a.statements().is_some())
            {
                match fetch_and_import(store, channels, channel, date, &Actor::system()).await {
                    Ok(FetchedStatement::Imported(_)) => {}
                    Ok(FetchedStatement::NotYet(why)) => {
                        tracing::info!(channel, %date, why, "the channel has no statement of the day yet");
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, channel, %date, "cannot fetch a statement");
                        continue;
                    }
                }
            }
            match reconcile_day(store, fees, channel, date, &Actor::system()).await {
                Ok(day) => {
                    tracing::info!(
                        channel,
                        %date,
                        run = %day.run.id,
                        differences = day.run.outcome.differences.len(),
                        opened = day.recorded.opened,
                        "reconciled a statement day"
                    );
                    if let Err(e) = store.finish_job(&name, holder, Utc::now()).await {
                        tracing::warn!(error = %e, claim = %name, "cannot finish a claim");
                    }
                }
                Err(TxError::NotFound { .. }) => {
                    tracing::info!(channel, %date, "no statement of the day yet: trying again later");
                }
                Err(e) => {
                    tracing::warn!(error = %e, channel, %date, "a reconciliation run failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    #[test]
    fn a_channels_last_complete_days_are_due_from_the_daily_time_on() {
        let six = NaiveTime::from_hms_opt(6, 0, 0).expect("time");
        assert!(due_days("card", six, at("2026-12-06T05:59:00Z")).is_empty());
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).expect("date");
        assert_eq!(
            due_days("card", six, at("2026-12-06T06:00:00Z")),
            [day(5), day(4), day(3)]
        );
        // 20:00 UTC is 04:00 on the 7th in Beijing: the 6th is complete there.
        let evening = NaiveTime::from_hms_opt(20, 0, 0).expect("time");
        assert_eq!(
            due_days("wechat", evening, at("2026-12-06T20:00:00Z"))[0],
            day(6)
        );
        assert_eq!(
            due_days("card", evening, at("2026-12-06T20:00:00Z"))[0],
            day(5)
        );
    }
}
