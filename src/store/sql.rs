//! Literal LIKE patterns.

/// A LIKE pattern that matches `text` literally (`%`, `_` and `\` escaped with `\`).
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_literal("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(like_literal("4512"), "4512");
    }
}
