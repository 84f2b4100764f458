//! The answers the layers around every route give (`hosts::guard`, `auth`, `harden`), described
//! once on every operation of the OpenAPI description rather than on each handler.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Which operations an answer of the layers can come from.
enum Reach {
    /// Every operation.
    All,
    /// Every operation but the webhooks (exempt from the host and origin checks).
    NotWebhooks,
    /// The operations that may change something (POST, PUT, PATCH, DELETE), but the webhooks.
    ChangesNotWebhooks,
}

const ANSWERS: &[(&str, Reach, &str)] = &[
    (
        "421",
        Reach::NotWebhooks,
        "`unknown_host`: the Host header is not one of AllowedHosts",
    ),
    (
        "403",
        Reach::ChangesNotWebhooks,
        "`foreign_origin`: a web page of another site asked for a change; or \
         `csrf_token_missing`: a change made with the dashboard's session lacks its X-CSRF-Token",
    ),
    (
        "500",
        Reach::All,
        "`internal`: stocksync could not complete the request; the cause is in its log",
    ),
    (
        "503",
        Reach::All,
        "`timeout`: no answer within RequestTimeoutSeconds (the request may have taken effect); \
         or `busy`: MaxConcurrentRequests requests are already running",
    ),
];

/// Adds the layers' answers, in the `ErrorBody` shape, to each operation of `description` they
/// can come from; where a handler already describes that status, its description is extended.
pub fn describe(description: &mut OpenApi) {
    for (path, item) in description.paths.paths.iter_mut() {
        let webhook = path.starts_with("/webhooks/");
        let operations = [
            (&mut item.get, false),
            (&mut item.head, false),
            (&mut item.options, false),
            (&mut item.trace, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
            (&mut item.delete, true),
        ];
        for (operation, changes) in operations {
            if let Some(operation) = operation {
                add_answers(operation, webhook, changes);
            }
        }
    }
}

fn add_answers(operation: &mut Operation, webhook: bool, changes: bool) {
    for (status, reach, description) in ANSWERS {
        let applies = match reach {
            Reach::All => true,
            Reach::NotWebhooks => !webhook,
            Reach::ChangesNotWebhooks => !webhook && changes,
        };
        if applies {
            let responses = &mut operation.responses.responses;
            match responses.get_mut(*status) {
                Some(RefOr::T(described)) => {
                    described.description = format!("{}; or {description}", described.description);
                }
                Some(RefOr::Ref(_)) => {}
                None => {
                    responses.insert((*status).to_owned(), RefOr::T(error_answer(description)));
                }
            }
        }
    }
}

fn error_answer(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{
        HttpMethod, OperationBuilder, PathItem, PathItemBuilder, PathsBuilder,
    };
    use utoipa::openapi::{Info, OpenApiBuilder};

    fn statuses(description: &OpenApi, path: &str, post: bool) -> Vec<String> {
        let item = description.paths.get_path_item(path).unwrap();
        let operation = if post { &item.post } else { &item.get };
        let responses = &operation.as_ref().unwrap().responses.responses;
        responses.keys().cloned().collect()
    }

    #[test]
    fn each_operation_gets_the_answers_that_can_reach_it() {
        let ours = OperationBuilder::new()
            .response("409", Response::new("a conflict"))
            .build();
        let paths = PathsBuilder::new()
            .path(
                "/api/items",
                PathItemBuilder::new()
                    .operation(HttpMethod::Get, Operation::new())
                    .operation(HttpMethod::Post, ours)
                    .build(),
            )
            .path(
                "/webhooks/square/{account}",
                PathItem::new(HttpMethod::Post, Operation::new()),
            );
        let mut description = OpenApiBuilder::new()
            .info(Info::new("t", "1"))
            .paths(paths)
            .build();
        describe(&mut description);
        assert_eq!(
            statuses(&description, "/api/items", false),
            ["421", "500", "503"]
        );
        assert_eq!(
            statuses(&description, "/api/items", true),
            ["403", "409", "421", "500", "503"]
        );
        assert_eq!(
            statuses(&description, "/webhooks/square/{account}", true),
            ["500", "503"]
        );
    }

    #[test]
    fn an_answer_a_handler_describes_is_extended() {
        let ours = OperationBuilder::new()
            .response("503", Response::new("the POS is down"))
            .build();
        let mut description = OpenApiBuilder::new()
            .info(Info::new("t", "1"))
            .paths(PathsBuilder::new().path("/x", PathItem::new(HttpMethod::Get, ours)))
            .build();
        describe(&mut description);
        let item = description.paths.get_path_item("/x").unwrap();
        let kept = &item.get.as_ref().unwrap().responses.responses["503"];
        let RefOr::T(kept) = kept else { panic!() };
        assert!(
            kept.description
                .starts_with("the POS is down; or `timeout`"),
            "{}",
            kept.description
        );
    }
}
