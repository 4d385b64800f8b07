//! Field paths in error messages (`user.id`, `attributes.tags[2]`), built only when an error
//! is: a walk over JSON pushes and pops steps, and renders them on a refusal. Keys are cut so
//! an error never echoes a huge key.

/// Longest key shown in a path.
const SHOWN_KEY_CHARS: usize = 64;

/// One step of a path.
pub(crate) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The dotted path; `body` for the top level.
pub(crate) fn render(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let mut chars = k.chars();
                out.extend(chars.by_ref().take(SHOWN_KEY_CHARS));
                if chars.next().is_some() {
                    out.push('…');
                }
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() { "body".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keys_indexes_and_cuts_long_keys() {
        assert_eq!(render(&[]), "body");
        assert_eq!(
            render(&[Step::Key("attributes"), Step::Key("tags"), Step::Index(2)]),
            "attributes.tags[2]"
        );
        let long = "k".repeat(500);
        assert_eq!(
            render(&[Step::Key(&long)]).chars().count(),
            SHOWN_KEY_CHARS + 1
        );
    }
}
