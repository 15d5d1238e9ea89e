//! The account rules of PRODUCT.md §2 checked on the server: email, password and nickname. Limits
//! come from `mingizuk_core::limits`; this module only applies them and names each refusal.

use mingizuk_core::limits::{EMAIL_MAX_CHARS, NICKNAME_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};

use unicode_normalization::UnicodeNormalization;

use super::AuthError;

/// The most common passwords of public breach lists (one per line, lowercase), refused at sign-up
/// and on a password change whatever their case.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// The longest local part (before `@`) RFC 5321 allows.
const EMAIL_LOCAL_MAX_CHARS: usize = 64;

/// An email as stored and looked up: trimmed and lowercased, then checked.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    if email.chars().count() > EMAIL_MAX_CHARS || !looks_like_an_address(&email) {
        return Err(AuthError::InvalidEmail);
    }
    Ok(email)
}

/// A pragmatic check, not RFC 5322: one `@`, a local part of printable non-space characters, and a
/// domain of at least two dot-separated labels of letters, digits and inner hyphens.
fn looks_like_an_address(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.chars().count() <= EMAIL_LOCAL_MAX_CHARS
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(c, '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']')
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// A password is 8–64 characters (not bytes), with no composition rule, and not a common one.
pub fn check_password(password: &str) -> Result<(), AuthError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(AuthError::PasswordTooShort);
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(AuthError::PasswordTooLong);
    }
    if is_common(password) {
        return Err(AuthError::PasswordTooCommon);
    }
    Ok(())
}

fn is_common(password: &str) -> bool {
    let password = password.to_lowercase();
    COMMON_PASSWORDS.lines().map(str::trim).any(|common| common == password)
}

/// A nickname as stored: trimmed and in Unicode's composed form (NFC: a Hangul syllable typed as
/// its jamo is one character and the same nickname), then 1–8 characters (not bytes), every one of
/// them visible: no control or invisible formatting characters, no Hangul fillers, no spaces other
/// than a plain one. Otherwise two nicknames could look the same, or a nickname look empty.
pub fn normalize_nickname(nickname: &str) -> Result<String, AuthError> {
    let nickname: String = nickname.trim().nfc().collect();
    let chars = nickname.chars().count();
    if chars == 0 || chars > NICKNAME_MAX_CHARS || nickname.chars().any(is_invisible) {
        return Err(AuthError::InvalidNickname);
    }
    Ok(nickname)
}

/// Characters that show nothing: controls, whitespace other than U+0020, Unicode's format
/// characters (zero-width spaces and joiners, direction marks, the byte-order mark, tags) and the
/// Hangul fillers.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(
            c,
            '\u{AD}'
                | '\u{34F}'
                | '\u{61C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalize_email("  Ana.Kim@Example.COM ").ok().as_deref(), Some("ana.kim@example.com"));
        assert_eq!(normalize_email("밍기@예시.한국").ok().as_deref(), Some("밍기@예시.한국"));
        for bad in
            ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "ana@@example.com", "ana@ex..com"]
        {
            assert!(matches!(normalize_email(bad), Err(AuthError::InvalidEmail)), "{bad}");
        }
        let longest = format!("{}@{}.com", "a".repeat(64), "b".repeat(EMAIL_MAX_CHARS - 64 - 5));
        assert_eq!(longest.chars().count(), EMAIL_MAX_CHARS);
        assert!(normalize_email(&longest).is_ok());
        let too_long = format!("{}@{}.com", "a".repeat(64), "b".repeat(EMAIL_MAX_CHARS - 64 - 4));
        assert!(matches!(normalize_email(&too_long), Err(AuthError::InvalidEmail)));
    }

    #[test]
    fn passwords_count_characters_not_bytes_and_refuse_common_ones() {
        assert!(check_password("밍기적밍기적밍기").is_ok(), "8 Hangul characters are 24 bytes and allowed");
        assert!(matches!(check_password("밍기적밍기적밍"), Err(AuthError::PasswordTooShort)));
        assert!(check_password(&"가".repeat(PASSWORD_MAX_CHARS)).is_ok());
        assert!(matches!(check_password(&"a".repeat(PASSWORD_MAX_CHARS + 1)), Err(AuthError::PasswordTooLong)));
        for common in ["password", "PASSWORD", "12345678", "qwerty123", "iloveyou"] {
            assert!(matches!(check_password(common), Err(AuthError::PasswordTooCommon)), "{common}");
        }
        assert!(check_password("correct horse battery staple").is_ok(), "no composition rules");
    }

    #[test]
    fn the_common_password_list_is_lowercase_and_long_enough() {
        let lines: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(lines.len() >= 200, "{}", lines.len());
        assert!(lines.iter().all(|l| *l == l.to_lowercase() && !l.trim().is_empty()));
    }

    #[test]
    fn nicknames_are_one_to_eight_unicode_characters() {
        assert_eq!(normalize_nickname(" 밍기적밍기적밍기 ").ok().as_deref(), Some("밍기적밍기적밍기"));
        assert!(normalize_nickname("🏃").is_ok());
        assert!(matches!(normalize_nickname("   "), Err(AuthError::InvalidNickname)));
        assert!(matches!(normalize_nickname("밍기적밍기적밍기적"), Err(AuthError::InvalidNickname)));
        assert!(matches!(normalize_nickname("a\u{0}b"), Err(AuthError::InvalidNickname)));
    }

    #[test]
    fn a_nickname_is_one_spelling_of_visible_characters() {
        // "밍기" typed as its five jamo is the same nickname as the two syllables, and as short.
        let jamo = "\u{1106}\u{1175}\u{11BC}\u{1100}\u{1175}";
        assert_eq!(normalize_nickname(jamo).ok().as_deref(), Some("밍기"));
        assert_eq!(normalize_nickname(&jamo.repeat(4)).ok().map(|n| n.chars().count()), Some(8));
        assert_eq!(normalize_nickname("밍 기").ok().as_deref(), Some("밍 기"), "a plain space may stay");
        assert!(normalize_nickname("❤\u{FE0F}").is_ok(), "an emoji's presentation selector is not hidden text");
        for look_alike in ["밍기\u{200B}", "\u{3164}", "밍\u{FEFF}기", "밍\u{3000}기", "\u{202E}기밍", "밍\u{E0041}"]
        {
            assert!(matches!(normalize_nickname(look_alike), Err(AuthError::InvalidNickname)), "{look_alike:?}");
        }
    }
}
