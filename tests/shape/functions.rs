//! Function lengths, measured on the text with comments and strings blanked.

use super::LONGEST;
use super::reader::{code_only, is_ident};

/// Functions longer than the limit with no `// long:` reason written above them.
pub fn long_functions(text: &str) -> Vec<(String, usize)> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let raw: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let Some(len) = body_lines(&lines[i..]) else {
            continue;
        };
        if len > LONGEST && !reason_above(&raw, i) {
            out.push((name, len));
        }
    }
    out
}

pub fn fn_name(line: &str) -> Option<String> {
    let at = line.find("fn ")?;
    if at > 0 && is_ident(line.as_bytes()[at - 1] as char) {
        return None;
    }
    let name: String = line[at + 3..]
        .chars()
        .take_while(|&c| is_ident(c))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Lines from the signature to the closing brace of the body; None for a declaration.
pub fn body_lines(lines: &[&str]) -> Option<usize> {
    let mut depth = 0i32;
    let mut opened = false;
    for (n, line) in lines.iter().enumerate() {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                ';' if !opened && depth == 0 => return None,
                _ => {}
            }
            if opened && depth == 0 {
                return Some(n + 1);
            }
        }
    }
    None
}

pub fn reason_above(raw: &[&str], at: usize) -> bool {
    raw[..at]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("//") || l.starts_with("#["))
        .any(|l| l.starts_with("// long:"))
}
