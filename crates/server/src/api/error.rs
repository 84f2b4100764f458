//! The one error shape of the API: `{"status":"error","code":…,"error_message":…,"location":null}`
//! (the original's answer shape `status`/`location`/`error_message`, so a refused sale reads as
//! the original's did), plus `details` where there is more to show.
//! Internal causes are logged, never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use stocksync_domain::PosError;
use stocksync_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs the header 'Authorization: Bearer <ApiKey>'",
        )
    }

    /// A failure that is ours, not the caller's: the cause goes to the log only.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "stocksync could not complete the request; the cause is in its log",
        )
    }
}

/// The one error shape, as sent.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `error`.
    status: &'static str,
    /// What went wrong, for programs: `invalid_request`, `invalid_json`, `not_found`, …
    code: &'static str,
    /// What went wrong, for people: names the field at fault and, for a number, its bounds.
    error_message: String,
    /// Always `null` here (the original's field).
    #[schema(value_type = Option<String>)]
    location: Option<()>,
    /// More to show (candidates, the existing link), where there is.
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: "error",
            code: self.code,
            error_message: self.message,
            location: None,
            details: self.details,
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::internal(&err)
    }
}

/// A POS failure during a request (registration looks products up on the POS).
impl From<PosError> for ApiError {
    fn from(err: PosError) -> Self {
        let (status, code) = match &err {
            PosError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            PosError::Rejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "pos_rejected"),
            PosError::Unauthorized(_) => (StatusCode::BAD_GATEWAY, "pos_unauthorized"),
            PosError::Unsupported(_) => (StatusCode::NOT_IMPLEMENTED, "pos_unsupported"),
            PosError::RateLimited { .. }
            | PosError::BudgetExhausted(_)
            | PosError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "pos_unavailable"),
        };
        Self::new(status, code, err.to_string())
    }
}

/// A shop platform's failure: the shop is at fault or away, never the caller (502 or 503).
impl From<stocksync_domain::ShopError> for ApiError {
    fn from(err: stocksync_domain::ShopError) -> Self {
        use stocksync_domain::ShopError;
        let (status, code) = match &err {
            ShopError::Unauthorized(_) => (StatusCode::BAD_GATEWAY, "shop_unauthorized"),
            ShopError::NotFound(_) | ShopError::Rejected(_) => {
                (StatusCode::BAD_GATEWAY, "shop_rejected")
            }
            ShopError::RateLimited { .. } | ShopError::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "shop_unavailable")
            }
        };
        Self::new(status, code, err.to_string())
    }
}

/// Malformed JSON, wrong types, a number out of its bounds, a missing `Content-Type` or an
/// oversized body: the status axum chose (400, 413, 415, 422) and its explanation, which names
/// the field at fault (and a number's bounds).
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let code = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "invalid_json",
        };
        Self::new(rejection.status(), code, rejection.body_text())
    }
}

/// A query parameter of the wrong type or, for a number, out of its bounds (named with them).
impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}
