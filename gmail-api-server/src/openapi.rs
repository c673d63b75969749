//! The OpenAPI 3.1 document (utoipa) at `/openapi.json` and Swagger UI at `/docs/` (vendored
//! assets: works with no network).

use actix_web::{web, HttpResponse};
use utoipa::openapi::{self, ContentBuilder, OpenApi as Doc, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::routes::{
    attachments, audit, changes, compose, connections, drafts, events, filters, labels, members,
    messages, profile, settings, threads, tools, webhooks,
};

/// RFC 7807 problem details: every error answer, `application/problem+json`.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"type": "https://gmail-servers.dev/problems/invalid-argument", "title": "Invalid argument", "status": 400, "detail": "invalid argument `to`: \"bob@\" is not an email address", "field": "to"}))]
pub struct Problem {
    /// A URI naming the class of problem.
    #[schema(rename = "type")]
    problem_type: String,
    title: String,
    status: u16,
    /// What went wrong, for a person to read.
    detail: String,
    /// The rejected request field (400).
    field: Option<String>,
    /// Seconds to wait before retrying (429; also the Retry-After header).
    #[schema(rename = "retryAfterSecs")]
    retry_after_secs: Option<u64>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gmail-servers REST API",
        description = "Gmail for host services: the same operations as the MCP server's tools, as REST resources, plus the tool registry itself under /api/v1/tools. JSON is camelCase; errors are RFC 7807 application/problem+json. Pages: pass `nextPageToken` back as `pageToken`. `account` picks the connected mailbox in multi-user deployments.",
        license(name = "MIT")
    ),
    paths(
        crate::routes::health,
        messages::list, messages::get, compose::send_message, compose::reply, compose::forward,
        messages::modify, messages::trash, messages::untrash, messages::delete,
        messages::batch_modify, messages::batch_delete,
        attachments::download,
        threads::list, threads::get, threads::modify, threads::trash, threads::untrash,
        labels::list, labels::get, labels::create, labels::get_or_create, labels::update,
        labels::delete,
        drafts::list, drafts::get, drafts::create, drafts::update, drafts::send, drafts::delete,
        filters::list, filters::get, filters::create, filters::from_template, filters::delete,
        profile::get, changes::list, events::stream,
        webhooks::create, webhooks::list, webhooks::get, webhooks::delete, webhooks::test,
        webhooks::deliveries,
        settings::get_vacation, settings::set_vacation, settings::send_as,
        tools::list, tools::get, tools::call,
        connections::list, connections::start, connections::check, connections::disconnect,
        audit::list,
        members::me, members::my_keys, members::create_key, members::revoke_my_key,
        members::my_clients, members::revoke_my_client,
        members::users, members::user_keys, members::disable, members::enable,
        members::revoke_any_key,
    ),
    components(schemas(Problem)),
    modifiers(&ErrorResponses),
    tags(
        (name = "messages", description = "Search, read, send, reply, forward, labels, trash, delete"),
        (name = "attachments", description = "Attachment bytes"),
        (name = "threads", description = "Conversations"),
        (name = "labels", description = "System and user labels"),
        (name = "drafts", description = "Drafts"),
        (name = "filters", description = "Incoming-mail filters"),
        (name = "profile", description = "The mailbox"),
        (name = "changes", description = "Polling for changes"),
        (name = "events", description = "New mail as events: webhooks signed per Standard Webhooks, and a Server-Sent Events stream resumable with Last-Event-ID"),
        (name = "settings", description = "Vacation responder, send-as identities"),
        (name = "tools", description = "The MCP tool registry"),
        (name = "connections", description = "Your connected Gmail accounts (multi-user mode)"),
        (name = "audit", description = "Your write actions, as the audit log recorded them"),
        (name = "members", description = "You and your API keys (multi-user mode)"),
        (name = "admin", description = "Users and keys, for the admins named in multi_user.admins"),
        (name = "health", description = "Liveness"),
    )
)]
pub struct ApiDoc;

/// The error answers every operation may give, added once instead of on each path.
struct ErrorResponses;

const ERRORS: &[(&str, &str)] = &[
    ("400", "Invalid request: `field` names what was rejected"),
    ("401", "The Gmail authorization expired or was revoked"),
    ("403", "The connection lacks the OAuth scope this needs, a guardrail refused it (allowlist, drafts-only, read-only, forwarding filters), or an admin endpoint was called by a member"),
    ("404", "No such message, thread, label, draft, filter, tool or path"),
    ("409", "Conflict: e.g. a label with that name exists, or an Idempotency-Key reused for another request"),
    ("413", "The request is over the size limit stated in `detail`"),
    ("429", "Gmail rate limit or the daily send cap: retry after the Retry-After header's seconds"),
    ("500", "Internal error, with detail"),
    ("502", "Gmail failed or answered unexpectedly"),
    ("503", "Gmail is unavailable"),
];

impl Modify for ErrorResponses {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (code, description) in ERRORS {
            let mut response = ResponseBuilder::new().description(*description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(openapi::Ref::from_schema_name("Problem"))))
                    .build(),
            );
            if *code == "429" {
                response = response.header(
                    "Retry-After",
                    openapi::HeaderBuilder::new()
                        .schema(Some(
                            openapi::ObjectBuilder::new().schema_type(openapi::Type::Integer),
                        ))
                        .description(Some("Seconds to wait"))
                        .build(),
                );
            }
            components
                .responses
                .insert(format!("Error{code}"), RefOr::T(response.build()));
        }
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for (code, _) in ERRORS {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| {
                            RefOr::Ref(openapi::Ref::new(format!(
                                "#/components/responses/Error{code}"
                            )))
                        });
                }
            }
        }
    }
}

pub fn document() -> Doc {
    ApiDoc::openapi()
}

pub fn configure(cfg: &mut web::ServiceConfig, doc: Doc) {
    cfg.route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        }),
    )
    .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc));
}
