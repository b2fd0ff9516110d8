//! Shell completions for bash, zsh and fish, from the same option tables as the manual pages.

use ipvsadm_cli::args::docs::{RESTORE_OPTIONS, Values, option_doc};
use ipvsadm_cli::args::popt::ArgKind;

use crate::man::ipvsadm_options;

/// One option as the shells see it.
struct Opt {
    shorts: Vec<char>,
    long: String,
    summary: String,
    arg: Arg,
}

#[derive(Clone, PartialEq)]
enum Arg {
    None,
    /// A value: words to offer, an interface, a file, or anything.
    Value(Complete),
    /// A value that must be glued to the option (`-tFILE`, `--config-test=FILE`).
    Glued(Complete),
    /// popt's optional argument (`-p [timeout]`).
    Optional(Complete),
}

#[derive(Clone, PartialEq)]
enum Complete {
    Words(Vec<String>),
    Interface,
    File,
    Free,
}

fn ipvsadm() -> Vec<Opt> {
    ipvsadm_options()
        .into_iter()
        .map(|(shorts, long, kind, tag)| {
            let doc = option_doc(tag);
            let complete = match doc.values {
                Values::Free => Complete::Free,
                Values::OneOf(words) => {
                    Complete::Words(words.iter().map(|w| w.to_string()).collect())
                }
                Values::Interface => Complete::Interface,
            };
            let arg = match kind {
                ArgKind::None => Arg::None,
                ArgKind::Required => Arg::Value(complete),
                ArgKind::Optional => Arg::Optional(complete),
            };
            Opt {
                shorts: shorts.into_iter().map(char::from).collect(),
                long: long.to_owned(),
                summary: doc.summary.to_owned(),
                arg,
            }
        })
        .collect()
}

fn ipvsadm_save() -> Vec<Opt> {
    vec![Opt {
        shorts: vec!['n'],
        long: String::new(),
        summary: "numeric addresses and ports".to_owned(),
        arg: Arg::None,
    }]
}

fn ipvsadm_restore() -> Vec<Opt> {
    RESTORE_OPTIONS
        .iter()
        .map(|o| Opt {
            shorts: Vec::new(),
            long: o.name.trim_start_matches('-').to_owned(),
            summary: o.summary.to_owned(),
            arg: Arg::None,
        })
        .collect()
}

fn vrrpd() -> Vec<Opt> {
    vrrpd_cli::options()
        .map(|o| {
            let complete = if o.doc.file {
                Complete::File
            } else if o.long == "diagnostics" {
                Complete::Words(vec!["human".into(), "keepalived".into()])
            } else if o.long == "signum" {
                ["STOP", "RELOAD", "DATA", "STATS", "STATS_CLEAR", "JSON"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .pipe(Complete::Words)
            } else if o.long == "log-facility" {
                (0..8)
                    .map(|n| format!("local{n}"))
                    .chain(["user".to_owned(), "daemon".to_owned()])
                    .collect::<Vec<_>>()
                    .pipe(Complete::Words)
            } else {
                Complete::Free
            };
            let arg = match (o.takes_value, o.value_optional) {
                (false, _) => Arg::None,
                (true, false) => Arg::Value(complete),
                (true, true) => Arg::Glued(complete),
            };
            Opt {
                shorts: o.short.into_iter().collect(),
                long: o.long.to_owned(),
                summary: o.doc.summary.to_owned(),
                arg,
            }
        })
        .collect()
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

/// The programs and their options.
fn programs() -> Vec<(&'static str, Vec<Opt>)> {
    vec![
        ("ipvsadm", ipvsadm()),
        ("ipvsadm-save", ipvsadm_save()),
        ("ipvsadm-restore", ipvsadm_restore()),
        ("vrrpd", vrrpd()),
    ]
}

fn names(o: &Opt) -> Vec<String> {
    let mut names: Vec<String> = o.shorts.iter().map(|c| format!("-{c}")).collect();
    if !o.long.is_empty() {
        names.push(format!("--{}", o.long));
    }
    names
}

/// Every file: (shell, file name, text). bash-completion and fish load completions by command
/// name; zsh by the `#compdef` line of a file named `_command`.
pub fn files() -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for (program, options) in programs() {
        out.push(("bash", program.to_owned(), bash(program, &options)));
        out.push(("zsh", format!("_{program}"), zsh(program, &options)));
        out.push(("fish", format!("{program}.fish"), fish(program, &options)));
    }
    out
}

fn function_name(program: &str) -> String {
    format!("_lvs_rs_{}", program.replace('-', "_"))
}

fn bash(program: &str, options: &[Opt]) -> String {
    let function = function_name(program);
    let mut cases = String::new();
    for o in options {
        let complete = match &o.arg {
            Arg::Value(c) => c,
            _ => continue,
        };
        let action = match complete {
            Complete::Words(words) => {
                format!(
                    "COMPREPLY=($(compgen -W '{}' -- \"$cur\"))",
                    words.join(" ")
                )
            }
            Complete::Interface => {
                "COMPREPLY=($(compgen -W \"$(ls /sys/class/net 2>/dev/null)\" -- \"$cur\"))"
                    .to_owned()
            }
            Complete::File => "COMPREPLY=($(compgen -f -- \"$cur\"))".to_owned(),
            Complete::Free => "COMPREPLY=()".to_owned(),
        };
        cases.push_str(&format!(
            "        {})\n            {action}\n            return\n            ;;\n",
            names(o).join("|")
        ));
    }
    let words: Vec<String> = options
        .iter()
        .flat_map(|o| {
            names(o).into_iter().map(move |n| match o.arg {
                Arg::Glued(_) if n.starts_with("--") => format!("{n}="),
                _ => n,
            })
        })
        .collect();
    let mut text = format!(
        "# bash completion for {program} (lvs-rs); generated by xtask from the option table.\n\
         {function}() {{\n    local cur=\"${{COMP_WORDS[COMP_CWORD]}}\" prev=\"${{COMP_WORDS[COMP_CWORD-1]}}\"\n"
    );
    if !cases.is_empty() {
        text.push_str(&format!("    case \"$prev\" in\n{cases}    esac\n"));
    }
    text.push_str(&format!(
        "    COMPREPLY=($(compgen -W '{}' -- \"$cur\"))\n}}\n",
        words.join(" ")
    ));
    let mut commands = program.to_owned();
    if program == "vrrpd" {
        // The optional `keepalived` alias is the same program.
        commands.push_str(" keepalived");
    }
    text.push_str(&format!("complete -F {function} {commands}\n"));
    text
}

/// Escapes a description for zsh's `_arguments` specs inside single quotes.
fn zsh_text(text: &str) -> String {
    text.replace('\'', "'\\''")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(':', "\\:")
}

fn zsh(program: &str, options: &[Opt]) -> String {
    let mut specs = Vec::new();
    for o in options {
        let summary = zsh_text(&o.summary);
        let action = |c: &Complete| match c {
            Complete::Words(words) => format!("({})", words.join(" ")),
            Complete::Interface => "_net_interfaces".to_owned(),
            Complete::File => "_files".to_owned(),
            Complete::Free => " ".to_owned(),
        };
        for name in names(o) {
            let long = name.starts_with("--");
            let spec = match &o.arg {
                Arg::None => format!("'{name}[{summary}]'"),
                Arg::Value(c) if long => format!("'{name}=[{summary}]:value:{}'", action(c)),
                Arg::Value(c) => format!("'{name}+[{summary}]:value:{}'", action(c)),
                Arg::Glued(c) if long => format!("'{name}=-[{summary}]::value:{}'", action(c)),
                Arg::Glued(c) => format!("'{name}-[{summary}]::value:{}'", action(c)),
                Arg::Optional(c) if long => format!("'{name}=[{summary}]::value:{}'", action(c)),
                Arg::Optional(c) => format!("'{name}+[{summary}]::value:{}'", action(c)),
            };
            specs.push(spec);
        }
    }
    let mut compdef = program.to_owned();
    if program == "vrrpd" {
        compdef.push_str(" keepalived");
    }
    let mut text = format!(
        "#compdef {compdef}\n# zsh completion for {program} (lvs-rs); generated by xtask from the option table.\n\n_arguments -s \\\n"
    );
    for spec in &specs {
        text.push_str(&format!("  {spec} \\\n"));
    }
    text.push_str("  '*: :_default'\n");
    text
}

fn fish_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

fn fish(program: &str, options: &[Opt]) -> String {
    let mut text = format!(
        "# fish completion for {program} (lvs-rs); generated by xtask from the option table.\n"
    );
    let commands: &[&str] = if program == "vrrpd" {
        &["vrrpd", "keepalived"]
    } else {
        &[program]
    };
    for command in commands {
        for o in options {
            let mut line = format!("complete -c {command}");
            for c in &o.shorts {
                line.push_str(&format!(" -s {c}"));
            }
            if !o.long.is_empty() {
                line.push_str(&format!(" -l {}", o.long));
            }
            let complete = match &o.arg {
                Arg::None => None,
                Arg::Value(c) => {
                    line.push_str(" -r");
                    Some(c)
                }
                Arg::Glued(c) | Arg::Optional(c) => Some(c),
            };
            match complete {
                Some(Complete::Words(words)) => {
                    line.push_str(&format!(" -f -a '{}'", words.join(" ")))
                }
                Some(Complete::Interface) => {
                    line.push_str(" -f -a '(path basename /sys/class/net/*)'")
                }
                Some(Complete::File) => line.push_str(" -F"),
                Some(Complete::Free) => line.push_str(" -f"),
                None => {}
            }
            line.push_str(&format!(" -d '{}'\n", fish_text(&o.summary)));
            text.push_str(&line);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ipvsadm_option_is_offered_by_every_shell() {
        let files = files();
        let text = |shell: &str, name: &str| {
            files
                .iter()
                .find(|f| f.0 == shell && f.1 == name)
                .map(|f| f.2.clone())
                .unwrap_or_default()
        };
        for spec in ipvsadm_cli::args::table::OPTIONS {
            let long = format!("--{}", spec.long);
            assert!(text("bash", "ipvsadm").contains(&long), "bash {long}");
            assert!(
                text("zsh", "_ipvsadm").contains(&format!("'{long}")),
                "zsh {long}"
            );
            assert!(
                text("fish", "ipvsadm.fish").contains(&format!("-l {} ", spec.long)),
                "fish {long}"
            );
        }
        assert!(text("bash", "ipvsadm").contains("-s|--scheduler)"));
        assert!(
            text("fish", "vrrpd.fish").contains("complete -c keepalived -s f -l use-file -r -F")
        );
    }
}
