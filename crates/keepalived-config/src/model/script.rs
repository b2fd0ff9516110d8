//! Scripts keepalived runs: notify scripts, tracking scripts, checkers' programs.

/// The user and group a script runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptUser {
    /// The user name as configured.
    pub user: String,
    /// The group name, if configured.
    pub group: Option<String>,
    /// The numeric user id.
    pub uid: u32,
    /// The numeric group id.
    pub gid: u32,
}

/// A command keepalived runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The command line as configured (after parameter substitution).
    pub text: String,
    /// The argument vector, split like keepalived does (quotes and escapes resolved); the
    /// first word is the program, run without a shell.
    pub argv: Vec<String>,
    /// Who it runs as, when configured on the script (`notify_master "..." USER GROUP`).
    pub user: Option<ScriptUser>,
}

impl Script {
    /// The program: the first word of the command.
    pub fn program(&self) -> &str {
        self.argv.first().map_or("", String::as_str)
    }
}
