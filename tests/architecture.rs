//! Architecture rules that the compiler does not check, read from the source text:
//!
//! - no module imports a module that imports it back, in any crate of the workspace
//!   (an import is a `crate::…`, `super::…` or child-module path in non-test code);
//! - `payswitch-core` names no gateway outside comments, so a new gateway never edits it.
//!
//! Run alone with `cargo test --test architecture`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The source roots checked: the facade and every crate under `crates/`.
fn source_roots() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![workspace.join("src")];
    let mut crates: Vec<PathBuf> = fs::read_dir(workspace.join("crates"))
        .expect("read crates/")
        .map(|entry| entry.expect("crates/ entry").path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    crates.sort();
    roots.extend(crates);
    roots
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("source entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file relative to its crate's `src/` (`a/b.rs` and `a/b/mod.rs` are
/// `a::b`; `lib.rs` and `main.rs` are the root, spelled ``).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("file name");
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_owned());
    }
    parts.join("::")
}

/// The file's code without comments and without `#[cfg(test)]` items, which may import
/// anything.
fn production_code(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        code.push_str(without_comment(line));
        code.push('\n');
    }
    // Drop each `#[cfg(test)]` item: from the attribute to the end of its braced body or `;`.
    let mut result = String::with_capacity(code.len());
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        result.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = item_end(after);
        rest = &after[end..];
    }
    result.push_str(rest);
    result
}

/// The line up to its `//` comment; a `//` inside a string (a URL) is not a comment.
fn without_comment(line: &str) -> &str {
    let mut from = 0;
    while let Some(found) = line[from..].find("//") {
        let at = from + found;
        if line[..at].matches('"').count() % 2 == 0 {
            return &line[..at];
        }
        from = at + 2;
    }
    line
}

/// The length of the item that starts at `text` (an attribute, then a `;` or a braced body).
fn item_end(text: &str) -> usize {
    let mut depth = 0usize;
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            b';' if depth == 0 => return index + 1,
            _ => {}
        }
    }
    text.len()
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The paths (as segment lists) that follow `prefix` in `code`, with `use` groups
/// (`crate::a::{b, c::d}`) expanded one level deep.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(found) = code[from..].find(prefix) {
        let start = from + found;
        from = start + prefix.len();
        if start > 0 && (is_ident_byte(bytes[start - 1]) || bytes[start - 1] == b':') {
            continue;
        }
        let mut segments = Vec::new();
        let mut at = start + prefix.len();
        loop {
            let ident_start = at;
            while at < bytes.len() && is_ident_byte(bytes[at]) {
                at += 1;
            }
            if at > ident_start {
                segments.push(code[ident_start..at].to_owned());
            }
            let group = if code[at..].starts_with("::{") {
                Some(at + 3)
            } else if segments.is_empty() && code[at..].starts_with('{') {
                Some(at + 1)
            } else {
                None
            };
            if let Some(open) = group {
                let close = code[open..].find('}').map_or(code.len(), |end| open + end);
                for member in code[open..close].split(',') {
                    let member: Vec<String> = member
                        .trim()
                        .split("::")
                        .map(|part| {
                            part.trim()
                                .split(|c: char| !c.is_alphanumeric() && c != '_')
                                .next()
                                .unwrap_or("")
                                .to_owned()
                        })
                        .filter(|part| !part.is_empty())
                        .collect();
                    let mut path = segments.clone();
                    path.extend(member);
                    paths.push(path);
                }
                break;
            } else if code[at..].starts_with("::") && ident_start != at {
                at += 2;
            } else {
                paths.push(segments);
                break;
            }
        }
    }
    paths
}

/// The child modules a file declares with `mod name;`.
fn declared_children(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("pub(crate) ").unwrap_or(line);
            let line = line.strip_prefix("pub ").unwrap_or(line);
            line.strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'))
                .map(str::to_owned)
        })
        .collect()
}

fn join(base: &str, segments: &[String]) -> Vec<String> {
    let mut path: Vec<String> = if base.is_empty() {
        Vec::new()
    } else {
        base.split("::").map(str::to_owned).collect()
    };
    path.extend(segments.iter().cloned());
    path
}

/// The longest known module that `path` names, if any.
fn resolve(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|len| path[..len].join("::"))
        .find(|candidate| modules.contains(candidate))
}

/// The import graph of one crate: module → modules it imports (never itself).
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut sources = BTreeMap::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("read source");
        sources.insert(module_of(src, file), production_code(&text));
    }
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, code) in &sources {
        let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
        let mut targets: Vec<Vec<String>> = paths_after(code, "crate::");
        targets.extend(
            paths_after(code, "super::")
                .into_iter()
                .map(|path| join(parent, &path)),
        );
        for child in declared_children(code) {
            let prefix = format!("{child}::");
            targets.extend(
                paths_after(code, &prefix)
                    .into_iter()
                    .map(|rest| join(module, &[vec![child.clone()], rest].concat())),
            );
        }
        let edges: BTreeSet<String> = targets
            .iter()
            .filter_map(|path| resolve(path, &modules))
            .filter(|target| target != module && !target.is_empty())
            .collect();
        graph.insert(module.clone(), edges);
    }
    graph
}

/// The strongly connected sets of more than one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Search<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, node: &'a str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut set = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    set.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if set.len() > 1 {
                    set.sort();
                    self.found.push(set);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.found
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut report = Vec::new();
    for src in source_roots() {
        for set in cycles(&import_graph(&src)) {
            report.push(format!("{}: {}", src.display(), set.join(", ")));
        }
    }
    assert!(
        report.is_empty(),
        "module cycles (move the shared item into a file that imports neither):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_checker_finds_a_cycle_through_crate_super_and_child_paths() {
    let mut graph = BTreeMap::new();
    let code_a =
        production_code("use crate::b::Thing;\n#[cfg(test)]\nmod tests { use crate::c; }\n");
    let code_b = production_code("pub fn f() { super::a::g() } // crate::c\n");
    assert_eq!(paths_after(&code_a, "crate::"), vec![vec!["b", "Thing"]]);
    assert_eq!(paths_after(&code_b, "super::"), vec![vec!["a", "g"]]);
    assert_eq!(
        paths_after("use crate::{x::Y, z};", "crate::"),
        vec![vec!["x", "Y"], vec!["z"]]
    );
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(cycles(&graph), vec![vec!["a".to_owned(), "b".to_owned()]]);
}

#[test]
fn core_names_no_gateway_outside_comments() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/payswitch-core/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut hits = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read source");
        for (number, line) in text.lines().enumerate() {
            let code = without_comment(line).to_ascii_lowercase();
            if code.contains("stripe") || code.contains("creem") || code.contains("polar") {
                hits.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "payswitch-core must not know gateways by name:\n{}",
        hits.join("\n")
    );
}
