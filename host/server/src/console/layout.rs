//! The page shell every console page shares: the top bar with the reviewer's name and
//! sign-out, the style sheet, the script and the undo toast.

use maud::{DOCTYPE, Markup, html};

use crate::console::session::Reviewer;

/// A page for a signed-in reviewer.
pub fn page(title: &str, reviewer: &Reviewer, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body {
                header.top {
                    a.brand href="/console/queue" { "Arbiter" }
                    a href="/console/queue" { "Queue" }
                    a href="/console/snoozes" { "Snoozes" }
                    a href="/console/outcomes" { "Outcomes" }
                    span.who { "Signed in as " strong { (reviewer.name()) } }
                    form method="post" action="/console/sign-out" {
                        input type="hidden" name="csrf" value=(reviewer.csrf());
                        button type="submit" { "Sign out" }
                    }
                }
                main { (body) }
                div #toast role="status" aria-live="polite" {}
                script src="/console/assets/console.js" defer {}
            }
        }
    }
}

/// A page without a session: sign-in and errors.
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body {
                header.top { span.brand { "Arbiter" } }
                main { (body) }
            }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · Arbiter" }
        link rel="stylesheet" href="/console/assets/console.css";
    }
}
