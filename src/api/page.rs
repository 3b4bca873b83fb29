//! The moderators' page: one HTML shell, its script and its style sheet, embedded in the binary
//! at build time (no build step, no CDN) and served without a key, since they hold no data.
//! Every case reaches the page through the JSON API, with the key the page asks for.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

const INDEX: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/page.js");
const STYLE: &str = include_str!("page/page.css");

/// Only this origin's script, style and API; nothing inline, no frames around the page.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                      connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
                      form-action 'none'; frame-ancestors 'none'";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(script))
        .routes(routes!(style))
}

/// The moderators' page. Public.
#[utoipa::path(get, path = "/", tag = "page", security(()),
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
async fn index() -> impl IntoResponse {
    serve("text/html; charset=utf-8", INDEX)
}

/// The page's script. Public.
#[utoipa::path(get, path = "/assets/page.js", tag = "page", security(()),
    responses((status = 200, description = "The script", content_type = "text/javascript", body = String)))]
async fn script() -> impl IntoResponse {
    serve("text/javascript; charset=utf-8", SCRIPT)
}

/// The page's style sheet. Public.
#[utoipa::path(get, path = "/assets/page.css", tag = "page", security(()),
    responses((status = 200, description = "The style sheet", content_type = "text/css", body = String)))]
async fn style() -> impl IntoResponse {
    serve("text/css; charset=utf-8", STYLE)
}

/// A file with its type, checked again on every load (`no-cache`), so a new binary's page is
/// never mixed with an old script.
fn serve(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page loads nothing from elsewhere and uses only the assets served here.
    #[test]
    fn the_page_refers_only_to_its_own_assets() {
        for asset in ["/assets/page.js", "/assets/page.css"] {
            assert!(INDEX.contains(asset), "index.html lacks {asset}");
        }
        for file in [INDEX, SCRIPT, STYLE] {
            // The SVG namespace names the charts' elements; nothing is loaded from it.
            let file = file.replace("http://www.w3.org/2000/svg", "");
            for outside in ["http://", "https://", "//fonts.", "@import"] {
                assert!(!file.contains(outside), "the page refers to {outside}");
            }
        }
        assert!(!INDEX.contains("style=\""), "inline style breaks the CSP");
        assert!(!INDEX.contains("onclick"), "inline handlers break the CSP");
    }
}
