//! Dependencies run one way: no top-level module of the crate uses a module
//! that uses it back, directly or through others (the picture in `src/lib.rs`).
//! Read from the source: every `crate::<module>` path in code that is built
//! into the library, not in comments, test modules or test-only files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module → the other top-level modules its non-test code names.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn no_module_uses_a_module_that_uses_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = dependencies(&src);
    assert!(
        graph.contains_key("commands") && graph["commands"].contains("store"),
        "the source was read: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        let edges: Vec<String> = graph
            .iter()
            .map(|(m, uses)| {
                format!(
                    "  {m} -> {}",
                    Vec::from_iter(uses.iter().cloned()).join(", ")
                )
            })
            .collect();
        panic!(
            "import cycle: {}\nmove what both sides need to a module below them \
             (model, output, exit)\nthe modules use:\n{}",
            cycle.join(" -> "),
            edges.join("\n")
        );
    }
    // The leaves the picture promises.
    for leaf in ["model", "exit"] {
        assert!(
            graph
                .get(leaf)
                .is_none_or(|uses| uses.iter().all(|u| u == "exit")),
            "{leaf} must stay a leaf, it uses {:?}",
            graph.get(leaf)
        );
    }
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph: Graph = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a", "d"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(m, uses)| (m.to_string(), uses.iter().map(|u| u.to_string()).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let mut acyclic = graph.clone();
    acyclic.insert("c".into(), ["d".to_string()].into());
    assert_eq!(find_cycle(&acyclic), None);
}

/// The top-level modules (`src/<name>.rs` or `src/<name>/`) and what each uses.
fn dependencies(src: &Path) -> Graph {
    let modules: BTreeSet<String> = fs::read_dir(src)
        .expect("read src/")
        .map(|e| e.expect("a src/ entry").path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|x| x == "rs")).then_some(name)
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let test_only = test_only_files(&files);
    let mut graph = Graph::new();
    for file in &files {
        let rel = file.strip_prefix(src).expect("under src/");
        let Some(top) = rel.iter().next().and_then(|c| c.to_str()) else {
            continue;
        };
        let top = top.trim_end_matches(".rs").to_string();
        if !modules.contains(&top) || test_only.iter().any(|t| file.starts_with(t)) {
            continue;
        }
        let text = fs::read_to_string(file).expect("read a source file");
        let used = graph.entry(top.clone()).or_default();
        for name in crate_paths(&library_code(&text)) {
            if name != top && modules.contains(&name) {
                used.insert(name);
            }
        }
    }
    graph
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a source dir") {
        let path = entry.expect("a source entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Files and directories of modules declared `#[cfg(test)] mod name;`.
fn test_only_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for file in files {
        let text = fs::read_to_string(file).expect("read a source file");
        // A `foo.rs` or `foo/mod.rs` declares children in `foo/`.
        let dir = if file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            file.parent().map(Path::to_path_buf)
        } else {
            Some(file.with_extension(""))
        };
        let Some(dir) = dir else { continue };
        let mut lines = text.lines().map(str::trim);
        while let Some(line) = lines.next() {
            if line != "#[cfg(test)]" {
                continue;
            }
            let Some(next) = lines.next() else { break };
            let decl = next
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
                out.push(dir.join(format!("{name}.rs")));
                out.push(dir.join(name));
            }
        }
    }
    out
}

/// The text without comments and without the inline `#[cfg(test)] mod tests { … }`
/// that ends a file.
fn library_code(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|n| n.trim().starts_with("mod tests {"))
        {
            break;
        }
        if !t.starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

/// The first segment after every `crate::` (`crate::store::Store` → `store`).
fn crate_paths(code: &str) -> Vec<String> {
    code.match_indices("crate::")
        .filter(|(i, _)| {
            // Not `$crate::` in a macro or the tail of a longer name.
            code[..*i]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'))
        })
        .map(|(i, m)| {
            code[i + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// A cycle as the modules along it (first = last), if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}
