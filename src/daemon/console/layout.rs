//! The page shell of the console: the head (the embedded stylesheet and
//! script, nothing inline), the navigation, the flash message, and the
//! small pieces pages share (a state's badge, an action's form). Every
//! text is escaped by `maud` unless it is `PreEscaped` markup made here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::auth::User;
use crate::store::FileState;

/// The navigation: each page's path and name, in order. A new page group
/// gets its entry here and its routes in [`super::router`].
pub const NAV: &[(&str, &str)] = &[
    ("/", "Overview"),
    ("/orders", "Orders"),
    ("/exceptions", "Exceptions"),
    ("/measures", "Measures"),
    ("/files", "Files"),
    ("/quarantine", "Quarantine"),
    ("/deliveries", "Deliveries"),
    ("/invoices", "Invoices"),
    ("/partners", "Partners"),
];

/// A page of the console for `user`, `active` its entry in [`NAV`].
pub fn page(user: &User, active: &str, title: &str, body: Markup) -> Response {
    let body = html! {
        nav #nav {
            a .brand href="/" { "dropgate" }
            ul {
                @for (href, name) in NAV {
                    li {
                        a href=(href) data-nav=(name.to_lowercase()) aria-current=[(*href == active).then_some("page")] { (name) }
                    }
                }
            }
            form #logout-form .logout method="post" action="/logout" {
                input type="hidden" name="csrf" value=(user.csrf);
                span #user-name .user { (user.name) }
                button #logout type="submit" { "Log out" }
            }
        }
        main {
            @if let Some(flash) = &user.flash {
                @let kind = if flash.ok { "done" } else { "refused" };
                p #flash .flash .(kind) data-flash=(kind) role="status" { (flash.text) }
            }
            h1 { (title) }
            (body)
        }
    };
    shell(StatusCode::OK, title, Some(user), body)
}

/// The whole document around `body`.
pub fn shell(status: StatusCode, title: &str, user: Option<&User>, body: Markup) -> Response {
    let document = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · dropgate" }
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body data-user=[user.map(|u| u.name.as_str())] {
                (body)
            }
        }
    };
    (
        status,
        [("content-type", "text/html; charset=utf-8")],
        document.into_string(),
    )
        .into_response()
}

/// A page with a message only (an error, a refusal), without the
/// navigation.
pub fn bare(status: StatusCode, title: &str, message: &str) -> Response {
    shell(
        status,
        title,
        None,
        html! {
            main .bare {
                h1 { (title) }
                p #message { (message) }
                p { a href="/" { "Back to the overview" } }
            }
        },
    )
}

/// A file state's badge.
pub fn state(s: FileState) -> Markup {
    html! { span .state .(s.as_str()) data-state=(s.as_str()) { (s.as_str()) } }
}

/// A moment as stored (RFC 3339, UTC), shorter for people: `2026-12-06
/// 18:03:21 UTC`, in a `time` element.
pub fn when(at: &str) -> Markup {
    let shown = chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_string());
    html! { time datetime=(at) { (shown) } }
}

/// A button that posts an action (with the session's token): `id` is
/// its element's id; `confirm`, when not empty, is asked first (by the
/// script; without it the form posts at once).
pub fn action(
    user: &User,
    path: &str,
    id: &str,
    label: &str,
    confirm: &str,
    hidden: &[(&str, &str)],
) -> Markup {
    html! {
        form .action method="post" action=(path) data-confirm=[(!confirm.is_empty()).then_some(confirm)] {
            input type="hidden" name="csrf" value=(user.csrf);
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            button id=(id) type="submit" data-action=(label.to_lowercase()) { (label) }
        }
    }
}

/// The first `lines` lines of a text, with a note of how many more.
pub fn first_lines(text: &str, lines: usize) -> Markup {
    let more = text.lines().count().saturating_sub(lines);
    html! {
        pre .detail { (text.lines().take(lines).collect::<Vec<_>>().join("\n")) }
        @if more > 0 {
            p .note { "… " (more) " more line(s) on the file's page" }
        }
    }
}
