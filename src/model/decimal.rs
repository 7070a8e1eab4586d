//! Exact decimal numbers for money and quantities.
//!
//! A [`Decimal`] is a `rust_decimal::Decimal` that travels in JSON as a
//! number written digit for digit (`19.99`, never `19.989999999999998`): the
//! crate enables serde_json's `arbitrary_precision`, so no binary float ever
//! holds the value on its way in or out. Strings such as `"19.99"` are
//! accepted on input too, because some producers quote their numbers.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact decimal number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(pub rust_decimal::Decimal);

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal(rust_decimal::Decimal::ZERO);

    /// The value inside.
    pub fn get(self) -> rust_decimal::Decimal {
        self.0
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(d: rust_decimal::Decimal) -> Decimal {
        Decimal(d)
    }
}

impl From<i64> for Decimal {
    fn from(n: i64) -> Decimal {
        Decimal(rust_decimal::Decimal::from(n))
    }
}

impl FromStr for Decimal {
    type Err = rust_decimal::Error;

    /// Parses plain decimal notation (`-12.50`); exponents are refused, so
    /// that a value is always written as it was read.
    fn from_str(s: &str) -> Result<Decimal, Self::Err> {
        rust_decimal::Decimal::from_str_exact(s).map(Decimal)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // With `arbitrary_precision`, a serde_json Number holds its digits as
        // text and writes them unchanged.
        match serde_json::Number::from_str(&self.0.to_string()) {
            Ok(n) => n.serialize(serializer),
            Err(_) => serializer.serialize_str(&self.0.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

struct DecimalVisitor;

/// The key under which serde_json hands over an arbitrary-precision number.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal(rust_decimal::Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        // Only reached from formats other than JSON; the shortest text that
        // reads back as `v` is the value meant.
        Decimal::from_str(&v.to_string()).map_err(|_| E::custom(format!("{v} is not a decimal")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse(v)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == NUMBER_TOKEN => {
                let digits: String = map.next_value()?;
                parse(&digits)
            }
            _ => Err(de::Error::custom("expected a decimal number")),
        }
    }
}

fn parse<E: de::Error>(text: &str) -> Result<Decimal, E> {
    let plain = Decimal::from_str(text);
    // JSON allows exponents (1e3); they are read exactly, then kept plain.
    let value = plain.or_else(|_| rust_decimal::Decimal::from_scientific(text).map(Decimal));
    value.map_err(|_| E::custom(format!("{text:?} is not a decimal number")))
}

impl schemars::JsonSchema for Decimal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Decimal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "description": "An exact decimal number, written in JSON digit for digit (no binary floating point)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_keep_their_digits() {
        for text in [
            "19.99",
            "0.10",
            "-5",
            "123456789012345678.123456789",
            "45.98",
        ] {
            let d: Decimal = serde_json::from_str(text).expect("number");
            assert_eq!(d.to_string(), text);
            assert_eq!(serde_json::to_string(&d).expect("json"), text);
        }
    }

    #[test]
    fn strings_and_exponents_are_read() {
        let d: Decimal = serde_json::from_str("\"19.99\"").expect("string");
        assert_eq!(d.to_string(), "19.99");
        let d: Decimal = serde_json::from_str("1.5e2").expect("exponent");
        assert_eq!(d, Decimal::from(150));
        assert!(serde_json::from_str::<Decimal>("\"abc\"").is_err());
    }

    #[test]
    fn values_survive_a_serde_json_value() {
        let v: serde_json::Value = serde_json::from_str("{\"a\": 0.30}").expect("json");
        let d: Decimal = serde_json::from_value(v["a"].clone()).expect("decimal");
        assert_eq!(d.to_string(), "0.30");
    }
}
