//! A rule file with a mistake is refused with the line, the column, what is wrong and,
//! where it can tell, what was meant.

mod support;

use arbiter_rules::{Diagnostics, Located};

fn problems(source: &str) -> (Diagnostics, Vec<Located>) {
    let problems = match arbiter_rules::compile(source, &support::options()) {
        Ok(_) => panic!("compiled, but should not have:\n{source}"),
        Err(problems) => problems,
    };
    let located = problems.located(source);
    (problems, located)
}

fn first(source: &str) -> Located {
    problems(source).1.remove(0)
}

#[test]
fn a_misspelt_attribute_is_named_with_what_was_meant() {
    let source =
        "rule geo\n  when card.contry != ip.country\n  then challenge\n  reason \"geo.mismatch\"\n";
    let (all, located) = problems(source);
    assert_eq!(located.len(), 1);
    let problem = &located[0];
    assert_eq!((problem.line, problem.column), (2, 8));
    assert_eq!(problem.message, "unknown attribute `card.contry`");
    assert_eq!(
        problem.help.as_deref(),
        Some("did you mean `card.country`?")
    );
    let rendered = all.render("geo.rules", source);
    assert!(rendered.contains("geo.rules:2:8"), "{rendered}");
    assert!(
        rendered.contains("when card.contry != ip.country"),
        "{rendered}"
    );
    assert!(rendered.contains("^^^^^^^^^^^"), "{rendered}");
}

#[test]
fn a_syntax_error_points_at_the_token() {
    let located = first("rule a\n  when amount > \n  then reject reason \"a.b\"\n");
    assert_eq!((located.line, located.column), (3, 3));
    assert_eq!(
        located.message,
        "expected an attribute, a value or a function, found `then`"
    );
    let located = first("rule a when amount = 5 then reject reason \"a.b\"");
    assert_eq!(located.column, 20);
    assert_eq!(located.help.as_deref(), Some("compare with `==`"));
    // The quote before `a.b` closes the one after `==`; the last one is left open.
    let located = first("rule a when email == \"x then reject reason \"a.b\"");
    assert_eq!((located.line, located.column), (1, 48));
    assert_eq!(located.message, "this string is not closed");
}

#[test]
fn type_errors_say_what_was_found() {
    let located = first("rule a when amount > \"5\" then reject reason \"a.b\"");
    assert_eq!(located.message, "the string \"5\" is not a number");
    let located = first("rule a when email < phone then reject reason \"a.b\"");
    assert_eq!(located.message, "texts cannot be ordered with `<`");
    let located = first("rule a when amount + 1 then reject reason \"a.b\"");
    assert!(
        located.message.starts_with("expected a condition"),
        "{located:?}"
    );
    let located = first("rule a when ip.is_proxy is missing then reject reason \"a.b\"");
    assert_eq!(located.message, "a condition is never missing");
    let located = first("rule a when startswith(email, \"x\") then reject reason \"a.b\"");
    assert_eq!(located.help.as_deref(), Some("did you mean `starts_with`?"));
    let located = first("rule a when order.create then reject reason \"a.b\"");
    assert!(located.message.contains("is a checkpoint"), "{located:?}");
    let located = first("rule a on order.creat when true then reject reason \"a.b\"");
    assert_eq!(
        located.help.as_deref(),
        Some("did you mean `order.create`?")
    );
}

#[test]
fn rules_that_could_never_matter_are_refused() {
    let located = first("rule a when 1 > 2 then reject reason \"a.b\"");
    assert_eq!(
        located.message,
        "rule `a` can never fire: its condition is always false"
    );
    let located = first("rule a when amount > 1 then score 0 reason \"a.b\"");
    assert!(
        located.message.starts_with("this effect changes nothing"),
        "{located:?}"
    );
    let located = first("rule a when lower(email) == \"Bob@x.io\" then reject reason \"a.b\"");
    assert_eq!(located.help.as_deref(), Some("write \"bob@x.io\""));
    let located = first("rule a when true then reject reason \"Geo Mismatch\"");
    assert!(
        located.message.contains("is not a reason code"),
        "{located:?}"
    );
    let located = first("rule a when true then reject reason \"score.mine\"");
    assert!(located.message.contains("the engine's own"), "{located:?}");
}

#[test]
fn every_problem_of_a_file_is_reported_at_once() {
    let source = "rule a when amonut > 1 then reject reason \"a.b\"\nrule a when true then reject reason \"c.d\"\nrule b when ip.contry == \"DE\" then reject reason \"e.f\"\n";
    let (_, located) = problems(source);
    let lines: Vec<usize> = located.iter().map(|l| l.line).collect();
    assert_eq!(lines, vec![1, 2, 3], "{located:?}");
}

#[test]
fn hostile_files_are_refused_without_overflowing_anything() {
    let deep = format!(
        "rule a when {}true{} then reject reason \"a.b\"",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let located = first(&deep);
    assert!(located.message.contains("nest deeper"), "{located:?}");
    let nots = format!(
        "rule a when {}true then reject reason \"a.b\"",
        "not ".repeat(10_000)
    );
    assert!(first(&nots).message.contains("nest deeper"));
    let long = format!(
        "rule a when amount > {} then reject reason \"a.b\"",
        "9".repeat(400)
    );
    assert_eq!(first(&long).message, "this number is too long");
    let many: String = (0..501)
        .map(|i| format!("rule r{i} when true then reject reason \"a.b\"\n"))
        .collect();
    assert!(
        first(&many).message.contains("at most 500 rules")
            || problems(&many)
                .1
                .iter()
                .any(|p| p.message.contains("at most 500 rules"))
    );
    assert_eq!(first("").message, "the file has no rules");
    assert_eq!(first("# only a comment\n").message, "the file has no rules");
}
