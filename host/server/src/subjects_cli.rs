//! `arbiter subjects erase`: a person's erasure from the command line, through a running
//! server (`POST /v1/subjects/erase`, an `admin` key), so the server that holds them in
//! memory (link graph, velocity, lists) forgets them too. Prints what was done.

use clap::{ArgGroup, Args, Subcommand};
use serde_json::{Map, Value};

use crate::remote::{Remote, client, print, send};

#[derive(Debug, Subcommand)]
pub enum SubjectsCommand {
    /// Replace a person's identifiers in every stored record by keyed pseudonyms, delete the
    /// list entries and snoozes naming them, and forget their velocity and graph names.
    Erase(EraseArgs),
}

/// The person, by exactly one identifier.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("subject").required(true).args(["user_id", "email", "phone"])))]
pub struct EraseArgs {
    #[arg(long)]
    pub user_id: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[command(flatten)]
    pub remote: Remote,
}

pub async fn run(cmd: SubjectsCommand) -> anyhow::Result<()> {
    let SubjectsCommand::Erase(args) = cmd;
    let named = [
        ("user_id", args.user_id),
        ("email", args.email),
        ("phone", args.phone),
    ];
    let body: Map<String, Value> = named
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), Value::String(v))))
        .collect();
    let request = client(&args.remote, reqwest::Method::POST, "/v1/subjects/erase").json(&body);
    print(&send(request).await?)
}
