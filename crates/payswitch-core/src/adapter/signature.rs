//! HMAC-SHA256 signatures: computing one, and checking one against any of several secrets
//! (rotation) in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::Secret;

/// The HMAC-SHA256 of the concatenation of `parts` under `key`. The parts are fed to the MAC
/// one after another, so a signed payload such as `{timestamp}.{body}` is never copied.
///
/// ```
/// // RFC 4231 test case 2.
/// let mac = payswitch_core::adapter::signature::hmac_sha256(
///     b"Jefe",
///     &[b"what do ya want ", b"for nothing?"],
/// );
/// assert_eq!(
///     hex::encode(mac),
///     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
/// );
/// ```
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Says whether any of `candidates` (decoded signatures) is the HMAC-SHA256 of `parts` under
/// any of `secrets` (the secret's UTF-8 bytes are the key). One MAC per secret; every
/// comparison is constant time.
pub fn matches_any(secrets: &[Secret], parts: &[&[u8]], candidates: &[&[u8]]) -> bool {
    secrets.iter().any(|secret| {
        let expected = hmac_sha256(secret.expose().as_bytes(), parts);
        candidates
            .iter()
            .any(|candidate| bool::from(expected.as_slice().ct_eq(candidate)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_secret_and_any_candidate_may_match() {
        let secrets = [Secret::new("old"), Secret::new("new")];
        let good = hmac_sha256(b"new", &[b"1700000000", b".", b"{}"]);
        let other = hmac_sha256(b"other", &[b"1700000000.{}"]);
        let parts: [&[u8]; 1] = [b"1700000000.{}"];
        assert!(matches_any(&secrets, &parts, &[&other, &good]));
        assert!(!matches_any(&secrets, &parts, &[&other]));
        assert!(!matches_any(&secrets, &parts, &[&good[..31]]));
        assert!(!matches_any(&[], &parts, &[&good]));
    }
}
