//! "Did you mean …?": the closest known word to a misspelt one.

use crate::grammar::keywords::{Keyword, all_tables};

/// Levenshtein distance between two words.
pub fn distance(a: &str, b: &str) -> usize {
    distance_by(a, b, |x, y| x == y)
}

/// Levenshtein distance with `same` deciding which characters match; two rows, reused.
fn distance_by(a: &str, b: &str, same: impl Fn(char, char) -> bool) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = Vec::with_capacity(b.len() + 1);
    for (i, ca) in a.chars().enumerate() {
        current.clear();
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(!same(ca, *cb));
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `word`, if close enough to be a plausible typo (or the same word
/// in another case).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = word.chars().count();
    candidates
        .into_iter()
        .filter(|c| !c.is_empty())
        .filter_map(|c| {
            let allowed = (c.len() / 4).clamp(1, 3);
            // The distance is at least the difference in length: most candidates end here,
            // which matters when a file holds thousands of unknown words.
            if length.abs_diff(c.chars().count()) > allowed {
                return None;
            }
            let d = if c.eq_ignore_ascii_case(word) {
                0
            } else {
                distance_by(word, c, |x, y| x.eq_ignore_ascii_case(&y))
            };
            (d <= allowed).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Known words (keepalived's or other implementations') that are not keepalived 2.2.7 keywords,
/// and what to say about them.
const FOREIGN: &[(&str, &str)] = &[
    (
        "nat_mask",
        "`nat_mask` is not a keepalived 2.2.7 keyword (it was removed long ago); delete it",
    ),
    (
        "lvs_id",
        "`lvs_id` is not a keepalived 2.2.7 keyword; use `router_id`",
    ),
    (
        "local_address_group",
        "`local_address_group` belongs to the Alibaba LVS fork (FNAT); keepalived 2.2.7 ignores it",
    ),
    (
        "laddr_group_name",
        "`laddr_group_name` belongs to the Alibaba LVS fork (FNAT); keepalived 2.2.7 ignores it",
    ),
    (
        "syn_proxy",
        "`syn_proxy` belongs to the Alibaba LVS fork; keepalived 2.2.7 ignores it",
    ),
];

/// A hint for an unknown keyword in `table`: a near miss in the same block, a keyword that
/// belongs to another block, or a known foreign keyword.
pub fn for_unknown_keyword(word: &str, table: &[Keyword]) -> Option<String> {
    if let Some((_, text)) = FOREIGN.iter().find(|(k, _)| *k == word) {
        return Some((*text).to_owned());
    }
    if word == "nb_get_retry" {
        return Some(
            "`nb_get_retry` is only accepted in HTTP_GET/SSL_GET (deprecated there); use `retry`"
                .to_owned(),
        );
    }
    if word == "{" || word == "}" {
        return None;
    }
    if let Some(near) = closest(word, table.iter().map(|k| k.name)) {
        return Some(format!("did you mean `{near}`?"));
    }
    let elsewhere: Vec<&str> = all_tables()
        .into_iter()
        .filter(|(_, t)| t.iter().any(|k| k.name == word))
        .map(|(block, _)| block)
        .collect();
    if !elsewhere.is_empty() {
        return Some(format!(
            "`{word}` is a keyword of {}, not of this block",
            elsewhere.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_found() {
        assert_eq!(closest("lb_algp", ["lb_algo", "lb_kind"]), Some("lb_algo"));
        assert_eq!(
            closest("VRRP_INSTANCE", ["vrrp_instance"]),
            Some("vrrp_instance")
        );
        assert_eq!(closest("zzzzzz", ["lb_algo"]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(closest("LB_ALGP", ["lb_kind", "lb_algo"]), Some("lb_algo"));
        assert_eq!(closest("", ["a"]), Some("a"));
        assert_eq!(closest("ab", ["abcdef"]), None);
    }
}
