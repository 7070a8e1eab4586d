//! `amount`: money as invoices print it, read exactly: a currency symbol
//! or code before or after (`$`, `€`, `USD`), thousands separators, a
//! decimal point or comma, and a negative amount written `-12.50`,
//! `12.50-`, `(12.50)` or `(-) 12.50`. Which mark is the decimal one is
//! the [`Marks`] of the document: given by a template, or found from the
//! document's own amounts ([`Marks::detect`]).

use rust_decimal::Decimal;

/// A document's decimal mark and thousands separator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marks {
    /// The decimal mark: `.` or `,`.
    pub decimal: char,
}

impl Default for Marks {
    fn default() -> Self {
        Marks { decimal: '.' }
    }
}

/// Currency signs and codes taken off an amount.
const CURRENCIES: &[&str] = &[
    "USD", "EUR", "GBP", "CAD", "AUD", "CHF", "MXN", "US$", "C$", "A$", "$", "€", "£", "¥", "Fr.",
];

impl Marks {
    /// The marks most of `texts` (a document's words) are written with:
    /// a comma is the decimal mark when more amounts end in a comma and
    /// two digits (`1.234,56`, `12,50`) than in a point and two digits.
    pub fn detect<'a>(texts: impl IntoIterator<Item = &'a str>) -> Marks {
        let (mut comma, mut point) = (0, 0);
        for t in texts {
            let t = t.trim_end_matches(|c: char| !c.is_ascii_digit());
            let b = t.as_bytes();
            if b.len() >= 4 && b[b.len() - 2..].iter().all(u8::is_ascii_digit) {
                match b[b.len() - 3] {
                    b',' if b[b.len() - 4].is_ascii_digit() => comma += 1,
                    b'.' if b[b.len() - 4].is_ascii_digit() => point += 1,
                    _ => {}
                }
            }
        }
        Marks {
            decimal: if comma > point { ',' } else { '.' },
        }
    }

    /// The thousands separators that go with the decimal mark.
    fn thousands(self) -> &'static [char] {
        match self.decimal {
            ',' => &['.', ' ', '\u{a0}', '\u{202f}', '\''],
            _ => &[',', ' ', '\u{a0}', '\u{202f}', '\''],
        }
    }

    /// Reads an amount; `None` when `text` is not one.
    pub fn amount(self, text: &str) -> Option<Decimal> {
        let mut t = text.trim();
        let mut negative = false;
        if let Some(rest) = t.strip_prefix("(-)") {
            negative = true;
            t = rest.trim_start();
        }
        if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            negative = true;
            t = inner.trim();
        }
        for _ in 0..2 {
            for c in CURRENCIES {
                if let Some(rest) = t.strip_prefix(c) {
                    t = rest.trim_start();
                }
                if let Some(rest) = t.strip_suffix(c) {
                    t = rest.trim_end();
                }
            }
            if let Some(rest) = t.strip_prefix('-') {
                negative = !negative;
                t = rest.trim_start();
            } else if let Some(rest) = t.strip_suffix('-') {
                negative = !negative;
                t = rest.trim_end();
            }
        }
        if t.is_empty() || !t.starts_with(|c: char| c.is_ascii_digit() || c == self.decimal) {
            return None;
        }
        let mut plain = String::with_capacity(t.len());
        let mut seen_mark = false;
        // Digits since the last thousands separator (none yet: `None`):
        // each group after one has three.
        let mut group: Option<usize> = None;
        for c in t.chars() {
            if c.is_ascii_digit() {
                plain.push(c);
                group = group.map(|n| n + 1);
            } else if c == self.decimal && !seen_mark {
                if group.is_some_and(|n| n != 3) {
                    return None;
                }
                seen_mark = true;
                group = None;
                plain.push('.');
            } else if self.thousands().contains(&c) && !seen_mark {
                if group.is_some_and(|n| n != 3) {
                    return None;
                }
                group = Some(0);
            } else {
                return None;
            }
        }
        if group.is_some_and(|n| n != 3) {
            return None;
        }
        let value = Decimal::from_str_exact(&plain).ok()?;
        Some(if negative { -value } else { value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    #[test]
    fn amounts_as_invoices_print_them() {
        let us = Marks::default();
        for (text, value) in [
            ("1,234.56", "1234.56"),
            ("$1,234.56", "1234.56"),
            ("$ 902.50", "902.50"),
            ("USD 12.00", "12.00"),
            ("(12.50)", "-12.50"),
            ("($12.50)", "-12.50"),
            ("-$3.00", "-3.00"),
            ("12.50-", "-12.50"),
            ("(-) 45.50", "-45.50"),
            ("36", "36"),
            ("36.00", "36.00"),
            ("1 234.56", "1234.56"),
        ] {
            assert_eq!(us.amount(text), Some(d(value)), "{text}");
        }
        let eu = Marks { decimal: ',' };
        for (text, value) in [
            ("1.234,56", "1234.56"),
            ("1.234,56 €", "1234.56"),
            ("€ 12,50", "12.50"),
            ("1\u{202f}234,56\u{a0}€", "1234.56"),
            ("(1.000,00)", "-1000.00"),
            ("7", "7"),
        ] {
            assert_eq!(eu.amount(text), Some(d(value)), "{text}");
        }
        for text in ["", "N/A", "Net 45", "12.34.56", "1,2,3.4.5x", "$", "()"] {
            assert_eq!(us.amount(text), None, "{text}");
        }
        assert_eq!(
            eu.amount("1.234.56"),
            None,
            "a point after the comma's place"
        );
    }

    #[test]
    fn the_marks_are_found_from_the_amounts() {
        assert_eq!(
            Marks::detect(["1.234,56", "12,50", "Total", "3"]).decimal,
            ','
        );
        assert_eq!(Marks::detect(["1,234.56", "12.50", "2026"]).decimal, '.');
        assert_eq!(Marks::detect(["15.11.2026", "12,50 €"]).decimal, ',');
        assert_eq!(Marks::detect(["11/15/2026"]).decimal, '.', "none: a point");
    }
}
