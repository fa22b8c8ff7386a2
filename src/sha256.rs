//! SHA-256 (FIPS 180-4), for the few hashes the library takes itself: JWK thumbprints and
//! `ath` for DPoP, and fingerprints that name things other scripts can see.
//!
//! Why here and not a crate: every dependency costs bytes in the wasm module, and SHA-256 is
//! a page of code. Why not WebCrypto's `digest`: it is asynchronous, and these hashes are
//! needed in the middle of synchronous work. Nothing here is secret-dependent in its timing
//! beyond the input's length.

use crate::jwt::push_base64url;

/// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The first 32 bits of the fractional parts of the square roots of the first 8 primes.
const INITIAL_STATE: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The SHA-256 digest of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut hasher = Hasher::new();
    hasher.update(data);
    hasher.finish()
}

/// The prefix that makes [`fingerprint`]s a hash of their own: a fingerprint can never equal
/// an `ath`, a thumbprint or any other SHA-256 of the same token that a server might log.
const FINGERPRINT_PREFIX: &[u8] = b"tokenkeeper fingerprint v1\0";

/// A name-safe stand-in for a secret (a token), for names other scripts on the page can see
/// (Web Lock names, BroadcastChannel names): base64url of SHA-256 over a domain-separation
/// prefix and the secret. Always 43 characters of `A–Z a–z 0–9 - _`; not reversible, and
/// never shortened, so two secrets share a name only by a SHA-256 collision.
pub fn fingerprint(secret: &str) -> String {
    let mut hasher = Hasher::new();
    hasher.update(FINGERPRINT_PREFIX);
    hasher.update(secret.as_bytes());
    let mut name = String::with_capacity(43);
    push_base64url(&mut name, &hasher.finish());
    name
}

/// An incremental SHA-256, so that a prefixed message is hashed without copying it into one
/// buffer first (the secret would linger in one more place in wasm memory).
struct Hasher {
    state: [u32; 8],
    /// The bytes of an incomplete block.
    block: [u8; 64],
    /// How many bytes of `block` are filled (always < 64 between calls).
    filled: usize,
    /// The message length so far, in bytes.
    length: u64,
}

impl Hasher {
    fn new() -> Self {
        Hasher {
            state: INITIAL_STATE,
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == 64 {
                compress(&mut self.state, &self.block);
                self.filled = 0;
            }
        }
    }

    /// Pads (a 1 bit, zeros, the length in bits as 64-bit big-endian) and returns the digest.
    fn finish(mut self) -> [u8; 32] {
        let length_bits = self.length.wrapping_mul(8);
        self.block[self.filled] = 0x80;
        self.block[self.filled + 1..].fill(0);
        if self.filled >= 56 {
            // No room for the length in this block: it goes in one more.
            compress(&mut self.state, &self.block);
            self.block = [0; 64];
        }
        self.block[56..].copy_from_slice(&length_bits.to_be_bytes());
        compress(&mut self.state, &self.block);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(self.state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }
}

/// The compression function: one 64-byte block into the state (FIPS 180-4 §6.2.2).
fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 64];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16]
            .wrapping_add(s0)
            .wrapping_add(w[t - 7])
            .wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (k, w) in K.iter().zip(w) {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let choose = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(choose)
            .wrapping_add(*k)
            .wrapping_add(w);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let majority = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(majority);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn hex(digest: [u8; 32]) -> String {
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn the_fips_180_examples_hash_to_the_published_digests() {
        assert_eq!(
            hex(sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            hex(sha256(&vec![b'a'; 1_000_000])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn messages_around_the_padding_boundary_hash_correctly() {
        // 55 bytes leave room for the length in the last block, 56 do not; 64 fill a block.
        for (len, want) in [
            (
                55,
                "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            ),
            (
                56,
                "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            ),
            (
                63,
                "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            ),
            (
                64,
                "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            ),
            (
                65,
                "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
            ),
        ] {
            assert_eq!(hex(sha256(&vec![b'a'; len])), want, "{len} bytes");
        }
    }

    #[test]
    fn hashing_in_pieces_equals_hashing_at_once() {
        let message: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 128, 200, 300] {
            let mut hasher = Hasher::new();
            hasher.update(&message[..split]);
            hasher.update(&message[split..]);
            assert_eq!(hasher.finish(), sha256(&message), "split at {split}");
        }
    }

    #[test]
    fn fingerprints_are_43_url_safe_characters() {
        for secret in [
            "",
            "a",
            "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
            &"x".repeat(10_000),
        ] {
            let f = fingerprint(secret);
            assert_eq!(f.len(), 43, "{secret:?}");
            assert!(
                f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{f}"
            );
        }
    }

    #[test]
    fn fingerprints_are_deterministic_and_differ_between_secrets() {
        assert_eq!(fingerprint("token-1"), fingerprint("token-1"));
        assert_ne!(fingerprint("token-1"), fingerprint("token-2"));
        assert_ne!(fingerprint(""), fingerprint("\0"));
    }

    #[test]
    fn a_fingerprint_is_not_the_plain_hash_of_the_secret() {
        let secret = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
        assert_ne!(
            fingerprint(secret),
            URL_SAFE_NO_PAD.encode(sha256(secret.as_bytes()))
        );
        let mut prefixed = FINGERPRINT_PREFIX.to_vec();
        prefixed.extend_from_slice(secret.as_bytes());
        assert_eq!(
            fingerprint(secret),
            URL_SAFE_NO_PAD.encode(sha256(&prefixed))
        );
    }
}
