//! The case page's forms: resolve (or correct) with one key, and snooze a rule that fired for
//! one of the case's entities. Each posts to `case_actions.rs` with the session's CSRF token.

use maud::{Markup, html};

use arbiter_engine::feedback::{ReviewPageItem, ReviewStatus};

use crate::console::session::Reviewer;

pub fn actions_card(item: &ReviewPageItem, reviewer: &Reviewer) -> Markup {
    let r = &item.review;
    let action = format!("/console/cases/{}/resolve", r.review_id);
    html! {
        div.card #actions {
            @if let Some(l) = item.latest_label {
                p { "Already labelled " span class={ "pill " (l.kind.as_str()) } { (l.kind.as_str()) } " by " (l.source.as_str()) "." }
            }
            @match (&r.status, &r.resolution) {
                (ReviewStatus::Resolved, Some(res)) => {
                    h2 { "Resolved" }
                    p { span class={ "pill " (res.label.as_str()) } { (res.label.as_str()) } " by " (res.reviewer)
                        @if let Some(n) = &res.note { " — " (n) } }
                    @if r.resolved_by.as_deref() == Some(reviewer.0.key.id.as_str()) {
                        p.muted { "Wrong? Correct it (the audit log keeps both):" }
                        (verdict_form(&action, reviewer, true))
                    }
                }
                _ => {
                    h2 { "Resolve" }
                    (verdict_form(&action, reviewer, false))
                }
            }
        }
    }
}

fn verdict_form(action: &str, reviewer: &Reviewer, correcting: bool) -> Markup {
    html! {
        form #resolve method="post" action=(action) {
            input type="hidden" name="csrf" value=(reviewer.csrf());
            @if correcting { input type="hidden" name="correct" value="1"; }
            label { "Note (optional)" textarea name="note" maxlength="2000" {} }
            label.muted { span { input type="checkbox" name="supersede" value="1"; " overrule an earlier label that says otherwise" } }
            p.actions {
                button.fraud type="submit" name="verdict" value="fraud" data-key="f" data-undoable="Fraud" { "Fraud " kbd { "f" } }
                button.legit type="submit" name="verdict" value="legit" data-key="l" data-undoable="Legit" { "Legit " kbd { "l" } }
                button type="submit" name="verdict" value="account_takeover" data-undoable="Account takeover" { "Account takeover" }
                @if !correcting {
                    button type="submit" name="verdict" value="escalate" data-key="e" data-undoable="Escalate" { "Escalate " kbd { "e" } }
                }
            }
            p.muted { "A key press waits 5 s; press " kbd { "u" } " to undo. " kbd { "n" } " on the queue takes the next case." }
        }
    }
}

pub fn snooze_card(item: &ReviewPageItem, reviewer: &Reviewer) -> Markup {
    let d = &item.decision;
    let c = &d.context;
    let entities: Vec<(&str, &str)> = [
        ("user", Some(c.user_id.as_str())),
        ("email", c.email.as_deref()),
        ("device", c.device_id.as_deref()),
        ("card", c.card_fingerprint.as_deref()),
        ("phone", c.phone.as_deref()),
        ("ip", c.ip.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let fired = arbiter_engine::backtest::replay::fired(&d.layers.rules);
    html! {
        div.card #snooze {
            h2 { "Snooze a rule for this customer" }
            @if fired.is_empty() { p.muted { "No rule fired on this decision." } }
            @else {
                form.filters method="post" action={ "/console/cases/" (item.review.review_id) "/snooze" } {
                    input type="hidden" name="csrf" value=(reviewer.csrf());
                    label { "Rule" select name="rule" { @for r in &fired { option { (r) } } } }
                    label { "For" select name="entity" {
                        @for (k, v) in &entities { option value={ (k) ":" (v) } { (k) " " (v) } }
                    } }
                    label { "Days" input type="number" name="days" value="30" min="1" max="365"; }
                    label { "Why" input name="reason" required maxlength="500"; }
                    button type="submit" { "Snooze" }
                }
            }
        }
    }
}
