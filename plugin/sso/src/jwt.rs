//! ID tokens: compact JWT parsing, the RS256 signature, and the claim checks
//! of OpenID Connect Core §3.1.3.7. Every `Err` is the text of one failed
//! check, worded to follow "the ID token ..."; none quotes the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::PublicKey;
use serde_json::{Map, Value};
use sha2::Sha256;

/// ID tokens are a few KiB; refuse to decode anything far larger.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A decoded, not yet verified, compact JWT.
#[derive(Debug, Clone)]
pub struct Jwt {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

/// What the claims must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The discovered issuer.
    pub issuer: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// The nonce this login sent.
    pub nonce: &'a str,
    /// Now, in Unix seconds.
    pub now_secs: i64,
    /// Allowed clock difference, seconds.
    pub leeway_secs: i64,
}

/// The claims a validated ID token tells about the person.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdClaims {
    /// Okta user id.
    pub sub: String,
    /// `email`.
    pub email: Option<String>,
    /// `preferred_username` (the Okta login).
    pub preferred_username: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `given_name`.
    pub given_name: Option<String>,
    /// `family_name`.
    pub family_name: Option<String>,
}

/// Split and decode a compact JWS: three base64url parts, a JSON object
/// header and a JSON object payload.
pub fn parse(token: &str) -> Result<Jwt, String> {
    let malformed = || "is malformed (not a signed JWT)".to_owned();
    if token.len() > MAX_TOKEN_BYTES {
        return Err("is far too large".into());
    }
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [h, c, s] = parts[..] else {
        return Err(malformed());
    };
    let object = |part: &str| -> Result<Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(malformed()),
        }
    };
    let header = object(h)?;
    let claims = object(c)?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| malformed())?;
    Ok(Jwt {
        header,
        claims,
        signing_input: format!("{h}.{c}"),
        signature,
    })
}

impl IdClaims {
    /// Fill the claims this token left out from the provider's userinfo
    /// answer (OpenID Connect Core §5.4); its `sub` must be this token's
    /// (§5.3.2), or the answer is about someone else and refused.
    pub fn fill_from_userinfo(&mut self, info: &Map<String, Value>) -> Result<(), String> {
        match info.get("sub").and_then(Value::as_str) {
            Some(sub) if sub == self.sub => {}
            _ => {
                return Err(
                    "The identity provider's userinfo answer is about another person (`sub` differs from the ID token's); start again.".into(),
                );
            }
        }
        let text = |k: &str| {
            info.get(k)
                .and_then(Value::as_str)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
        };
        let fill = |slot: &mut Option<String>, k: &str| {
            if slot.as_deref().is_none_or(|v| v.trim().is_empty()) {
                *slot = text(k);
            }
        };
        fill(&mut self.email, "email");
        fill(&mut self.preferred_username, "preferred_username");
        fill(&mut self.name, "name");
        fill(&mut self.given_name, "given_name");
        fill(&mut self.family_name, "family_name");
        Ok(())
    }

    /// Whether the token lacks what a just-in-time requester is made
    /// from: an email address and a name.
    pub fn lacks_profile(&self) -> bool {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        blank(&self.email)
            || (blank(&self.name) && blank(&self.given_name) && blank(&self.family_name))
    }
}

impl Jwt {
    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The header must say RS256 and nothing this code does not understand.
    /// `none` and the HMAC algorithms are refused outright: an HS256 token
    /// "signed" with the public key must never be checked with it as a
    /// MAC key, so no HMAC code path exists at all.
    pub fn check_header(&self) -> Result<(), String> {
        match self.header.get("alg").and_then(Value::as_str) {
            Some("RS256") => {}
            Some(alg) if alg.eq_ignore_ascii_case("none") => {
                return Err("is unsigned (alg `none`); only RS256 is accepted".into());
            }
            Some(alg) if alg.to_ascii_uppercase().starts_with("HS") => {
                return Err(format!(
                    "uses the shared-secret algorithm `{}`; only RS256 is accepted",
                    shorten(alg)
                ));
            }
            Some(alg) => {
                return Err(format!(
                    "uses the algorithm `{}`; only RS256 is accepted",
                    shorten(alg)
                ));
            }
            None => return Err("names no algorithm (`alg`)".into()),
        }
        // RFC 7515 §4.1.11: extensions marked critical must be understood.
        if self.header.contains_key("crit") {
            return Err("requires header extensions (`crit`) this plugin does not support".into());
        }
        Ok(())
    }

    /// Verify the RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature.
    pub fn verify_rs256(&self, key: &PublicKey) -> Result<(), String> {
        key.pkcs1v15_verify::<Sha256>(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| {
                "has a signature that does not verify with the identity provider's key".to_owned()
            })
    }

    /// The claim checks, once the signature is known to be good.
    pub fn check_claims(&self, want: &Expected<'_>) -> Result<IdClaims, String> {
        let c = &self.claims;
        let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
        match text("iss") {
            Some(iss) if iss == want.issuer => {}
            Some(iss) => {
                return Err(format!(
                    "was issued by `{}`, not by the configured issuer {}",
                    shorten(&iss),
                    want.issuer
                ));
            }
            None => return Err("names no issuer (`iss`)".into()),
        }
        check_audience(c, want.client_id)?;
        let now = want.now_secs;
        let exp = number(c, "exp")?.ok_or("has no expiry (`exp`)")?;
        if now > exp + want.leeway_secs {
            return Err("has expired (`exp`)".into());
        }
        let iat = number(c, "iat")?.ok_or("has no issue time (`iat`)")?;
        if iat > now + want.leeway_secs {
            return Err("is issued in the future (`iat`); check the host's clock".into());
        }
        if let Some(nbf) = number(c, "nbf")?
            && nbf > now + want.leeway_secs
        {
            return Err("is not valid yet (`nbf`); check the host's clock".into());
        }
        match text("nonce") {
            Some(n) if n == want.nonce => {}
            Some(_) => return Err("carries the nonce of another sign-in".into()),
            None => return Err("carries no nonce".into()),
        }
        let sub = text("sub")
            .filter(|s| !s.trim().is_empty())
            .ok_or("names no subject (`sub`)")?;
        Ok(IdClaims {
            sub,
            email: text("email"),
            preferred_username: text("preferred_username"),
            name: text("name"),
            given_name: text("given_name"),
            family_name: text("family_name"),
        })
    }
}

/// `aud` is our client id, or a list of audiences all of which we trust —
/// and we trust only ourselves (OpenID Connect Core §3.1.3.7 step 3: a
/// token also meant for another party is refused, whatever `azp` says).
/// `azp`, when present, must be our client id too (steps 4–5).
fn check_audience(c: &Map<String, Value>, client_id: &str) -> Result<(), String> {
    let ours = match c.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) if !list.is_empty() => {
            if list.iter().any(|a| a.as_str() != Some(client_id)) {
                return Err(
                    "is also meant for another audience this client does not trust (`aud`)".into(),
                );
            }
            true
        }
        _ => return Err("names no audience (`aud`)".into()),
    };
    if !ours {
        return Err("is meant for another application (`aud` is not this client id)".into());
    }
    match c.get("azp") {
        None => Ok(()),
        Some(Value::String(azp)) if azp == client_id => Ok(()),
        Some(_) => Err("was issued to another application (`azp` is not this client id)".into()),
    }
}

/// A NumericDate claim, fractional seconds truncated; `Ok(None)` if absent.
fn number(c: &Map<String, Value>, k: &str) -> Result<Option<i64>, String> {
    match c.get(k) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| format!("has a `{k}` that is not a number")),
    }
}

/// Attacker-chosen text quoted in a message: printable and short.
fn shorten(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if clean.len() < s.len() {
        format!("{clean}…")
    } else {
        clean
    }
}
