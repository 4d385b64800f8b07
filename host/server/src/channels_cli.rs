//! `arbiter channels`: the channel table from the command line, against the database (no
//! server needed): list it, or switch a channel on or off for new payments with a reason, as
//! `POST /v1/channels/{name}/{enable,disable}` does (audited as the CLI's).

use arbiter_engine::audit::Actor;
use clap::Subcommand;

use crate::config::StorageArgs;
use crate::http::channel_table::{ChannelView, MAX_REASON, switch_reason};

#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// Print the channel table as JSON, highest priority first.
    List {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Switch a channel back on for new payments.
    Enable {
        /// `card`, `alipay` or `wechat`.
        name: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Switch a channel off: new payments go to the best other channel for their method.
    Disable {
        name: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

pub async fn run(command: ChannelsCommand) -> anyhow::Result<()> {
    let (name, enabled, reason, storage) = match command {
        ChannelsCommand::List { storage } => {
            let stores = crate::wiring::open_store(&storage).await?;
            // Offline, what a server has credentials for is unknown: `configured` says
            // whether the table would route to it at all (the card's always is).
            let views: Vec<ChannelView> = stores
                .transactions
                .channel_routes()
                .await?
                .into_iter()
                .map(|r| {
                    let card = r.name == arbiter_transactions::payment::CARD;
                    ChannelView::new(r, card)
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&views)?);
            return Ok(());
        }
        ChannelsCommand::Enable {
            name,
            reason,
            storage,
        } => (name, true, reason, storage),
        ChannelsCommand::Disable {
            name,
            reason,
            storage,
        } => (name, false, reason, storage),
    };
    let Some(reason) = switch_reason(&reason) else {
        anyhow::bail!("--reason must be 1 to {MAX_REASON} characters");
    };
    let stores = crate::wiring::open_store(&storage).await?;
    let Some(route) = stores
        .transactions
        .switch_channel(&name, enabled, reason, &Actor::cli())
        .await?
    else {
        anyhow::bail!("no channel `{name}` in the table");
    };
    eprintln!(
        "{name} is switched {} for new payments",
        if enabled { "on" } else { "off" }
    );
    let card = route.name == arbiter_transactions::payment::CARD;
    println!(
        "{}",
        serde_json::to_string_pretty(&ChannelView::new(route, card))?
    );
    Ok(())
}
