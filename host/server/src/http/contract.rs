//! The answers the edge gives whatever the handler, added to every operation of the OpenAPI
//! document from the shape of what it takes: a body can be malformed, too large, too slow or
//! of the wrong media type; a query or path parameter can fail to parse; any route can be
//! overloaded, lose its database or fail. Handlers document their own answers; this fills in
//! the shared ones and never replaces a handler's more specific description, so a client
//! generated from the document knows every status it can get.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr, Response};

use crate::http::openapi::{operations_mut, problem};

/// A string that holds no NUL character: every JSON body is screened for one and every query
/// and path parameter refused with one (PostgreSQL text cannot hold it), so no string the API
/// takes holds one.
const NO_NUL: &str = r"^[^\u0000]*$";

pub fn document(doc: &mut OpenApi) {
    if let Some(components) = doc.components.as_mut() {
        components.schemas.values_mut().for_each(no_nul);
    }
    for (_, _, operation) in operations_mut(doc) {
        let bodies = operation
            .request_body
            .iter_mut()
            .flat_map(|b| b.content.values_mut());
        bodies.filter_map(|c| c.schema.as_mut()).for_each(no_nul);
        let params = operation.parameters.iter_mut().flatten();
        params.filter_map(|p| p.schema.as_mut()).for_each(no_nul);
        let takes = |place: ParameterIn| {
            operation
                .parameters
                .iter()
                .flatten()
                .any(|p| p.parameter_in == place)
        };
        let (query, path) = (takes(ParameterIn::Query), takes(ParameterIn::Path));
        let json = operation
            .request_body
            .as_ref()
            .map(|b| b.content.contains_key("application/json"));
        let mut bad = Vec::new();
        if json == Some(true) {
            bad.push("the body is not JSON (`invalid_json`)");
        }
        if query {
            bad.push("a query parameter is invalid (`invalid_query`)");
        }
        if path {
            bad.push("a path parameter is invalid (`invalid_path`)");
        }
        if !bad.is_empty() {
            add(operation, "400", &sentence(&bad));
        }
        if json == Some(true) {
            add(
                operation,
                "422",
                "A field is missing, of the wrong type or invalid; the problem names it",
            );
        }
        if json.is_some() {
            add(
                operation,
                "408",
                "The body did not arrive in time (`body_timeout`)",
            );
            add(
                operation,
                "413",
                "The body is too large (`payload_too_large`)",
            );
            add(
                operation,
                "415",
                "The body's media type is not the one this route takes",
            );
        }
        add(operation, "500", "An internal error (`internal`)");
        add(
            operation,
            "503",
            "Overloaded or the database is unreachable (`overloaded`, `database_unavailable`); \
             retry after the `Retry-After` seconds",
        );
    }
}

/// Gives every string of `schema` that has no pattern, format or list of values the
/// [`NO_NUL`] pattern, through properties, items and compositions.
fn no_nul(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            let string = match &o.schema_type {
                SchemaType::Type(t) => *t == Type::String,
                SchemaType::Array(ts) => ts.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            if string && o.pattern.is_none() && o.format.is_none() && o.enum_values.is_none() {
                o.pattern = Some(NO_NUL.to_owned());
            }
            o.properties.values_mut().for_each(no_nul);
            if let Some(extra) = o.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(extra) = extra
            {
                no_nul(extra);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                no_nul(items);
            }
        }
        Schema::AllOf(x) => x.items.iter_mut().for_each(no_nul),
        Schema::OneOf(x) => x.items.iter_mut().for_each(no_nul),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(no_nul),
        _ => {}
    }
}

/// `parts` as one sentence, capitalised.
fn sentence(parts: &[&str]) -> String {
    let joined = parts.join(", or ");
    let mut chars = joined.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Documents `status` as `description` unless the handler already documents it.
fn add(operation: &mut Operation, status: &str, description: &str) {
    let answers = &mut operation.responses.responses;
    answers
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::<Response>::T(problem(description)));
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    fn document() -> Value {
        let (_, doc) = crate::http::api();
        serde_json::to_value(doc).expect("document serialises")
    }

    /// Every operation as (method, path, operation).
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
        out
    }

    #[test]
    fn every_path_parameter_of_every_template_is_declared() {
        let doc = document();
        for (method, path, op) in operations(&doc) {
            let in_template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert_eq!(in_template, declared, "{method} {path}");
        }
    }

    #[test]
    fn query_structs_are_declared_in_the_query() {
        let doc = document();
        for (method, path, op) in operations(&doc) {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().expect("name");
                if p["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn no_string_the_api_takes_holds_a_nul() {
        let doc = document();
        let name = &doc["components"]["schemas"]["CreateKey"]["properties"]["name"];
        assert!(
            name["pattern"]
                .as_str()
                .is_some_and(|p| p.contains("u0000")),
            "{name}"
        );
        let reason = &doc["components"]["schemas"]["CreateEntry"]["properties"]["reason"];
        assert_eq!(reason["pattern"], super::NO_NUL, "{reason}");
        let actor = &doc["paths"]["/v1/audit"]["get"]["parameters"][0];
        assert_eq!(actor["name"], "actor");
        assert_eq!(actor["schema"]["pattern"], super::NO_NUL, "{actor}");
        let kind = &doc["components"]["schemas"]["CreateEntry"]["properties"]["kind"];
        assert!(
            kind.get("pattern").is_none(),
            "a list of values needs no pattern: {kind}"
        );
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut seen = BTreeSet::new();
        for (method, path, op) in operations(&doc) {
            let id = op["operationId"]
                .as_str()
                .expect("an operation id")
                .to_owned();
            assert!(
                seen.insert(id.clone()),
                "{method} {path}: `{id}` is used twice"
            );
        }
    }

    #[test]
    fn every_operation_documents_the_edge_answers() {
        let doc = document();
        for (method, path, op) in operations(&doc) {
            let answers = &op["responses"];
            for status in ["500", "503"] {
                assert!(answers.get(status).is_some(), "{method} {path}: {status}");
            }
            if op.get("requestBody").is_some() {
                for status in ["408", "413", "415"] {
                    assert!(answers.get(status).is_some(), "{method} {path}: {status}");
                }
            }
            let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            if has_params {
                assert!(answers.get("400").is_some(), "{method} {path}: 400");
            }
        }
    }
}
