//! `arbiter serve` flags for reconciliation: the channels' fee schedules a statement's fees are
//! checked against, and when the daily run happens.

use std::collections::BTreeMap;

use arbiter_transactions::reconciliation::archive::STATEMENT_CHANNELS;
use arbiter_transactions::reconciliation::matching::FeeSchedule;
use chrono::NaiveTime;
use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct FeeArgs {
    /// A channel's fee schedule, `CHANNEL=RATE[+FIXED]` (`card=0.029+0.30`, `alipay=0.006`);
    /// repeat it per channel. A statement fee other than the schedule's is a `fee_unexpected`
    /// difference; a channel without one has its fees taken as the statement says.
    #[arg(long = "fee-schedule", env = "ARBITER_FEE_SCHEDULES", value_delimiter = ',',
          value_parser = channel_fee)]
    pub fee_schedules: Vec<(String, FeeSchedule)>,
}

impl FeeArgs {
    pub fn schedules(&self) -> BTreeMap<String, FeeSchedule> {
        self.fee_schedules.iter().cloned().collect()
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct ReconArgs {
    #[command(flatten)]
    pub fees: FeeArgs,
    /// Run each channel's reconciliation of its previous day every day at this time (UTC,
    /// `HH:MM`): once per day across all replicas. Without it, runs are started by hand
    /// (`POST /v1/reconciliation/runs`, `arbiter recon run`).
    #[arg(long, env = "ARBITER_RECON_AT")]
    pub recon_at: Option<NaiveTime>,
}

fn channel_fee(text: &str) -> Result<(String, FeeSchedule), String> {
    let (channel, schedule) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not CHANNEL=RATE[+FIXED]"))?;
    if !STATEMENT_CHANNELS.contains(&channel) {
        return Err(format!(
            "`{channel}` is not one of {}",
            STATEMENT_CHANNELS.join(", ")
        ));
    }
    Ok((channel.to_owned(), FeeSchedule::parse(channel, schedule)?))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        recon: ReconArgs,
    }

    #[test]
    fn fee_schedules_and_the_daily_time_are_read_from_flags() {
        let cli = Cli::try_parse_from([
            "arbiter",
            "--fee-schedule",
            "card=0.029+0.30",
            "--fee-schedule",
            "alipay=0.006",
            "--recon-at",
            "06:30",
        ])
        .expect("flags");
        let schedules = cli.recon.fees.schedules();
        assert_eq!(schedules.len(), 2);
        assert_eq!(
            schedules["alipay"],
            FeeSchedule::parse("alipay", "0.006").expect("rate")
        );
        assert_eq!(cli.recon.recon_at, NaiveTime::from_hms_opt(6, 30, 0));
        for bad in ["paypal=0.01", "card", "card=1.5"] {
            assert!(
                Cli::try_parse_from(["arbiter", "--fee-schedule", bad]).is_err(),
                "{bad}"
            );
        }
    }
}
