//! A small server-side highlighter for the code blocks the vault holds: Sigma
//! rule YAML and atomic test commands (PowerShell, cmd, sh, bash). It marks
//! comments, strings, keys and variables with CSS classes; no JavaScript runs
//! in the browser for it.

use super::html_escape;

fn span(class: &str, s: &str) -> String {
    format!("<span class=\"hl-{class}\">{}</span>", html_escape(s))
}

/// Highlight one line of YAML: `key:` names, comments, quoted strings.
fn yaml_line(line: &str) -> String {
    let indent_len = line.len() - line.trim_start_matches([' ', '-']).len();
    let (indent, rest) = line.split_at(indent_len);
    let mut out = html_escape(indent);
    if rest.starts_with('#') {
        return out + &span("comment", rest);
    }
    let (body, comment) = split_comment(rest, |c| c == '\'' || c == '"');
    let (key, value) = match body
        .find(": ")
        .or_else(|| body.strip_suffix(':').map(|b| b.len()))
    {
        Some(p) if !body[..p].contains(['\'', '"', '{', '[']) => (Some(&body[..p]), &body[p..]),
        _ => (None, body),
    };
    if let Some(k) = key {
        out.push_str(&span("key", k));
    }
    out.push_str(&strings(value));
    if let Some(c) = comment {
        out.push_str(&span("comment", c));
    }
    out
}

/// Split a trailing ` #comment` off a line, outside quotes.
fn split_comment(line: &str, quote: impl Fn(char) -> bool) -> (&str, Option<&str>) {
    let mut q: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match q {
            Some(open) if c == open => q = None,
            Some(_) => {}
            None if quote(c) => q = Some(c),
            None if c == '#' && prev.is_whitespace() && i > 0 => {
                return (&line[..i], Some(&line[i..]));
            }
            None => {}
        }
        prev = c;
    }
    (line, None)
}

/// Quoted strings in a line as `hl-string`, the rest escaped.
fn strings(s: &str) -> String {
    let mut out = String::new();
    let mut cur = String::new();
    let mut q: Option<char> = None;
    for c in s.chars() {
        match q {
            Some(open) => {
                cur.push(c);
                if c == open {
                    out.push_str(&span("string", &cur));
                    cur.clear();
                    q = None;
                }
            }
            None if c == '\'' || c == '"' => {
                out.push_str(&html_escape(&cur));
                cur.clear();
                cur.push(c);
                q = Some(c);
            }
            None => cur.push(c),
        }
    }
    // An unclosed quote is shown plain.
    out.push_str(&html_escape(&cur));
    out
}

/// Highlight one line of a shell language: comments, strings, variables
/// (`$x`, `%x%`) and atomic input arguments (`#{arg}`).
fn shell_line(line: &str, comment_prefixes: &[&str]) -> String {
    let t = line.trim_start();
    if comment_prefixes
        .iter()
        .any(|p| t.to_ascii_lowercase().starts_with(p))
    {
        return span("comment", line);
    }
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut plain = String::new();
    while i < chars.len() {
        let c = chars[i];
        let take_until = |start: usize, end: char| -> usize {
            let mut j = start + 1;
            while j < chars.len() && chars[j] != end {
                j += 1;
            }
            (j + 1).min(chars.len())
        };
        let token_end = if c == '#' && chars.get(i + 1) == Some(&'{') {
            Some(("var", take_until(i + 1, '}')))
        } else if c == '"' || c == '\'' {
            Some(("string", take_until(i, c)))
        } else if c == '$'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphanumeric() || *n == '_' || *n == '{')
        {
            let mut j = i + 1;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | ':' | '{' | '}'))
            {
                j += 1;
            }
            Some(("var", j))
        } else {
            None
        };
        match token_end {
            Some((class, end)) => {
                out.push_str(&html_escape(&plain));
                plain.clear();
                let tok: String = chars[i..end].iter().collect();
                out.push_str(&span(class, &tok));
                i = end;
            }
            None => {
                plain.push(c);
                i += 1;
            }
        }
    }
    out.push_str(&html_escape(&plain));
    out
}

/// Highlighted HTML for a code block of `lang`, or `None` for languages it
/// does not know (shown plain).
pub fn highlight(lang: &str, code: &str) -> Option<String> {
    let f: Box<dyn Fn(&str) -> String> = match lang {
        "yaml" | "yml" => Box::new(yaml_line),
        "sh" | "bash" | "shell" => Box::new(|l| shell_line(l, &["#"])),
        "powershell" | "ps1" => Box::new(|l| shell_line(l, &["#"])),
        "batch" | "cmd" | "bat" => Box::new(|l| shell_line(l, &["rem ", "::"])),
        _ => return None,
    };
    Some(code.split('\n').map(f).collect::<Vec<_>>().join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_keys_strings_comments() {
        let h = highlight(
            "yaml",
            "    Image|endswith: '\\python.exe' # the interpreter",
        )
        .unwrap();
        assert!(
            h.contains("<span class=\"hl-key\">Image|endswith</span>"),
            "{h}"
        );
        assert!(
            h.contains("<span class=\"hl-string\">'\\python.exe'</span>"),
            "{h}"
        );
        assert!(
            h.contains("<span class=\"hl-comment\"># the interpreter</span>"),
            "{h}"
        );
    }

    #[test]
    fn shell_variables_and_arguments() {
        let h = highlight("powershell", "$b = \"x\" ; #{python_exe} -c <x>").unwrap();
        assert!(h.contains("hl-var\">$b<"), "{h}");
        assert!(h.contains("hl-var\">#{python_exe}<"), "{h}");
        assert!(h.contains("&lt;x&gt;"), "escaped: {h}");
        assert!(highlight("rust", "x").is_none());
    }
}
