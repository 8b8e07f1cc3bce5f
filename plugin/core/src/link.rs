//! RFC 8288 `Link` headers, as Okta uses them for pagination: several `Link`
//! headers, or several links comma-separated in one.

/// One link of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target URL, as sent.
    pub url: String,
    /// The `rel` parameter (possibly several space-separated relations);
    /// empty when absent.
    pub rel: String,
}

impl Link {
    /// Whether `rel` lists this relation (case-insensitively).
    pub fn has_rel(&self, rel: &str) -> bool {
        self.rel
            .split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case(rel))
    }
}

/// The `rel="next"` URL among all `Link` header values, if any.
pub fn next_link(values: &[&str]) -> Option<String> {
    values
        .iter()
        .flat_map(|v| parse_links(v))
        .find(|l| l.has_rel("next"))
        .map(|l| l.url)
}

/// Every well-formed link in one header value; malformed ones are skipped,
/// because one odd link must not hide the `next` one.
pub fn parse_links(value: &str) -> Vec<Link> {
    let mut p = Parser {
        s: value.as_bytes(),
        i: 0,
    };
    let mut links = Vec::new();
    while p.i < p.s.len() {
        p.skip_ws();
        match p.link() {
            Some(link) => links.push(link),
            None => p.skip_to_next_link(),
        }
        p.skip_ws();
        if p.peek() == Some(b',') {
            p.i += 1;
        }
    }
    links
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b == b' ' || b == b'\t') {
            self.i += 1;
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(&self.s[from..to]).into_owned()
    }

    /// `<url> *( ";" param )`, stopping before the `,` that ends it.
    fn link(&mut self) -> Option<Link> {
        if self.peek() != Some(b'<') {
            return None;
        }
        let start = self.i + 1;
        let end = start + self.s[start..].iter().position(|&b| b == b'>')?;
        let url = self.text(start, end).trim().to_owned();
        self.i = end + 1;
        let mut rel = String::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(b',') => break,
                Some(b';') => self.i += 1,
                Some(_) => return None,
            }
            self.skip_ws();
            let (name, value) = self.param()?;
            // RFC 8288: only the first `rel` counts.
            if name.eq_ignore_ascii_case("rel") && rel.is_empty() {
                rel = value;
            }
        }
        (!url.is_empty()).then_some(Link { url, rel })
    }

    /// `name [ "=" ( token / quoted-string ) ]`.
    fn param(&mut self) -> Option<(String, String)> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| !matches!(b, b'=' | b';' | b',' | b' ' | b'\t'))
        {
            self.i += 1;
        }
        let name = self.text(start, self.i);
        if name.is_empty() {
            return None;
        }
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return Some((name, String::new()));
        }
        self.i += 1;
        self.skip_ws();
        if self.peek() == Some(b'"') {
            return self.quoted().map(|v| (name, v));
        }
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| !matches!(b, b';' | b',' | b' ' | b'\t'))
        {
            self.i += 1;
        }
        Some((name, self.text(start, self.i)))
    }

    fn quoted(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    out.push(*self.s.get(self.i + 1)?);
                    self.i += 2;
                }
                b => {
                    out.push(b);
                    self.i += 1;
                }
            }
        }
    }

    /// Recover after a malformed link: skip to the next top-level `,`
    /// outside quotes and angle brackets.
    fn skip_to_next_link(&mut self) {
        let (mut in_quotes, mut in_angle) = (false, false);
        while let Some(b) = self.peek() {
            match b {
                b'"' if !in_angle => in_quotes = !in_quotes,
                b'<' if !in_quotes => in_angle = true,
                b'>' if !in_quotes => in_angle = false,
                b',' if !in_quotes && !in_angle => return,
                _ => {}
            }
            self.i += 1;
        }
    }
}
