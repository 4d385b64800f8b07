//! Schemas for the string fields and parameters that take one of the engine's names (scopes,
//! labels and their sources, list names and kinds, checkpoints, review outcomes, audit
//! actions), built from the engine's own lists: the document states every value the service
//! accepts, and cannot drift from what it parses. Used with `#[schema(schema_with = …)]` and
//! `#[param(schema_with = …)]`.

use arbiter_engine::audit::action;
use arbiter_engine::backtest::ListsMode;
use arbiter_engine::feedback::{LabelKind, LabelSource, ReviewOutcome, ReviewStatus};
use arbiter_engine::keys::Scope;
use arbiter_engine::lists::{ListKind, ListName};
use arbiter_engine::policy_set::FailMode;
use arbiter_engine::registry::RolloutMode;
use arbiter_engine::{Checkpoint, Money};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

/// A string that is one of `names`.
pub fn one_of(names: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

pub fn scopes() -> Array {
    ArrayBuilder::new()
        .items(one_of(Scope::ALL.map(Scope::as_str)))
        .min_items(Some(1))
        .build()
}

/// A list of label kinds (a backtest's fraud set).
pub fn label_kinds() -> Array {
    ArrayBuilder::new()
        .items(one_of(LabelKind::ALL.map(LabelKind::as_str)))
        .build()
}

/// Which lists a backtest applies.
pub fn lists_mode() -> Object {
    one_of(ListsMode::ALL.map(ListsMode::as_str))
}

pub fn label_kind() -> Object {
    one_of(LabelKind::ALL.map(LabelKind::as_str))
}

/// The labels a reviewer gives: a chargeback is the channel's to report, not a reviewer's.
pub fn reviewer_label() -> Object {
    let labels = LabelKind::ALL
        .into_iter()
        .filter(|k| *k != LabelKind::Chargeback);
    one_of(labels.map(LabelKind::as_str))
}

pub fn label_source() -> Object {
    one_of(LabelSource::ALL.map(LabelSource::as_str))
}

pub fn list_name() -> Object {
    one_of(ListName::ALL.map(ListName::as_str))
}

pub fn list_kind() -> Object {
    one_of(ListKind::ALL.map(ListKind::as_str))
}

/// A checkpoint, or `null` (an optional body field that accepts an explicit null).
pub fn checkpoint_or_null() -> Object {
    let values = Checkpoint::ALL
        .map(|c| serde_json::Value::from(c.as_str()))
        .into_iter()
        .chain([serde_json::Value::Null]);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

pub fn checkpoint() -> Object {
    one_of(Checkpoint::ALL.map(Checkpoint::as_str))
}

pub fn review_outcome() -> Object {
    one_of(ReviewOutcome::ALL.map(ReviewOutcome::as_str))
}

/// A review's status, or `all` for both.
pub fn review_status_or_all() -> Object {
    one_of(
        ReviewStatus::ALL
            .map(ReviewStatus::as_str)
            .into_iter()
            .chain(["all"]),
    )
}

pub fn rollout_mode() -> Object {
    one_of(RolloutMode::ALL.map(RolloutMode::as_str))
}

/// The payment channels a payment may start on.
pub fn channel() -> Object {
    one_of(CHANNELS)
}

/// Every channel of the channel table.
pub const CHANNELS: [&str; 3] = ["card", "alipay", "wechat"];

/// A payment method a channel takes.
pub fn payment_method() -> Object {
    one_of(["card", "qr"])
}

/// How a policy set treats a module that faults.
pub fn fail_mode() -> Object {
    one_of(FailMode::ALL.map(FailMode::as_str))
}

/// The kinds of entity the link graph holds.
pub fn entity_kind() -> Object {
    one_of(arbiter_graph::EntityKind::ALL.map(arbiter_graph::EntityKind::as_str))
}

pub fn audit_action() -> Object {
    one_of(action::ALL)
}

/// An ISO 4217 code the money type accepts.
pub fn currency() -> Object {
    one_of(Money::currency_codes())
}

/// A plain decimal amount: digits, then an optional point and decimals; below 10^12. How
/// many decimals a currency allows the schema cannot say (USD 2, JPY 0): the route does.
pub fn amount_value() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^[0-9]{1,12}(\.[0-9]+)?$"))
        .examples(["129.99"])
        .build()
}

/// A rate table's rates: currency code → a decimal string with at most 9 digits each side
/// of the point; at most [`MAX_RATES`](arbiter_engine::money::reporting::MAX_RATES).
pub fn rates() -> Object {
    let rate = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^[0-9]{1,9}(\.[0-9]{1,9})?$"))
        .examples(["1.08"]);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(rate))
        .max_properties(Some(arbiter_engine::money::reporting::MAX_RATES))
        .examples([serde_json::json!({"EUR": "1.08", "JPY": "0.0067"})])
        .build()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    /// The served document's schema of `field` in component `schema`.
    fn field(doc: &Value, schema: &str, field: &str) -> Value {
        doc["components"]["schemas"][schema]["properties"][field].clone()
    }

    #[test]
    fn the_document_states_the_names_a_field_takes() {
        let (_, doc) = crate::http::api();
        let doc = serde_json::to_value(doc).expect("document serialises");
        let scopes = field(&doc, "CreateKey", "scopes");
        assert_eq!(scopes["items"]["enum"][0], "decide", "{scopes}");
        assert_eq!(
            field(&doc, "CreateEntry", "kind")["enum"]
                .as_array()
                .map(Vec::len),
            Some(7)
        );
        let label = field(&doc, "CreateLabel", "label");
        assert_eq!(
            label["enum"],
            json!(["fraud", "legit", "chargeback", "account_takeover"])
        );
    }
}
