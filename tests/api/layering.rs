//! The modules of `src/` form layers, and every `crate::` (or `super::`)
//! path a module names points to its own layer or one below it; routes never
//! name one another; no module depends on itself through others; and only
//! `db` (and the seeding that bulk-loads it) speaks diesel. A new module
//! fails here until it is given its layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top to bottom. A module belongs to the layer of the longest entry that
/// is a prefix of its path (`routes::` is every route module).
const LAYERS: &[&[&str]] = &[
    &["server"],
    &["app"],
    &["openapi"],
    &["routes"],
    &["routes::"],
    &["middleware"],
    &["auth", "auth::extract", "auth::login"],
    &["state"],
    &[
        "http",
        "cache",
        "limits",
        "metrics",
        "mail",
        "readership",
        "metering",
        "seed",
        "admin",
        "surrogate",
        "negotiation",
        "feeds",
        "auth::",
    ],
    &["views"],
    &["db"],
    &["domain"],
    &["clock", "config", "client", "error"],
];

/// Layers whose modules may not name one another.
const INDEPENDENT: &[&str] = &["routes::"];

type Module = Vec<String>;

#[test]
fn every_module_depends_only_on_its_layer_and_the_ones_below() {
    let modules = modules();
    let mut wrong = Vec::new();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, source) in &modules {
        let from = layer(module)
            .unwrap_or_else(|| panic!("{} has no layer: add it to LAYERS", module.join("::")));
        for target in references(module, source, &modules) {
            if target.starts_with(module) || module.starts_with(&target) {
                continue;
            }
            let to = layer(&target).unwrap_or(usize::MAX);
            let independent =
                from == to && LAYERS[from].iter().any(|name| INDEPENDENT.contains(name));
            if to < from || independent {
                wrong.push(format!("{} -> {}", module.join("::"), target.join("::")));
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows pointing up or sideways:\n{}",
        wrong.join("\n")
    );
    let cycle = find_cycle(&edges);
    assert!(cycle.is_none(), "a cycle: {:?}", cycle);
}

#[test]
fn only_the_database_layer_speaks_diesel() {
    let speakers: Vec<String> = modules()
        .into_iter()
        .filter(|(module, _)| module[0] != "db" && module[0] != "seed")
        .filter(|(_, source)| {
            without_test_modules(source)
                .lines()
                .map(|line| line.split("//").next().unwrap_or_default())
                .any(|line| line.contains("diesel"))
        })
        .map(|(module, _)| module.join("::"))
        .collect();
    assert!(
        speakers.is_empty(),
        "queries belong in db/: {speakers:?} name diesel"
    );
}

/// Handlers parse, authorise, call and answer; the work lives in named
/// functions beside them, in `db` and in `domain`.
const LONGEST_HANDLER: usize = 50;
/// And the typical one fits on a screen with its documentation.
const MEDIAN_HANDLER: usize = 15;

#[test]
fn handlers_are_short() {
    let mut long = Vec::new();
    let mut lengths = Vec::new();
    for (module, source) in modules() {
        if module[0] != "routes" {
            continue;
        }
        let lines: Vec<&str> = source.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let routed = ["#[get(", "#[post(", "#[put(", "#[patch(", "#[delete("]
                .iter()
                .any(|attribute| line.starts_with(attribute));
            let Some(start) = routed
                .then(|| {
                    (at..lines.len()).find(|&i| {
                        lines[i].starts_with("pub async fn ")
                            || lines[i].starts_with("pub(crate) async fn ")
                    })
                })
                .flatten()
            else {
                continue;
            };
            let Some(end) = (start..lines.len()).find(|&i| lines[i] == "}") else {
                panic!("{}: a handler without its end", module.join("::"));
            };
            lengths.push(end - start + 1);
            if end - start + 1 > LONGEST_HANDLER {
                long.push(format!("{}: {} lines", lines[start], end - start + 1));
            }
        }
    }
    assert!(lengths.len() >= 50, "found only {} handlers", lengths.len());
    assert!(
        long.is_empty(),
        "handlers over {LONGEST_HANDLER} lines:\n{}",
        long.join("\n")
    );
    lengths.sort_unstable();
    let middle = lengths.len() / 2;
    // Twice the median, so that an even count needs no fractions.
    let twice_median = if lengths.len() % 2 == 0 {
        lengths[middle - 1] + lengths[middle]
    } else {
        2 * lengths[middle]
    };
    assert!(
        twice_median <= 2 * MEDIAN_HANDLER,
        "the median handler is {} lines, over {MEDIAN_HANDLER}",
        twice_median as f64 / 2.0
    );
}

#[test]
fn the_checker_sees_paths_in_groups_and_through_super() {
    let known: BTreeMap<Module, String> = [
        "routes::articles",
        "routes",
        "db::articles",
        "db",
        "state",
        "error",
        "clock",
    ]
    .iter()
    .map(|m| (m.split("::").map(str::to_owned).collect(), String::new()))
    .collect();
    let module: Module = vec!["routes".into(), "articles".into()];
    let source = "use crate::{db::{articles::Row, Db}, state::AppState};\n\
                  // crate::error::ignored in a comment\n\
                  fn f() -> super::super::error::ApiError {}\n\
                  #[cfg(test)]\nmod tests { use crate::routes::x; }\n\
                  fn g() -> crate::clock::Clock {}";
    let found: Vec<String> = references(&module, source, &known)
        .into_iter()
        .map(|m| m.join("::"))
        .collect();
    assert_eq!(found, ["db::articles", "db", "state", "error", "clock"]);
    assert!(
        !found.contains(&"routes".to_owned()),
        "test modules are left out"
    );
}

/// The layer of a module: the longest matching entry decides.
fn layer(module: &Module) -> Option<usize> {
    let path = module.join("::");
    let mut best: Option<(usize, usize)> = None;
    for (index, names) in LAYERS.iter().enumerate() {
        for name in *names {
            let matches = match name.strip_suffix("::") {
                Some(parent) => path.starts_with(name) && path.len() > parent.len() + 2,
                None => path == *name || path.starts_with(&format!("{name}::")),
            };
            if matches && best.is_none_or(|(len, _)| name.len() > len) {
                best = Some((name.len(), index));
            }
        }
    }
    best.map(|(_, index)| index)
}

/// Every module of the library, by path, with its source.
fn modules() -> BTreeMap<Module, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            panic!("cannot read {}", dir.display());
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Ok(relative) = path.strip_prefix(&root) else {
                continue;
            };
            let mut parts: Module = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
                continue;
            }
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let Ok(source) = std::fs::read_to_string(&path) else {
                panic!("cannot read {}", path.display());
            };
            found.insert(parts, source);
        }
    }
    assert!(
        found.len() > 20,
        "the walk found too few modules: {found:?}"
    );
    found
}

/// The modules `source` (the code of `module`) names through `crate::`,
/// `super::` or `self::` paths, test modules and comments left out, in
/// order of first mention.
fn references(module: &Module, source: &str, known: &BTreeMap<Module, String>) -> Vec<Module> {
    let code: String = without_test_modules(source)
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let chars: Vec<char> = code.chars().collect();
    let mut found: Vec<Module> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let base = if !boundary {
            None
        } else if starts_with(&chars, i, "crate::") {
            i += "crate::".len();
            Some(Vec::new())
        } else if starts_with(&chars, i, "self::") {
            i += "self::".len();
            Some(module.clone())
        } else if starts_with(&chars, i, "super::") {
            let mut base = module.clone();
            while starts_with(&chars, i, "super::") {
                i += "super::".len();
                base.pop();
            }
            Some(base)
        } else {
            None
        };
        match base {
            Some(base) => {
                let mut paths = Vec::new();
                i = parse_tree(&chars, i, base, &mut paths);
                for path in paths {
                    if let Some(target) = resolve(&path, known)
                        && &target != module
                        && !found.contains(&target)
                    {
                        found.push(target);
                    }
                }
            }
            None => i += 1,
        }
    }
    found
}

/// `source` without its `#[cfg(test)] mod ... { ... }` blocks (braces
/// counted, which format strings keep balanced).
fn without_test_modules(source: &str) -> String {
    let mut rest = source;
    let mut kept = String::new();
    while let Some(at) = rest.find("#[cfg(test)]\nmod ") {
        kept.push_str(&rest[..at]);
        let block = &rest[at..];
        let mut depth = 0;
        let mut end = block.len();
        for (i, c) in block.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 1 => {
                    end = i + 1;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        rest = &block[end..];
    }
    kept.push_str(rest);
    kept
}

fn starts_with(chars: &[char], at: usize, text: &str) -> bool {
    text.chars()
        .enumerate()
        .all(|(k, c)| chars.get(at + k) == Some(&c))
}

/// Reads a use tree (`a::b`, `a::{b, c::{d}}`) starting at `at`, after
/// `prefix`; pushes every full path; returns where it stopped.
fn parse_tree(chars: &[char], mut at: usize, mut prefix: Module, out: &mut Vec<Module>) -> usize {
    loop {
        while chars.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        if chars.get(at) == Some(&'{') {
            at += 1;
            loop {
                at = parse_tree(chars, at, prefix.clone(), out);
                while chars
                    .get(at)
                    .is_some_and(|c| c.is_whitespace() || *c == ',')
                {
                    at += 1;
                }
                match chars.get(at) {
                    Some('}') => return at + 1,
                    None => return at,
                    Some(_) => {}
                }
            }
        }
        let start = at;
        while chars
            .get(at)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            at += 1;
        }
        let name: String = chars[start..at].iter().collect();
        if name.is_empty() {
            out.push(prefix);
            return at.max(start + 1);
        }
        if name != "self" {
            prefix.push(name);
        }
        if starts_with(chars, at, "::") {
            at += 2;
        } else {
            out.push(prefix);
            return at;
        }
    }
}

/// The module a path lies in: its longest prefix that is a module.
fn resolve(path: &Module, known: &BTreeMap<Module, String>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|len| path[..len].to_vec())
        .find(|prefix| known.contains_key(prefix))
}

/// A cycle through modules that are not each other's ancestors, if any.
fn find_cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<String>> {
    fn visit(
        node: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        path: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == node) {
            return Some(path[at..].iter().map(|m| m.join("::")).collect());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

/// Who a handler serves, read off its signature: the role extractor it
/// takes, if any (`anyone` for an optional sign-in).
fn audience(signature: &str) -> Option<&'static str> {
    let takes = |extractor: &str| {
        signature
            .split([',', '(', ')'])
            .any(|argument| argument.trim().ends_with(&format!(": {extractor}")))
    };
    if takes("Admin") {
        Some("admin")
    } else if takes("Editor") {
        Some("editor")
    } else if takes("AuthUser") {
        Some("reader")
    } else if takes("MaybeAuthUser") {
        Some("anyone")
    } else {
        None
    }
}

/// The OpenAPI security of every operation follows from its handler's
/// signature: a role extractor means a bearer token, a 401 for a missing or
/// bad one, and for editors and admins a 403 and the role in the
/// description; `MaybeAuthUser` means a token offered, not demanded; no
/// extractor means no token demanded. Every documented operation must be
/// matched to its handler.
#[test]
fn the_documented_security_follows_from_the_extractors() {
    let document = serde_json::to_value(newsdesk::openapi::openapi()).expect("serialises");
    let mut operations = BTreeMap::new();
    for item in document["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("a path item").values() {
            if let Some(id) = operation["operationId"].as_str() {
                operations.insert(id.to_owned(), operation.clone());
            }
        }
    }
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (module, source) in modules() {
        if module[0] != "routes" {
            continue;
        }
        let lines: Vec<&str> = source.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let Some(rest) = line
                .strip_prefix("pub(crate) async fn ")
                .or_else(|| line.strip_prefix("pub async fn "))
            else {
                continue;
            };
            let mut name: String = rest
                .chars()
                .take_while(|c| *c == '_' || c.is_alphanumeric())
                .collect();
            // An `operation_id = "..."` in the handler's attribute wins.
            let attribute = (0..at)
                .rev()
                .find(|&i| lines[i].starts_with("#[utoipa::path("))
                .unwrap_or(at);
            if let Some(renamed) = lines[attribute..at]
                .iter()
                .find_map(|l| l.trim().strip_prefix("operation_id = \""))
            {
                name = renamed.trim_end_matches(['"', ',']).to_owned();
            }
            let Some(operation) = operations.remove(&name) else {
                continue;
            };
            let end = (at..lines.len())
                .find(|&i| lines[i].contains(") ->") || lines[i].ends_with('{'))
                .unwrap_or(at);
            let signature = lines[at..=end].join(" ");
            let security = &operation["security"];
            let demands = |scheme: &str| *security == serde_json::json!([{ scheme: [] }]);
            let responses = &operation["responses"];
            let description = operation["description"].as_str().unwrap_or_default();
            checked += 1;
            match audience(&signature) {
                None if demands("bearer") || demands("admin_bearer") => {
                    wrong.push(format!("{name}: demands a token it never reads"));
                }
                None => {}
                Some("anyone") => {
                    let offered = security.as_array().cloned().unwrap_or_default();
                    if !offered.contains(&serde_json::json!({}))
                        || !offered.contains(&serde_json::json!({ "bearer": [] }))
                    {
                        wrong.push(format!(
                            "{name}: reads an optional token but does not offer one"
                        ));
                    }
                }
                Some(role) => {
                    let scheme = if role == "admin" {
                        "admin_bearer"
                    } else {
                        "bearer"
                    };
                    if !demands(scheme) {
                        wrong.push(format!("{name}: takes a {role} but demands no `{scheme}`"));
                    }
                    if responses.get("401").is_none() {
                        wrong.push(format!("{name}: takes a {role} but documents no 401"));
                    }
                    if role != "reader" && responses.get("403").is_none() {
                        wrong.push(format!("{name}: takes an {role} but documents no 403"));
                    }
                    if role != "reader" && !description.contains(&format!("Role: {role}")) {
                        wrong.push(format!("{name}: takes an {role} but its description does not say `Role: {role}`"));
                    }
                }
            }
        }
    }
    assert!(checked >= 50, "checked only {checked} operations");
    assert!(
        operations.is_empty(),
        "operations whose handler was not found: {:?}",
        operations.keys()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
