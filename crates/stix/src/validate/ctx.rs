//! The validation context: the diagnostic sink and lazily rendered JSON pointers.

use serde_json::Value;

use crate::diag::{Code, Diagnostic};

/// One step of a JSON pointer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Idx(usize),
}

/// A JSON pointer as a linked list of stack frames: free to extend, rendered
/// to a `String` only when a finding is reported.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'a> {
    parent: Ptr<'a>,
    seg: Seg<'a>,
}

pub(crate) type Ptr<'a> = Option<&'a Node<'a>>;

impl<'a> Node<'a> {
    pub(crate) fn key(parent: Ptr<'a>, k: &'a str) -> Self {
        Node {
            parent,
            seg: Seg::Key(k),
        }
    }
    pub(crate) fn idx(parent: Ptr<'a>, i: usize) -> Self {
        Node {
            parent,
            seg: Seg::Idx(i),
        }
    }
}

/// RFC 6901 rendering (`~` → `~0`, `/` → `~1`); `""` for the whole object.
pub(crate) fn render(p: Ptr<'_>) -> String {
    let mut segs = Vec::new();
    let mut cur = p;
    while let Some(n) = cur {
        segs.push(n.seg);
        cur = n.parent;
    }
    let mut s = String::new();
    for seg in segs.iter().rev() {
        s.push('/');
        match seg {
            Seg::Key(k) => {
                for c in k.chars() {
                    match c {
                        '~' => s.push_str("~0"),
                        '/' => s.push_str("~1"),
                        c => s.push(c),
                    }
                }
            }
            Seg::Idx(i) => s.push_str(&i.to_string()),
        }
    }
    s
}

/// A short rendering of a value for messages (long values are cut).
pub(crate) fn show(v: &Value) -> String {
    const MAX: usize = 80;
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        other => other.to_string(),
    };
    if s.len() > MAX {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Collects findings for one object.
pub(crate) struct Cx<'b> {
    pub out: Vec<Diagnostic>,
    /// The regex budget of the envelope or file (`None`: only per-pattern bounds).
    pub budget: Option<&'b crate::RegexBudget>,
}

impl Cx<'_> {
    pub(crate) fn err(&mut self, code: Code, p: Ptr<'_>, msg: impl Into<String>) {
        self.out.push(Diagnostic::error(code, render(p), msg));
    }
    pub(crate) fn warn(&mut self, code: Code, p: Ptr<'_>, msg: impl Into<String>) {
        self.out.push(Diagnostic::warning(code, render(p), msg));
    }
}
