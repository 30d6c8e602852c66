//! Slugs: the lowercase, hyphenated identifiers in URLs.

/// Longest slug accepted.
pub(crate) const MAX_SLUG_LEN: usize = 120;

/// A slug made from a headline or a name: ASCII letters and digits, lowercased,
/// everything else collapsed into single hyphens. Letters with accents lose
/// them; other scripts are dropped. Empty when nothing usable remains.
pub(crate) fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_owned();
    if slug.len() > MAX_SLUG_LEN - 8 {
        slug.truncate(MAX_SLUG_LEN - 8);
        slug = slug.trim_end_matches('-').to_owned();
    }
    slug
}

/// The unaccented letter for common Latin letters with diacritics.
fn fold_accent(c: char) -> Option<char> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let folded = match lower {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => 'i',
        'ł' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ß' => 's',
        'ť' | 'ţ' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    };
    Some(folded)
}

/// Whether `slug` is acceptable as given by a client.
pub(crate) fn is_valid(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_LEN
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_become_slugs() {
        assert_eq!(
            slugify("The port that froze early"),
            "the-port-that-froze-early"
        );
        assert_eq!(
            slugify("  Opinion: Europe's night trains!  "),
            "opinion-europe-s-night-trains"
        );
        assert_eq!(slugify("Gazeta Wiślana zażółć"), "gazeta-wislana-zazolc");
        assert_eq!(slugify("Ça coûte 2 € — déjà"), "ca-coute-2-deja");
        assert_eq!(slugify("Порт замёрз"), "");
        assert!(slugify(&"word ".repeat(100)).len() <= MAX_SLUG_LEN - 8);
    }

    #[test]
    fn only_clean_slugs_are_valid() {
        assert!(is_valid("energy-2026"));
        for bad in [
            "",
            "Energy",
            "-a",
            "a-",
            "a--b",
            "a b",
            "a/b",
            &"a".repeat(121),
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
