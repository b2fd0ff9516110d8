//! Build-time tasks: the manual pages and shell completions, generated from the option tables the
//! binaries parse their command lines with, so that they cannot drift from the programs.
//!
//! ```text
//! cargo run -p xtask -- dist DIR    # DIR/man/*.8, DIR/completions/{bash,zsh,fish}/*
//! ```
//!
//! A separate crate rather than a hidden option of the binaries: ipvsadm and keepalived reject
//! unknown options in their own words, and a hidden `--generate-man` would be one more option the
//! drop-ins accept that the originals do not; the generator is not needed at run time either.

mod completions;
mod man;
mod roff;

use std::path::Path;
use std::process::ExitCode;

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn dist(dir: &Path) -> Result<(), String> {
    for (name, text) in man::pages() {
        write(&dir.join("man").join(name), &text)?;
    }
    for (shell, name, text) in completions::files() {
        write(&dir.join("completions").join(shell).join(name), &text)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["dist", dir] => dist(Path::new(dir)),
        _ => Err("usage: xtask dist DIR".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(1)
        }
    }
}
