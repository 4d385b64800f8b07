//! The OpenAPI document's frame; paths and schemas come from the handlers' annotations.

use axum::http::Method;
use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(title = "Arbiter", description = "Risk decisions for checkout and payments."),
    components(schemas(ProblemDoc)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// An RFC 9457 problem (`application/problem+json`), as every refusal and error answers.
#[derive(ToSchema)]
#[schema(as = Problem)]
#[expect(dead_code, reason = "documents the body `problem::ApiError` writes")]
struct ProblemDoc {
    /// A URI naming the problem's kind.
    r#type: String,
    title: String,
    /// The HTTP status, repeated.
    status: u16,
    /// What was wrong, naming the field or parameter.
    detail: String,
    /// A stable machine-readable code (`invalid_json`, `forbidden`, …).
    code: String,
    /// With `invalid_rules` only: every problem of the rule file.
    errors: Option<Vec<RuleProblemDoc>>,
}

/// One problem of a rule file.
#[derive(ToSchema)]
#[schema(as = RuleProblem)]
#[expect(
    dead_code,
    reason = "documents `arbiter_rules::Located` as `problem::ApiError` writes it"
)]
struct RuleProblemDoc {
    /// 1-based line.
    line: u32,
    /// 1-based column, in characters.
    column: u32,
    message: String,
    /// What was probably meant, or how to fix it.
    help: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Every operation of `doc` with its method and path template, to amend in place.
pub fn operations_mut(
    doc: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (Method, &str, &mut Operation)> {
    doc.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ]
        .into_iter()
        .filter_map(move |(method, op)| op.as_mut().map(|op| (method, path.as_str(), op)))
    })
}

/// A problem+json answer described as `description`.
pub fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}
