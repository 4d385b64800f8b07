//! `arbiter rates show|set`: the exchange-rate table of a running server, from the command
//! line. The table is a JSON file in the shape `POST /v1/rates` takes, so it can live in the
//! repository beside the rule files and be reviewed like them.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;

use crate::remote::{Remote, client, print, send};

#[derive(Debug, Subcommand)]
pub enum RatesCommand {
    /// Show the rate table in force (version 0: none was ever set; only USD converts).
    Show {
        #[command(flatten)]
        remote: Remote,
    },
    /// Set a new version from a JSON file: `{"reporting_currency": "USD", "rates": {"EUR":
    /// "1.08", "JPY": "0.0067"}}` (needs `policy:write`). The table in force again changes
    /// nothing.
    Set {
        file: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(cmd: RatesCommand) -> anyhow::Result<()> {
    match cmd {
        RatesCommand::Show { remote } => {
            print(&send(client(&remote, reqwest::Method::GET, "/v1/rates")).await?)
        }
        RatesCommand::Set { file, remote } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let table: Value = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            let request = client(&remote, reqwest::Method::POST, "/v1/rates").json(&table);
            print(&send(request).await?)
        }
    }
}
