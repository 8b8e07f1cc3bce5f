//! The small languages of a mapping: sources and templates, profile values
//! as text, and `*` wildcards.

use serde_json::{Map, Value};

/// A parsed template: literal text and attribute references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Lit(String),
    /// The text of a profile attribute.
    Attr(String),
}

/// Whether a source or default is a template rather than an attribute name.
pub fn is_template(s: &str) -> bool {
    s.contains(['{', '}'])
}

/// Check an attribute name: Okta's are identifiers, so blanks and braces
/// can only be typos.
pub fn check_attribute(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("names no Okta attribute".into());
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c == '{' || c == '}')
    {
        return Err(format!(
            "`{name}` is not an attribute name (no spaces or braces)"
        ));
    }
    Ok(())
}

/// Parse a template; errors say where the braces go wrong.
pub fn parse(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                chars.next();
                lit.push('}');
            }
            '}' => {
                return Err(format!(
                    "`}}` at character {} closes nothing (write `}}}}` for a literal brace)",
                    at + 1
                ));
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some((_, '}')) => break,
                        Some((_, '{')) | None => {
                            return Err(format!(
                                "`{{` at character {} is never closed (write `{{{{` for a literal brace)",
                                at + 1
                            ));
                        }
                        Some((_, c)) => name.push(c),
                    }
                }
                let name = name.trim().to_owned();
                check_attribute(&name)
                    .map_err(|m| format!("`{{}}` at character {}: {m}", at + 1))?;
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Attr(name));
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

/// Render a template against a profile.
pub fn render(pieces: &[Piece], profile: &Map<String, Value>) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.clone(),
            Piece::Attr(a) => text(profile, a),
        })
        .collect()
}

/// The attributes a template refers to.
pub fn attributes(pieces: &[Piece]) -> impl Iterator<Item = &str> {
    pieces.iter().filter_map(|p| match p {
        Piece::Attr(a) => Some(a.as_str()),
        Piece::Lit(_) => None,
    })
}

/// A profile value as text (see the module docs of [`crate::mapping`]).
pub fn text(profile: &Map<String, Value>, key: &str) -> String {
    match profile.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(_) | Value::Bool(_) => Some(i.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// Group names compare ignoring case and surrounding spaces.
pub fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

/// `fold(a) == fold(b)`, without allocating when both are ASCII: every
/// person's roles compare group names with role names and rules' names.
pub fn same_folded(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold(a) == fold(b)
    }
}

/// `wildcard(pattern, &fold(name))`, for `pattern` already folded.
pub fn folded_matches(pattern: &str, name: &str) -> bool {
    let name = name.trim();
    if name.is_ascii() {
        glob(pattern.as_bytes(), name.as_bytes(), |p, n| {
            p == n.to_ascii_lowercase()
        })
    } else {
        wildcard(pattern, &fold(name))
    }
}

/// Whether `name` matches the `*` wildcard `pattern`; both already folded.
/// `*` matches any run of characters, everything else itself.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    // Bytes match as characters do: a character's UTF-8 encoding never
    // matches in the middle of another's, so a star's run is whole
    // characters.
    glob(pattern.as_bytes(), name.as_bytes(), |p, n| p == n)
}

fn glob(p: &[u8], n: &[u8], same: impl Fn(u8, u8) -> bool) -> bool {
    // Greedy with backtracking to the last star: linear in practice, and
    // never exponential, whatever an admin types.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && same(p[pi], n[ni]) {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_with_escapes_and_refuse_unbalanced_braces() {
        assert_eq!(
            parse("{firstName} {{x}} { lastName }").unwrap(),
            vec![
                Piece::Attr("firstName".into()),
                Piece::Lit(" {x} ".into()),
                Piece::Attr("lastName".into()),
            ]
        );
        assert!(parse("{firstName").unwrap_err().contains("character 1"));
        assert!(parse("a}b").unwrap_err().contains("character 2"));
        assert!(parse("{}").unwrap_err().contains("names no Okta attribute"));
        assert!(parse("{a{b}").is_err());
        assert!(parse("{first name}").is_err());
    }

    #[test]
    fn wildcards_match_anywhere() {
        for (p, n, want) in [
            ("*", "", true),
            ("*", "anything", true),
            ("infraon-*", "infraon-admins", true),
            ("infraon-*", "xinfraon-admins", false),
            ("*-admins", "infraon-admins", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**a", "a", true),
        ] {
            assert_eq!(wildcard(p, n), want, "{p} ~ {n}");
            assert_eq!(folded_matches(p, &n.to_uppercase()), want, "{p} ~ {n}");
        }
        // Several bytes to a character: a star still takes whole ones.
        assert!(wildcard("é*ü", "éxüü"));
        assert!(!wildcard("é?", "éa"));
        assert!(folded_matches("ärzte-*", " ÄRZTE-Nord "));
    }

    #[test]
    fn folded_comparisons_agree_with_fold() {
        let names = [
            "Ops", " ops ", "OPS", "Öps", "öps", "ΟΔΟΣ", "οδος", "Ops Team", "",
        ];
        for a in names {
            for b in names {
                assert_eq!(same_folded(a, b), fold(a) == fold(b), "{a:?} {b:?}");
                // A rule's name is kept folded: folding it again changes nothing.
                assert_eq!(same_folded(a, &fold(b)), fold(a) == fold(b), "{a:?} {b:?}");
            }
        }
    }
}
