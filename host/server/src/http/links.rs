//! The OpenAPI links between operations: what a create answers names the thing a read,
//! cancel or next step takes (an order's id → its payment; a payment's id → its refund). A
//! generated client can follow them, and Schemathesis' stateful phase walks them to reach
//! what a random id never would. A started rollout links to the current rollout only: promote
//! and rollback each end the one active rollout, so after either the other rightly answers 404,
//! and a link to both would promise a resource that a sibling step had ended.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

use crate::http::openapi::operations_mut;

/// One link: from the `status` answer of `from` (an operation id), to the operation `to`,
/// filling its `parameters` from the answer (`$response.body#/…`) or the request
/// (`$request.path.…`).
struct LinkSpec {
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
}

const fn link(
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> LinkSpec {
    LinkSpec {
        from,
        status,
        name,
        to,
        parameters,
    }
}

const DECISION: &[(&str, &str)] = &[("decision_id", "$response.body#/decision_id")];
const BY_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];

const LINKS: &[LinkSpec] = &[
    link(
        "create_decision",
        "200",
        "GetDecision",
        "get_decision",
        DECISION,
    ),
    link("create_key", "201", "RevokeKey", "revoke_key", BY_ID),
    link("create_entry", "201", "DeleteEntry", "delete_entry", BY_ID),
    link(
        "upload_version",
        "201",
        "ListVersions",
        "list_versions",
        &[("name", "$request.path.name")],
    ),
    link(
        "create_set",
        "201",
        "GetSet",
        "get_set",
        &[("version", "$response.body#/version")],
    ),
    link(
        "start_rollout",
        "201",
        "CurrentRollout",
        "current_rollout",
        &[],
    ),
    link(
        "train_model",
        "202",
        "GetTrainingJob",
        "get_training_job",
        &[("job_id", "$response.body#/job_id")],
    ),
    link(
        "start_backtest",
        "202",
        "GetBacktest",
        "get_backtest",
        &[("backtest_id", "$response.body#/backtest_id")],
    ),
    link(
        "start_backtest",
        "202",
        "CancelBacktest",
        "cancel_backtest",
        &[("backtest_id", "$response.body#/backtest_id")],
    ),
    link(
        "review_queue",
        "200",
        "ResolveFirst",
        "resolve_review",
        &[("review_id", "$response.body#/items/0/review_id")],
    ),
    link(
        "create_label",
        "201",
        "LabelHistory",
        "label_history",
        &[("decision_id", "$response.body#/decision_id")],
    ),
    link(
        "put_sku",
        "201",
        "GetSku",
        "get_sku",
        &[("sku", "$response.body#/sku")],
    ),
    link(
        "put_sku",
        "201",
        "PutStock",
        "put_stock",
        &[("sku", "$response.body#/sku")],
    ),
    link("create_order", "201", "GetOrder", "get_order", BY_ID),
    link("create_order", "201", "CancelOrder", "cancel_order", BY_ID),
    link(
        "create_order",
        "201",
        "StartPayment",
        "start_payment",
        BY_ID,
    ),
    link("start_payment", "201", "GetPayment", "get_payment", BY_ID),
    link("request_refund", "201", "GetRefund", "get_refund", BY_ID),
];

/// `doc` as served. utoipa 5.5 writes a link's fields in snake case (`operation_id`), which
/// no OpenAPI reader understands; they are renamed here to the specification's camel case.
pub fn served(doc: &OpenApi) -> serde_json::Value {
    let mut value = serde_json::to_value(doc).unwrap_or_default();
    camel_case_links(&mut value);
    value
}

fn camel_case_links(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(fields) => {
            if let Some(Value::Object(links)) = fields.get_mut("links") {
                for link in links.values_mut().filter_map(Value::as_object_mut) {
                    for (snake, camel) in [
                        ("operation_id", "operationId"),
                        ("operation_ref", "operationRef"),
                        ("request_body", "requestBody"),
                    ] {
                        if let Some(v) = link.remove(snake) {
                            link.insert(camel.to_owned(), v);
                        }
                    }
                }
            }
            fields.values_mut().for_each(camel_case_links);
        }
        Value::Array(items) => items.iter_mut().for_each(camel_case_links),
        _ => {}
    }
}

/// Adds [`LINKS`] to the answers they start from.
pub fn document(doc: &mut OpenApi) {
    for (_, _, operation) in operations_mut(doc) {
        let Some(id) = operation.operation_id.clone() else {
            continue;
        };
        for spec in LINKS.iter().filter(|l| l.from == id) {
            let Some(RefOr::T(answer)) = operation.responses.responses.get_mut(spec.status) else {
                continue;
            };
            let built = spec
                .parameters
                .iter()
                .fold(
                    LinkBuilder::new().operation_id(spec.to),
                    |b, (name, value)| b.parameter(*name, *value),
                )
                .build();
            answer.links.insert(spec.name.to_owned(), RefOr::T(built));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::LINKS;

    /// Whether `schema` (through `$ref` and `allOf`) has the property `field`.
    fn has_property(doc: &Value, schema: &Value, field: &str) -> bool {
        if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            return has_property(doc, &doc["components"]["schemas"][name], field);
        }
        schema["properties"].get(field).is_some()
            || schema["allOf"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|part| has_property(doc, part, field))
    }

    #[test]
    fn every_link_joins_documented_operations_and_parameters() {
        let (_, doc) = crate::http::api();
        let doc = super::served(&doc);
        let mut operations: BTreeMap<String, Value> = BTreeMap::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                let id = op["operationId"].as_str().expect("id").to_owned();
                operations.insert(id, op.clone());
            }
        }
        for spec in LINKS {
            let from = &operations[spec.from];
            let answer = &from["responses"][spec.status];
            assert_eq!(
                answer["links"][spec.name]["operationId"], spec.to,
                "as OpenAPI spells it"
            );
            assert!(
                answer["links"][spec.name].is_object(),
                "{} {}: link {} missing",
                spec.from,
                spec.status,
                spec.name
            );
            let to = operations
                .get(spec.to)
                .unwrap_or_else(|| panic!("{}: no operation `{}`", spec.name, spec.to));
            let body = &answer["content"]["application/json"]["schema"];
            for (name, value) in spec.parameters {
                if let Some(field) = value.strip_prefix("$response.body#/")
                    && !field.contains('/')
                {
                    assert!(
                        has_property(&doc, body, field),
                        "{}: the answer of `{}` has no `{field}`",
                        spec.name,
                        spec.from
                    );
                }
                let declared = to["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["name"] == *name);
                assert!(declared, "{}: `{}` takes no `{name}`", spec.name, spec.to);
            }
        }
    }
}
