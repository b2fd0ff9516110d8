//! Text to roff (man(7) macros): escapes, and the markup of the option tables' texts
//! (`` `literal` `` in bold, `<value>` in italics).

/// Escapes plain text for roff: backslashes, minus signs (a `-` would print as a hyphen, which
/// breaks copied options), and a control character at the start of a line.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        out.push_str(&escape_chars(line));
    }
    out
}

/// Backslashes and minus signs only (text in the middle of a line).
fn escape_chars(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// Escapes `text` and turns its markup into font changes.
pub fn markup(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(['`', '<']) {
        out.push_str(&escape_chars(&rest[..i]));
        let close = if rest[i..].starts_with('`') { '`' } else { '>' };
        let font = if close == '`' { "B" } else { "I" };
        let body = &rest[i + 1..];
        match body.find(close) {
            Some(end) => {
                out.push_str(&format!("\\f{font}{}\\fR", escape_chars(&body[..end])));
                rest = &body[end + 1..];
            }
            None => {
                out.push_str(&escape_chars(&rest[i..]));
                rest = "";
            }
        }
    }
    out.push_str(&escape_chars(rest));
    // A line of the output must not start with a control character after the font escapes either.
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// A man page under construction.
#[derive(Default)]
pub struct Page {
    text: String,
}

impl Page {
    /// `.TH`, then the NAME section.
    pub fn new(name: &str, section: u8, source: &str, title: &str, what: &str) -> Page {
        let mut page = Page::default();
        page.line(&format!(
            ".TH {} {section} \"\" \"{source}\" \"System Administration\"",
            name.to_uppercase()
        ));
        page.section("NAME");
        page.line(&format!("{} \\- {}", escape(title), escape(what)));
        page
    }

    /// A raw roff line.
    pub fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    pub fn section(&mut self, name: &str) {
        self.line(&format!(".SH {}", name.to_uppercase()));
    }

    /// A paragraph in the markup.
    pub fn para(&mut self, text: &str) {
        self.line(".PP");
        self.line(&markup(text));
    }

    /// A tagged paragraph: `tag` is already roff, `text` is markup.
    pub fn item(&mut self, tag: &str, text: &str) {
        self.line(".TP");
        self.line(tag);
        self.line(&markup(text));
    }

    /// A bullet point in the markup.
    pub fn bullet(&mut self, text: &str) {
        self.line(".IP \\(bu 2");
        self.line(&markup(text));
    }

    /// Literal lines (examples), not filled.
    pub fn example(&mut self, lines: &str) {
        self.line(".PP");
        self.line(".RS 4");
        self.line(".nf");
        for l in lines.lines() {
            self.line(&escape(l));
        }
        self.line(".fi");
        self.line(".RE");
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// `\fB-x\fR, \fB--long\fR \fIvalue\fR` for a tagged paragraph.
pub fn option_tag(short: Option<char>, long: &str, value: Option<&str>, glued: bool) -> String {
    let mut names = Vec::new();
    if let Some(c) = short {
        names.push(format!("\\fB\\-{}\\fR", escape(&c.to_string())));
    }
    if !long.is_empty() {
        names.push(format!("\\fB\\-\\-{}\\fR", escape(long)));
    }
    let mut tag = names.join(", ");
    if let Some(v) = value {
        if glued {
            tag.push_str(&format!("[\\fI{}\\fR]", escape(v)));
        } else {
            tag.push_str(&format!(" \\fI{}\\fR", escape(v)));
        }
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_signs_backslashes_and_leading_dots_are_escaped() {
        assert_eq!(escape("-p 300"), "\\-p 300");
        assert_eq!(escape("a\\b"), "a\\eb");
        assert_eq!(escape(".hidden\n'quote"), "\\&.hidden\n\\&'quote");
    }

    #[test]
    fn markup_becomes_fonts() {
        assert_eq!(
            markup("Use `-t` with <service-address>."),
            "Use \\fB\\-t\\fR with \\fIservice\\-address\\fR."
        );
        // An unclosed mark is text.
        assert_eq!(markup("a < b"), "a < b");
    }
}
