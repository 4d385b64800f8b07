//! `graph_ring`: the request's entities sit in or next to a fraud ring.
//!
//! The link graph ties devices, cards, addresses, e-mails, phones and IPs seen together.
//! Four of its features carry most of the signal: how close the nearest fraud-marked
//! entity is, how much of the 2-hop neighbourhood is labelled fraud, how many users the
//! connected group holds, and how many cards one device has used. Each adds score and the
//! strongest evidence acts on its own; reason details name the feature values so a
//! reviewer can see why. Requests without graph features pass.

use arbiter_policy_sdk::{Context, GraphFeatures, Verdict, fixed};

/// `fraud_share_2hop` from which the request is challenged.
pub const SHARE_CHALLENGE: f32 = 0.2;
/// `fraud_share_2hop` from which the request is rejected (in a group of at least
/// [`SHARE_REJECT_MIN_USERS`] users: one fraudster of two is thin evidence).
pub const SHARE_REJECT: f32 = 0.5;
pub const SHARE_REJECT_MIN_USERS: u32 = 3;
/// `group_users` from which the group counts as large, and as a likely farm.
pub const LARGE_GROUP_USERS: u32 = 10;
pub const FARM_GROUP_USERS: u32 = 25;
/// `cards_per_device` from which the device looks like a card-cycling device.
pub const MANY_CARDS: u32 = 4;
pub const CARD_CYCLING: u32 = 8;

pub fn evaluate(ctx: &Context) -> Verdict {
    let Some(graph) = ctx.graph() else {
        return Verdict::pass();
    };
    [
        fraud_distance(&graph),
        fraud_neighbourhood(&graph),
        group_size(&graph),
        cards_on_device(&graph),
    ]
    .into_iter()
    .fold(Verdict::pass(), Verdict::merge)
}

/// The nearest fraud-marked entity: the request's own (0 hops), a neighbour's, or farther.
fn fraud_distance(graph: &GraphFeatures) -> Verdict {
    let Some(hops) = graph.hops_to_fraud else {
        return Verdict::pass();
    };
    let verdict = match hops {
        0 => Verdict::pass().reject().score(60.0),
        1 => Verdict::pass().challenge().score(40.0),
        2 => Verdict::pass().score(15.0),
        _ => return Verdict::pass(),
    };
    verdict.reason("graph.fraud_linked", format!("hops_to_fraud={hops}"))
}

/// The share of labelled fraud among the users two hops out.
fn fraud_neighbourhood(graph: &GraphFeatures) -> Verdict {
    let share = graph.fraud_share_2hop;
    let verdict = if share >= SHARE_REJECT && graph.group_users >= SHARE_REJECT_MIN_USERS {
        Verdict::pass().reject().score(50.0)
    } else if share >= SHARE_CHALLENGE {
        Verdict::pass().challenge().score(25.0)
    } else {
        return Verdict::pass();
    };
    let detail = format!(
        "fraud_share_2hop={} group_users={}",
        fixed(f64::from(share), 2),
        graph.group_users
    );
    verdict.reason("graph.fraud_neighbourhood", detail)
}

/// A connected group with many users: shared devices and addresses at farm scale.
fn group_size(graph: &GraphFeatures) -> Verdict {
    let users = graph.group_users;
    let verdict = if users >= FARM_GROUP_USERS {
        Verdict::pass().challenge().score(30.0)
    } else if users >= LARGE_GROUP_USERS {
        Verdict::pass().score(15.0)
    } else {
        return Verdict::pass();
    };
    let detail = format!(
        "group_users={users} group_entities={}",
        graph.group_entities
    );
    verdict.reason("graph.large_group", detail)
}

/// One device cycling through many cards.
fn cards_on_device(graph: &GraphFeatures) -> Verdict {
    let cards = graph.cards_per_device;
    let verdict = if cards >= CARD_CYCLING {
        Verdict::pass().challenge().score(35.0)
    } else if cards >= MANY_CARDS {
        Verdict::pass().score(20.0)
    } else {
        return Verdict::pass();
    };
    verdict.reason(
        "graph.cards_per_device",
        format!("cards_per_device={cards}"),
    )
}

arbiter_policy_sdk::export_policy!(evaluate);

#[cfg(test)]
mod tests;
