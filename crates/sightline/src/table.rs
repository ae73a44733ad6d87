//! Aligned text tables and pretty-printed JSON for the human output of the
//! read commands (`get`, `search`, `stats`, `collection list`, `related`, …).

use std::io::{self, Write};

/// Columns padded to their widest cell (in characters), two spaces apart;
/// the last column is not padded, so lines carry no trailing spaces.
#[derive(Debug, Default)]
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<usize>,
}

impl Table {
    pub fn new(head: &[&str]) -> Self {
        Self {
            head: head.iter().map(|s| (*s).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// Right-aligns column `i` (counts).
    pub fn right(mut self, i: usize) -> Self {
        self.right.push(i);
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        let n = self.head.len();
        let mut width = vec![0usize; n];
        for r in std::iter::once(&self.head).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        for r in std::iter::once(&self.head).chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate().take(n) {
                let pad = width[i].saturating_sub(c.chars().count());
                if self.right.contains(&i) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    if i + 1 < n {
                        line.push_str(&" ".repeat(pad));
                    }
                }
                if i + 1 < n {
                    line.push_str("  ");
                }
            }
            writeln!(w, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// `raw` JSON re-indented by two spaces, members in the order received and
/// every value exactly as written (a parse and print would sort keys and
/// respell numbers). Invalid JSON comes back re-indented as far as it goes.
pub fn pretty_json(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = raw.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                // Skip whitespace to see whether the container is empty.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(c);
                    out.push(close);
                } else {
                    out.push(c);
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_keeps_order_and_values() {
        let raw = r#"{"type":"x","b":[1.50,{"k":"a, \"b\": {c}"}],"a":{},"e":[ ]}"#;
        let want = "{\n  \"type\": \"x\",\n  \"b\": [\n    1.50,\n    {\n      \"k\": \"a, \\\"b\\\": {c}\"\n    }\n  ],\n  \"a\": {},\n  \"e\": []\n}";
        assert_eq!(pretty_json(raw), want);
        // Already pretty input gives the same text.
        assert_eq!(pretty_json(want), want);
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&["NAME", "N", "ID"]).right(1);
        t.row(vec!["Lazarus Group".into(), "93".into(), "x".into()]);
        t.row(vec!["APT38".into(), "7".into(), "yy".into()]);
        let mut out = Vec::new();
        t.write(&mut out).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "NAME            N  ID\nLazarus Group  93  x\nAPT38           7  yy\n"
        );
    }
}
