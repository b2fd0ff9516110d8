//! The private key of the `SSL` block, read as OpenSSL's `SSL_CTX_use_PrivateKey_file` reads a PEM
//! file for keepalived: the first key in it, plain (PKCS#8, PKCS#1, SEC1) or encrypted with the
//! block's `password`, either as PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2, as OpenSSL 3 writes keys)
//! or in the older form whose `DEK-Info` header names the cipher (`openssl rsa -aes128 -traditional`,
//! `openssl ec -des3`).

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockCipher, BlockDecryptMut, KeyIvInit};
use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

/// keepalived's password callback copies the password into OpenSSL's buffer of `PEM_BUFSIZE`
/// bytes with its terminator, and gives none when it does not fit.
const PASSWORD_BUFFER: usize = 1024;

/// The first private key of the PEM text `text`, decrypted with `password` when it is encrypted;
/// the error says why there is none.
pub(crate) fn private_key(
    text: &str,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, String> {
    let password = password.filter(|password| password.len() < PASSWORD_BUFFER);
    let block = first_key_block(text)?;
    let encrypted = block.label == "ENCRYPTED PRIVATE KEY" || block.dek_info.is_some();
    let der = if encrypted {
        let password =
            password.ok_or("the key is encrypted and the SSL block gives no password")?;
        decrypt(&block, password)?
    } else {
        block.der
    };
    Ok(match block.label {
        "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => PrivatePkcs8KeyDer::from(der).into(),
        "RSA PRIVATE KEY" => PrivatePkcs1KeyDer::from(der).into(),
        "EC PRIVATE KEY" => PrivateSec1KeyDer::from(der).into(),
        other => return Err(format!("unexpected PEM block {other}")),
    })
}

/// A PEM block holding a key: its label, its `DEK-Info` header if any, and its decoded body.
struct KeyBlock<'a> {
    label: &'a str,
    dek_info: Option<&'a str>,
    der: Vec<u8>,
}

const KEY_LABELS: [&str; 4] = [
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
];

/// The first block of `text` whose label is a key's; other blocks (certificates, EC parameters)
/// are passed over, as OpenSSL's reader passes over them.
fn first_key_block(text: &str) -> Result<KeyBlock<'_>, String> {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .trim_end()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        if !KEY_LABELS.contains(&label) {
            continue;
        }
        let end = format!("-----END {label}-----");
        let (mut dek_info, mut body) = (None, String::new());
        loop {
            let line = lines
                .next()
                .ok_or_else(|| format!("the {label} block has no end"))?
                .trim();
            if line == end {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                // Encapsulated headers (RFC 1421): only the cipher matters here.
                if name.trim() == "DEK-Info" {
                    dek_info = Some(value.trim());
                }
                continue;
            }
            body.push_str(line);
        }
        let der = Base64::decode_vec(&body)
            .map_err(|_| format!("the {label} block is not valid base64"))?;
        return Ok(KeyBlock {
            label,
            dek_info,
            der,
        });
    }
    Err("no private key in it".into())
}

fn decrypt(block: &KeyBlock<'_>, password: &str) -> Result<Vec<u8>, String> {
    match block.dek_info {
        Some(dek_info) => decrypt_traditional(&block.der, dek_info, password.as_bytes()),
        None => {
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(block.der.as_slice())
                .map_err(|e| format!("the encrypted key cannot be read: {e}"))?;
            let document = info
                .decrypt(password)
                .map_err(|_| "bad decrypt (wrong password?)".to_owned())?;
            Ok(document.as_bytes().to_vec())
        }
    }
}

/// The older encrypted form: `DEK-Info: CIPHER,IV` with the key from OpenSSL's `EVP_BytesToKey`
/// (MD5, one round, the first 8 bytes of the IV as salt).
fn decrypt_traditional(der: &[u8], dek_info: &str, password: &[u8]) -> Result<Vec<u8>, String> {
    let (cipher, iv_hex) = dek_info
        .split_once(',')
        .ok_or_else(|| format!("malformed DEK-Info {dek_info}"))?;
    let iv = hex(iv_hex.trim()).ok_or_else(|| format!("malformed DEK-Info IV {iv_hex}"))?;
    let key_and_iv = |key_len: usize, iv_len: usize| -> Result<Vec<u8>, String> {
        if iv.len() != iv_len {
            return Err(format!(
                "the DEK-Info IV of {cipher} has {} bytes",
                iv.len()
            ));
        }
        Ok(bytes_to_key(password, &iv[..8], key_len))
    };
    match cipher.trim() {
        "AES-128-CBC" => cbc_decrypt::<aes::Aes128>(&key_and_iv(16, 16)?, &iv, der),
        "AES-192-CBC" => cbc_decrypt::<aes::Aes192>(&key_and_iv(24, 16)?, &iv, der),
        "AES-256-CBC" => cbc_decrypt::<aes::Aes256>(&key_and_iv(32, 16)?, &iv, der),
        "DES-EDE3-CBC" => cbc_decrypt::<des::TdesEde3>(&key_and_iv(24, 8)?, &iv, der),
        "DES-CBC" => cbc_decrypt::<des::Des>(&key_and_iv(8, 8)?, &iv, der),
        other => Err(format!("unsupported key cipher {other}")),
    }
}

/// `der` decrypted with cipher `C` in CBC mode, its PKCS#7 padding checked and removed.
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], der: &[u8]) -> Result<Vec<u8>, String>
where
    C: BlockCipher + BlockDecryptMut,
    cbc::Decryptor<C>: KeyIvInit + BlockDecryptMut,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|e| e.to_string())?
        .decrypt_padded_vec_mut::<Pkcs7>(der)
        .map_err(|_| "bad decrypt (wrong password?)".to_owned())
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round: MD5 of the previous digest, the password
/// and the salt, again and again, until there are `len` bytes.
fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(len + 16);
    let mut previous: Option<[u8; 16]> = None;
    while key.len() < len {
        let mut md5 = Md5::new();
        if let Some(previous) = previous {
            md5.update(previous);
        }
        md5.update(password);
        md5.update(salt);
        let digest: [u8; 16] = md5.finalize().into();
        key.extend_from_slice(&digest);
        previous = Some(digest);
    }
    key.truncate(len);
    key
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> String {
        let path = format!("{}/../../testdata/tls/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).expect("test key")
    }

    /// The plain key every encrypted fixture holds.
    fn plain() -> PrivateKeyDer<'static> {
        private_key(&testdata("client.key"), None).expect("plain key")
    }

    /// A key's bytes, to compare what was decrypted with the plain fixture of the same form.
    fn secret_bytes(key: &PrivateKeyDer<'_>) -> Vec<u8> {
        key.secret_der().to_vec()
    }

    #[test]
    fn encrypted_pkcs8_keys_are_read_with_the_password() {
        for name in ["client-encrypted.key", "client-encrypted-scrypt.key"] {
            let key = private_key(&testdata(name), Some("secret")).expect(name);
            assert!(matches!(key, PrivateKeyDer::Pkcs8(_)), "{name}");
            assert_eq!(secret_bytes(&key), secret_bytes(&plain()), "{name}");
        }
    }

    #[test]
    fn keys_with_dek_info_are_read_with_the_password() {
        let sec1 = private_key(&testdata("client-sec1.key"), None).expect("plain SEC1 key");
        for name in ["client-sec1-aes128.key", "client-sec1-des3.key"] {
            let key = private_key(&testdata(name), Some("secret")).expect(name);
            assert!(matches!(key, PrivateKeyDer::Sec1(_)), "{name}");
            assert_eq!(secret_bytes(&key), secret_bytes(&sec1), "{name}");
        }
        let rsa = private_key(&testdata("rsa.key"), None).expect("plain RSA key");
        let key = private_key(&testdata("rsa-aes256.key"), Some("secret")).expect("RSA key");
        assert!(matches!(key, PrivateKeyDer::Pkcs1(_)));
        assert_eq!(secret_bytes(&key), secret_bytes(&rsa));
    }

    #[test]
    fn a_wrong_or_missing_password_is_an_error() {
        for name in [
            "client-encrypted.key",
            "client-sec1-aes128.key",
            "client-sec1-des3.key",
        ] {
            let missing = private_key(&testdata(name), None).expect_err(name);
            assert!(missing.contains("no password"), "{name}: {missing}");
            // A wrong password leaves padding that does not check out, or a key that cannot be
            // read; either way no key.
            assert!(
                private_key(&testdata(name), Some("wrong")).is_err(),
                "{name}"
            );
        }
        // keepalived's callback gives no password that does not fit OpenSSL's buffer.
        let long = "x".repeat(PASSWORD_BUFFER);
        assert!(private_key(&testdata("client-encrypted.key"), Some(&long)).is_err());
    }

    #[test]
    fn other_blocks_are_passed_over_and_bad_ones_named() {
        let with_certificate = format!("{}{}", testdata("client.pem"), testdata("client.key"));
        assert_eq!(
            secret_bytes(&private_key(&with_certificate, None).expect("key after certificate")),
            secret_bytes(&plain())
        );
        assert_eq!(
            private_key(&testdata("client.pem"), None).err().as_deref(),
            Some("no private key in it")
        );
        let cut = "-----BEGIN PRIVATE KEY-----\nMIGH\n";
        assert!(private_key(cut, None).is_err_and(|e| e.contains("no end")));
        let unknown = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: CAMELLIA-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(
            private_key(unknown, Some("secret"))
                .is_err_and(|e| e.contains("unsupported key cipher"))
        );
    }

    #[test]
    fn no_input_makes_the_reader_panic() {
        let mut random = fastrand::Rng::with_seed(0x6b65_7973);
        let texts: Vec<String> = [
            "client-encrypted.key",
            "client-encrypted-scrypt.key",
            "client-sec1-aes128.key",
            "client-sec1-des3.key",
            "rsa-aes256.key",
        ]
        .iter()
        .map(|name| testdata(name))
        .collect();
        for round in 0..300 {
            let text = &texts[round % texts.len()];
            let mut bytes = text.clone().into_bytes();
            // Cut it, and change a few bytes of what is left (headers, base64, markers).
            bytes.truncate(random.usize(..=bytes.len()));
            for _ in 0..random.usize(..4) {
                if !bytes.is_empty() {
                    let at = random.usize(..bytes.len());
                    bytes[at] = random.u8(b' '..=b'~');
                }
            }
            let mutated = String::from_utf8_lossy(&bytes);
            // With the right password, a block that survives whole is decrypted too.
            let _ = private_key(&mutated, Some("secret"));
        }
    }

    #[test]
    fn bytes_to_key_is_openssls() {
        // `openssl enc -aes-256-cbc -k secret -S 0001020304050607 -md md5 -P` prints this key;
        // AES-128 takes its first half (one round of MD5), AES-256 needs a second round.
        let expected = "035FB8145B73CF111570DC936112BE9C375A5D3D8B915BC213BDBEF9DBFB7851";
        let salt = [0, 1, 2, 3, 4, 5, 6, 7];
        let text = |key: Vec<u8>| key.iter().map(|b| format!("{b:02X}")).collect::<String>();
        assert_eq!(text(bytes_to_key(b"secret", &salt, 32)), expected);
        assert_eq!(text(bytes_to_key(b"secret", &salt, 16)), expected[..32]);
    }
}
