//! Architecture invariants, checked on the parsed source (`syn`), not on
//! its text: who may use whom (the table of ARCHITECTURE.md), every module
//! opens with a doc comment, and the X12 core does no I/O of its own.
//!
//! A reference to another module is any path that reaches it: a `use`
//! (grouped and nested trees, renames, globs and `pub use` re-exports
//! alike), a path written inline in an expression, a type, a pattern, an
//! attribute or a macro call (`crate::store::Store::open(..)`), a path in
//! a macro's tokens, and a `super::` path that climbs out of its top-level
//! module. Each is resolved against the module the code sits in (files and
//! inline `mod` blocks), so `super::super::daemon::X` in `src/x12/a/b.rs`
//! is `crate::daemon::X`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::Visit;

/// Top-level modules of `src/` and the modules each may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("transport", &["as2", "pgp"]),
    ("as2", &[]),
    ("pgp", &[]),
    ("x12", &[]),
    ("model", &[]),
    ("format", &["x12"]),
    ("ocr", &["format"]),
    ("mapping", &["format", "model", "x12"]),
    ("reconcile", &["model"]),
    ("lifecycle", &["model", "reconcile", "store"]),
    ("relay", &[]),
    ("store", &[]),
    (
        "netsuite",
        &[
            "transport",
            "format",
            "mapping",
            "model",
            "reconcile",
            "x12",
        ],
    ),
    (
        "config",
        &[
            "transport",
            "relay",
            "store",
            "mapping",
            "reconcile",
            "ocr",
            "netsuite",
            "lifecycle",
            "as2",
            "pgp",
        ],
    ),
    (
        "daemon",
        &[
            "config",
            "transport",
            "x12",
            "format",
            "ocr",
            "mapping",
            "model",
            "reconcile",
            "relay",
            "store",
            "netsuite",
            "lifecycle",
            "as2",
            "pgp",
        ],
    ),
    (
        "cli",
        &[
            "config",
            "daemon",
            "transport",
            "x12",
            "format",
            "ocr",
            "mapping",
            "model",
            "reconcile",
            "relay",
            "store",
            "netsuite",
            "lifecycle",
            "as2",
            "pgp",
        ],
    ),
];

/// The modules that do no I/O of their own. `x12/defs` may read a
/// definitions folder on request; it is the one exception.
const NO_IO: &[&str] = &[
    "x12",
    "format",
    "model",
    "reconcile",
    "lifecycle",
    "as2",
    "pgp",
];

/// Paths (after the file's `use` aliases are expanded) that do I/O, or
/// read the process's surroundings, by themselves.
const IO_PATHS: &[&[&str]] = &[
    &["std", "fs"],
    &["std", "net"],
    &["std", "process"],
    &["std", "env"],
    &["std", "io", "stdin"],
    &["std", "io", "stdout"],
    &["std", "io", "stderr"],
    &["std", "os", "unix", "fs"],
    &["std", "os", "unix", "net"],
    &["tokio", "fs"],
    &["tokio", "net"],
    &["tokio", "process"],
    &["tokio", "io", "stdin"],
    &["tokio", "io", "stdout"],
    &["tokio", "io", "stderr"],
    &["rustix"],
];

/// Macros that write to the process's own output.
const IO_MACROS: &[&str] = &["print", "println", "eprint", "eprintln", "dbg"];

/// Methods of `std::path::Path` that ask the file system.
const IO_METHODS: &[&str] = &[
    "exists",
    "try_exists",
    "is_file",
    "is_dir",
    "is_symlink",
    "metadata",
    "symlink_metadata",
    "read_dir",
    "read_link",
    "canonicalize",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module a file of `src/` is: `x12/validate/mod.rs` is
/// `["x12", "validate"]`, `lib.rs` is `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).expect("under src");
    let mut path: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        path.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        path.pop();
    }
    path
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file).expect("readable");
    parse_text(&text, &file.display().to_string())
}

fn parse_text(text: &str, name: &str) -> syn::File {
    syn::parse_file(text).unwrap_or_else(|e| {
        let at = e.span().start();
        panic!("{name}:{}:{}: {e}", at.line, at.column + 1)
    })
}

/// Every path, macro and method call of a parsed file of module `here`.
fn scan(file: &syn::File, here: Vec<String>, skip_tests: bool) -> Paths {
    let mut paths = Paths {
        here,
        skip_tests,
        ..Paths::default()
    };
    paths.visit_file(file);
    paths
}

/// A path as written, with the line it starts on.
#[derive(Debug)]
struct Written {
    line: usize,
    segments: Vec<String>,
}

/// Every path of a file, each with the module it is written in.
#[derive(Default)]
struct Paths {
    /// The module of the code being visited (the file's, plus inline `mod`s).
    here: Vec<String>,
    found: Vec<(Vec<String>, Written)>,
    /// `use` names of the file, to what they stand for (as written).
    aliases: BTreeMap<String, Vec<String>>,
    /// Macros called, by last segment, with their line.
    macros: Vec<(String, usize)>,
    /// Method calls, by name, with their line.
    methods: Vec<(String, usize)>,
    /// Skip items under `#[cfg(test)]`.
    skip_tests: bool,
}

fn line_of(ident: &proc_macro2::Ident) -> usize {
    ident.span().start().line
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// Every path a `use` tree brings in, each ending at the name it binds
/// (`self` in a group binds its prefix), with that name.
fn flatten(tree: &syn::UseTree, prefix: &mut Vec<proc_macro2::Ident>, out: &mut Vec<UseEntry>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.clone());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            if n.ident != "self" {
                path.push(n.ident.clone());
            }
            let bound = path.last().map(|i| i.to_string());
            out.push(UseEntry {
                path,
                line: line_of(&n.ident),
                bound,
            });
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.clone());
            }
            out.push(UseEntry {
                path,
                line: line_of(&r.ident),
                bound: Some(r.rename.to_string()),
            });
        }
        syn::UseTree::Glob(g) => out.push(UseEntry {
            path: prefix.clone(),
            line: g.star_token.spans[0].start().line,
            bound: None,
        }),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten(t, prefix, out);
            }
        }
    }
}

struct UseEntry {
    path: Vec<proc_macro2::Ident>,
    /// The line it is written on.
    line: usize,
    /// The name it binds, if any (globs bind none).
    bound: Option<String>,
}

impl Paths {
    fn push(&mut self, segments: Vec<String>, line: usize) {
        if segments.is_empty() {
            return;
        }
        self.found
            .push((self.here.clone(), Written { line, segments }));
    }

    /// `crate :: a :: b`, `super :: a`, `$crate :: a` in a macro's tokens
    /// (which `syn` leaves unparsed).
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let flat: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < flat.len() {
            if let TokenTree::Group(g) = &flat[i] {
                self.scan_tokens(g.stream());
                i += 1;
                continue;
            }
            let TokenTree::Ident(first) = &flat[i] else {
                i += 1;
                continue;
            };
            let name = first.to_string();
            if !matches!(name.as_str(), "crate" | "super" | "self") || path_sep_before(&flat, i) {
                i += 1;
                continue;
            }
            let line = line_of(first);
            let mut segments = vec![name];
            let mut j = i + 1;
            while path_sep_at(&flat, j) {
                let Some(TokenTree::Ident(next)) = flat.get(j + 2) else {
                    break;
                };
                segments.push(next.to_string());
                j += 3;
            }
            if segments.len() > 1 {
                self.push(segments, line);
            }
            i = j.max(i + 1);
        }
    }
}

/// Whether `tokens[at..]` starts with `::`.
fn path_sep_at(tokens: &[TokenTree], at: usize) -> bool {
    matches!(
        (tokens.get(at), tokens.get(at + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

/// Whether the token at `at` follows a `::` (it is not a path's start).
fn path_sep_before(tokens: &[TokenTree], at: usize) -> bool {
    at >= 2 && path_sep_at(tokens, at - 2)
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if self.skip_tests && is_cfg_test(&m.attrs) {
            return;
        }
        self.here.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.here.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if self.skip_tests && is_cfg_test(&f.attrs) {
            return;
        }
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if self.skip_tests && is_cfg_test(&i.attrs) {
            return;
        }
        syn::visit::visit_item_impl(self, i);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if self.skip_tests && is_cfg_test(&u.attrs) {
            return;
        }
        if u.leading_colon.is_some() {
            return; // `use ::name`: an external crate
        }
        let mut entries = Vec::new();
        flatten(&u.tree, &mut Vec::new(), &mut entries);
        for e in entries {
            let segments: Vec<String> = e.path.iter().map(ToString::to_string).collect();
            if let Some(bound) = e.bound {
                self.aliases.insert(bound, segments.clone());
            }
            self.push(segments, e.line);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() {
            let segments = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = p.segments.first().map_or(0, |s| line_of(&s.ident));
            self.push(segments, line);
        }
        syn::visit::visit_path(self, p);
    }

    /// `pub(crate)`, `pub(super)`, `pub(in crate::a)` restrict who sees an
    /// item; they use nothing.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Some(last) = m.path.segments.last() {
            self.macros
                .push((last.ident.to_string(), line_of(&last.ident)));
        }
        self.scan_tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }

    fn visit_expr_method_call(&mut self, c: &'ast syn::ExprMethodCall) {
        self.methods
            .push((c.method.to_string(), line_of(&c.method)));
        syn::visit::visit_expr_method_call(self, c);
    }
}

/// Where a path written in module `here` points inside the crate, as a
/// path from the crate root; `None` for a path that does not start at
/// `crate`, `self` or `super` (a local name, or an external crate).
fn resolve(here: &[String], segments: &[String]) -> Option<Vec<String>> {
    let mut rest = segments;
    let mut base: Vec<String> = match rest.first().map(String::as_str) {
        Some("crate") => {
            rest = &rest[1..];
            Vec::new()
        }
        Some("self") => {
            rest = &rest[1..];
            here.to_vec()
        }
        Some("super") => here.to_vec(),
        _ => return None,
    };
    while rest.first().is_some_and(|s| s == "super") {
        // `super` above the crate root does not compile; it cannot occur.
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The top-level module each name of the crate root stands for: its
/// modules, and what `lib.rs` re-exports (`pub use daemon::Gateway;`).
fn root_names(lib: &syn::File) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in &lib.items {
        if let syn::Item::Mod(m) = item {
            out.insert(m.ident.to_string(), m.ident.to_string());
        }
    }
    for (bound, target) in scan(lib, Vec::new(), false).aliases {
        let target = resolve(&[], &target).unwrap_or(target);
        if let Some(module) = target.first().and_then(|m| out.get(m)).cloned() {
            out.insert(bound, module);
        }
    }
    out
}

/// The other top-level modules (or names of the crate root that are
/// none) a file of module `here` reaches, each with its line.
fn cross_references(
    file: &syn::File,
    here: Vec<String>,
    root: &BTreeMap<String, String>,
) -> Vec<(String, usize)> {
    let module = here.first().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (at, written) in scan(file, here, false).found {
        // A path starting at a local name, or at a name a `use` of this
        // file brought in (checked where the `use` is written), or at an
        // external crate, reaches no other module by itself.
        let Some(resolved) = resolve(&at, &written.segments) else {
            continue;
        };
        let target = match resolved.first() {
            // `use crate::*`, or `use super::*` up to the root.
            None => "the crate root (everything)".to_string(),
            Some(first) => root
                .get(first)
                .cloned()
                .unwrap_or_else(|| format!("crate::{first}")),
        };
        if target != module {
            out.push((target, written.line));
        }
    }
    out
}

/// The files of a top-level module.
fn files_of(module: &str) -> Vec<PathBuf> {
    let dir = src().join(module);
    let single = src().join(format!("{module}.rs"));
    if dir.is_dir() {
        rust_files(&dir)
    } else {
        assert!(single.is_file(), "src/{module} is missing");
        vec![single]
    }
}

#[test]
fn modules_use_only_downward() {
    let root = root_names(&parse(&src().join("lib.rs")));
    let mut violations = Vec::new();
    for (module, allowed) in ALLOWED {
        for file in files_of(module) {
            for (target, line) in cross_references(&parse(&file), module_of(&file), &root) {
                if !allowed.contains(&target.as_str()) {
                    violations.push(format!("{}:{line}: {module} uses {target}", file.display()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "uses against the layering:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_is_in_the_table() {
    let lib = parse(&src().join("lib.rs"));
    let declared: Vec<String> = lib
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Mod(m) => Some(m.ident.to_string()),
            _ => None,
        })
        .collect();
    let missing: Vec<&String> = declared
        .iter()
        .filter(|m| !ALLOWED.iter().any(|(a, _)| a == m))
        .collect();
    assert!(missing.is_empty(), "not in the layering table: {missing:?}");
}

#[test]
fn every_module_says_what_it_is_for() {
    let mut missing = Vec::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).expect("readable");
        if !text.trim_start().starts_with("//!") {
            missing.push(file.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a //! doc comment:\n{}",
        missing.join("\n")
    );
}

/// A path with the file's `use` names expanded (`fs::File` after
/// `use std::fs;` is `std::fs::File`), `core` and `alloc` read as `std`.
fn expand(aliases: &BTreeMap<String, Vec<String>>, segments: &[String]) -> Vec<String> {
    let mut path = segments.to_vec();
    // A chain of aliases is short; the bound stops a cycle.
    for _ in 0..8 {
        let Some(target) = path.first().and_then(|f| aliases.get(f)) else {
            break;
        };
        let mut next = target.clone();
        next.extend(path[1..].iter().cloned());
        if next == path {
            break;
        }
        path = next;
    }
    if matches!(path.first().map(String::as_str), Some("core" | "alloc")) {
        path[0] = "std".into();
    }
    path
}

/// The I/O a file does of its own (test code aside), each with its line.
fn io_in(file: &syn::File) -> Vec<(String, usize)> {
    let paths = scan(file, Vec::new(), true);
    let mut found = Vec::new();
    for (_, written) in &paths.found {
        let path = expand(&paths.aliases, &written.segments);
        if IO_PATHS
            .iter()
            .any(|p| path.len() >= p.len() && path.iter().zip(p.iter()).all(|(a, b)| a == b))
        {
            found.push((path.join("::"), written.line));
        }
    }
    for (name, line) in &paths.macros {
        if IO_MACROS.contains(&name.as_str()) {
            found.push((format!("{name}!"), *line));
        }
    }
    for (name, line) in &paths.methods {
        if IO_METHODS.contains(&name.as_str()) {
            found.push((format!(".{name}()"), *line));
        }
    }
    found
}

#[test]
fn the_x12_core_does_no_io_of_its_own() {
    // The core reads from the Read/AsyncRead it is given; files and sockets
    // belong to the layers above. The same holds for the format decoders
    // and the model.
    let mut found = Vec::new();
    for module in NO_IO {
        for file in rust_files(&src().join(module)) {
            if file.components().any(|c| c.as_os_str() == "defs") {
                continue;
            }
            for (what, line) in io_in(&parse(&file)) {
                found.push(format!("{}:{line}: {what}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "I/O in the X12 core:\n{}",
        found.join("\n")
    );
}

/// A module path from `a::b::c`.
fn module(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

#[test]
fn the_layering_check_sees_every_kind_of_path() {
    let lib = "pub mod daemon; pub mod store; pub mod x12; pub use daemon::Gateway;";
    let root = root_names(&parse_text(lib, "lib.rs"));
    let code = r#"
use crate::{daemon::Pipeline, store::{self, Store as S}};
use super::super::super::store::Archive;
use self::inner::Thing;
pub(crate) fn f() {
    let _ = crate::daemon::run();
    let _: Option<crate::store::Store> = None;
    let _ = format!("{}", crate::daemon::NAME);
    let _ = crate::Gateway::new();
    let _ = crate::VERSION;
    let _ = super::super::Sibling::new();
}
mod tests { use super::super::super::super::daemon::X; use super::Local; }
"#;
    let found = cross_references(&parse_text(code, "x12/a/b.rs"), module("x12::a::b"), &root);
    let expected = [
        ("daemon", 2),
        ("store", 2),
        ("store", 2),
        ("store", 3),
        ("daemon", 6),
        ("store", 7),
        ("daemon", 8),
        ("daemon", 9),
        ("crate::VERSION", 10),
        ("daemon", 13),
    ];
    let mut found: Vec<(&str, usize)> = found.iter().map(|(t, l)| (t.as_str(), *l)).collect();
    found.sort_by_key(|&(_, line)| line);
    assert_eq!(found, expected);
}

#[test]
fn the_io_check_resolves_names_and_leaves_tests_aside() {
    let code = r#"
use std::{fs, io::{self, Read}};
use tokio::net::TcpStream as Tcp;
fn f(p: &std::path::Path) {
    let _ = fs::read(p);
    let _ = io::stdout();
    let _ = p.exists();
    println!("x");
    let _ = core::str::from_utf8(b"");
}
#[cfg(test)]
mod tests { fn t() { std::fs::read("x").ok(); } }
"#;
    let mut found = io_in(&parse_text(code, "x12/a.rs"));
    found.sort_by_key(|&(_, line)| line);
    let found: Vec<(&str, usize)> = found.iter().map(|(w, l)| (w.as_str(), *l)).collect();
    assert_eq!(
        found,
        [
            ("std::fs", 2),
            ("tokio::net::TcpStream", 3),
            ("std::fs::read", 5),
            ("std::io::stdout", 6),
            (".exists()", 7),
            ("println!", 8),
        ]
    );
}
