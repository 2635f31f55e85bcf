//! Every TOML block in the README and `docs/` is a payswitch configuration that parses (and is
//! checked against the gateway table), so a configuration copied from the docs works; blocks
//! that are Cargo manifests or an application's own file say so in their first line.

use std::path::{Path, PathBuf};

/// The ```toml blocks of a Markdown file, with their first line number.
fn toml_blocks(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```toml") => current = Some((index + 1, String::new())),
            Some(_) if fence.starts_with("```") => blocks.extend(current.take()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    blocks
}

fn markdown_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "md") {
            files.push(path);
        }
    }
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let readme = entry.unwrap().path().join("README.md");
        if readme.exists() {
            files.push(readme);
        }
    }
    files.sort();
    files
}

#[test]
fn every_toml_block_in_the_docs_is_a_configuration_that_parses() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        for (line, block) in toml_blocks(&file) {
            // Cargo manifests and an application's own file are not payswitch configurations.
            if block.contains("[dependencies]")
                || block.contains("[package]")
                || block.contains("[features]")
                || block.contains("[payments")
            {
                continue;
            }
            checked += 1;
            let parsed = payswitch::Config::from_toml_str(&block)
                .and_then(|config| payswitch::check_config(&config).map(|()| config));
            if let Err(error) = parsed {
                failures.push(format!("{}:{line}: {error}", file.display()));
            }
        }
    }
    assert!(checked >= 5, "only {checked} blocks found");
    assert!(
        failures.is_empty(),
        "TOML blocks that do not parse:\n{}",
        failures.join("\n")
    );
}
