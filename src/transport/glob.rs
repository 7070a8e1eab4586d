//! File name patterns: `*` is any run of characters, `?` any one
//! character, everything else itself (case-sensitive). Several patterns
//! may be given; a name matches when one of them does.

/// True when `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matching with one backtrack point for the last `*`:
    // linear in practice, never exponential.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// True when `name` matches one of `patterns` (no pattern: every name).
pub fn matches_any(patterns: &[String], name: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| matches(p, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*.edi", "po.edi"));
        assert!(matches("*.edi", ".edi"));
        assert!(!matches("*.edi", "po.edi.part"));
        assert!(matches("stock-????????.csv", "stock-20240314.csv"));
        assert!(!matches("stock-????????.csv", "stock-2024031.csv"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXXbYYbZc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("*ü*", "Grüße"));
        assert!(matches_any(&[], "x"));
        assert!(matches_any(&["*.csv".into(), "*.edi".into()], "a.edi"));
        // Many stars do not blow up.
        assert!(!matches(&"*a".repeat(30), &"a".repeat(29)));
    }
}
