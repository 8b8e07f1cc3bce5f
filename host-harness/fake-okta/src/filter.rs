//! Okta's `filter` and `search` expression language (the subset the plugin
//! and the tests use): `attr op "value"`, `and`, `or`, parentheses.
//!
//! `and` binds tighter than `or`, as in SCIM. Operators and `and`/`or` are
//! case-insensitive; `filter` compares values case-sensitively, `search`
//! case-insensitively (Okta documents both).

use crate::clock::{self, Millis};
use crate::errors::OktaError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Sw,
    Co,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "sw" => Op::Sw,
            "co" => Op::Co,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    pub(crate) fn is_order(self) -> bool {
        matches!(self, Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }
}

#[derive(Debug)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp {
        attr: String,
        op: Op,
        value: String,
        /// Set when `attr` is a timestamp; checked at parse time so a bad
        /// date is a 400, not a silent non-match.
        time: Option<Millis>,
    },
}

/// An attribute's value on one resource.
pub(crate) enum Val {
    Str(String),
    Time(Millis),
    List(Vec<String>),
}

/// Which attributes and operators an endpoint accepts.
pub(crate) struct Dialect {
    pub allowed: fn(&str, Op) -> bool,
    pub is_time: fn(&str) -> bool,
    pub case_insensitive: bool,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
    Quoted(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, OktaError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                out.push(if c == '(' { Tok::Open } else { Tok::Close });
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => v.push(chars.next().ok_or_else(OktaError::invalid_search)?),
                        Some(ch) => v.push(ch),
                        None => return Err(OktaError::invalid_search()),
                    }
                }
                out.push(Tok::Quoted(v));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '"' {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    dialect: &'a Dialect,
}

impl Parser<'_> {
    fn keyword(&mut self, kw: &str) -> bool {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn or(&mut self) -> Result<Expr, OktaError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, OktaError> {
        let mut left = self.primary()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn next(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.pos);
        self.pos += 1;
        t
    }

    fn primary(&mut self) -> Result<Expr, OktaError> {
        let bad = OktaError::invalid_search;
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err(bad()),
                }
            }
            Some(Tok::Word(attr)) => {
                let attr = attr.clone();
                let op = match self.next() {
                    Some(Tok::Word(w)) => Op::parse(w).ok_or_else(bad)?,
                    _ => return Err(bad()),
                };
                // Okta accepts unquoted numbers and booleans.
                let value = match self.next() {
                    Some(Tok::Quoted(v) | Tok::Word(v)) => v.clone(),
                    _ => return Err(bad()),
                };
                if !(self.dialect.allowed)(&attr, op) {
                    return Err(bad());
                }
                let time = if (self.dialect.is_time)(&attr) {
                    Some(clock::parse(&value).ok_or_else(OktaError::invalid_date)?)
                } else {
                    None
                };
                Ok(Expr::Cmp {
                    attr,
                    op,
                    value,
                    time,
                })
            }
            _ => Err(bad()),
        }
    }
}

pub(crate) fn parse(s: &str, dialect: &Dialect) -> Result<Expr, OktaError> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
        dialect,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(OktaError::invalid_search());
    }
    Ok(e)
}

fn cmp_str(have: &str, op: Op, want: &str, ci: bool) -> bool {
    let (h, w) = if ci {
        (have.to_lowercase(), want.to_lowercase())
    } else {
        (have.to_owned(), want.to_owned())
    };
    match op {
        Op::Eq => h == w,
        Op::Sw => h.starts_with(&w),
        Op::Co => h.contains(&w),
        Op::Gt => h > w,
        Op::Ge => h >= w,
        Op::Lt => h < w,
        Op::Le => h <= w,
    }
}

fn cmp_time(have: Millis, op: Op, want: Millis) -> bool {
    match op {
        Op::Eq | Op::Sw | Op::Co => have == want,
        Op::Gt => have > want,
        Op::Ge => have >= want,
        Op::Lt => have < want,
        Op::Le => have <= want,
    }
}

impl Expr {
    /// `lookup` gives an attribute's value on the resource, `None` when unset.
    pub(crate) fn eval(&self, ci: bool, lookup: &mut dyn FnMut(&str) -> Option<Val>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(ci, lookup) && b.eval(ci, lookup),
            Expr::Or(a, b) => a.eval(ci, lookup) || b.eval(ci, lookup),
            Expr::Cmp {
                attr,
                op,
                value,
                time,
            } => match (lookup(attr), time) {
                (Some(Val::Time(have)), Some(want)) => cmp_time(have, *op, *want),
                (Some(Val::Str(have)), _) => cmp_str(&have, *op, value, ci),
                (Some(Val::List(items)), _) => items.iter().any(|h| cmp_str(h, *op, value, ci)),
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: Dialect = Dialect {
        allowed: |_, _| true,
        is_time: |a| a == "lastUpdated",
        case_insensitive: false,
    };

    fn eval(expr: &str, status: &str, updated: &str) -> bool {
        let e = parse(expr, &ANY).unwrap_or_else(|e| panic!("{expr}: {}", e.summary));
        e.eval(false, &mut |a| match a {
            "status" => Some(Val::Str(status.into())),
            "lastUpdated" => clock::parse(updated).map(Val::Time),
            _ => None,
        })
    }

    #[test]
    fn precedence_and_parentheses() {
        let t = "2024-01-01T00:00:00.000Z";
        assert!(eval(
            r#"status eq "A" or status eq "B" and lastUpdated gt "2030-01-01T00:00:00Z""#,
            "A",
            t
        ));
        assert!(!eval(
            r#"(status eq "A" or status eq "B") and lastUpdated gt "2030-01-01T00:00:00Z""#,
            "A",
            t
        ));
        assert!(eval(
            r#"lastUpdated GE "2024-01-01T00:00:00.000Z" AND status Eq "X""#,
            "X",
            t
        ));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "status",
            r#"status eq"#,
            r#"status ne "A""#,
            r#"status eq "A" and"#,
            r#"(status eq "A""#,
            r#"status eq "unterminated"#,
        ] {
            assert!(parse(bad, &ANY).is_err(), "{bad:?} should not parse");
        }
        let e = parse(r#"lastUpdated gt "yesterday""#, &ANY).unwrap_err();
        assert_eq!(e.code, "E0000030");
    }
}
