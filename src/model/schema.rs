//! The JSON Schema of the canonical model, and the shape of each document
//! type as the mapping compiler sees it (field names, types, which are
//! required). Both come from the Rust types, so they cannot drift apart.

use serde_json::Value;

use super::DocumentType;

/// The JSON Schema of [`super::Document`], as committed in
/// `schema/canonical.schema.json`.
pub fn json_schema() -> Value {
    schemars::schema_for!(super::Document).to_value()
}

/// The JSON Schema, pretty-printed with a final newline: the exact text of
/// `schema/canonical.schema.json`.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The type of a value in a canonical document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A string.
    Text,
    /// An exact decimal number.
    Decimal,
    /// A whole number.
    Integer,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// `true` or `false`.
    Bool,
    /// One of a closed list of strings.
    Enum(Vec<String>),
    /// An object with named fields, in the order of the model.
    Object(Vec<Field>),
    /// A list of values of one shape.
    List(Box<Shape>),
}

/// A field of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name in JSON.
    pub name: String,
    /// Its type.
    pub shape: Shape,
    /// It must have a value.
    pub required: bool,
    /// What it means, from the model's doc comment.
    pub description: String,
}

impl Shape {
    /// The shape of a document type, without its `type` and `source`
    /// fields (dropgate writes those, not mappings). Worked out from the
    /// JSON Schema once per run.
    pub fn of(document: DocumentType) -> &'static Shape {
        static SHAPES: std::sync::OnceLock<Vec<(DocumentType, Shape)>> = std::sync::OnceLock::new();
        const EMPTY: &Shape = &Shape::Object(Vec::new());
        SHAPES
            .get_or_init(|| {
                DocumentType::ALL
                    .iter()
                    .map(|&d| (d, Shape::compute(d)))
                    .collect()
            })
            .iter()
            .find(|(d, _)| *d == document)
            .map_or(EMPTY, |(_, s)| s)
    }

    fn compute(document: DocumentType) -> Shape {
        let schema = json_schema();
        let variant = schema["oneOf"].as_array().and_then(|variants| {
            variants
                .iter()
                .find(|v| v["properties"]["type"]["const"] == document.name())
        });
        let Some(variant) = variant else {
            return Shape::Object(Vec::new());
        };
        match shape_of(&schema, variant) {
            Shape::Object(fields) => Shape::Object(
                fields
                    .into_iter()
                    .filter(|f| f.name != "type" && f.name != "source")
                    .collect(),
            ),
            other => other,
        }
    }

    /// The field `name` of an object shape.
    pub fn field(&self, name: &str) -> Option<&Field> {
        match self {
            Shape::Object(fields) => fields.iter().find(|f| f.name == name),
            _ => None,
        }
    }

    /// A short name for messages: `text`, `decimal`, `list of object`, ...
    pub fn describe(&self) -> String {
        match self {
            Shape::Text => "text".into(),
            Shape::Decimal => "decimal".into(),
            Shape::Integer => "integer".into(),
            Shape::Date => "date".into(),
            Shape::Bool => "boolean".into(),
            Shape::Enum(values) => format!("one of {}", values.join(", ")),
            Shape::Object(_) => "object".into(),
            Shape::List(item) => format!("list of {}", item.describe()),
        }
    }
}

/// Follows `$ref`s into `$defs`.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    for _ in 0..16 {
        let Some(reference) = node["$ref"].as_str() else {
            break;
        };
        let name = reference.trim_start_matches("#/$defs/");
        node = &root["$defs"][name];
    }
    node
}

fn shape_of(root: &Value, node: &Value) -> Shape {
    let node = resolve(root, node);
    // Option<T> is `anyOf: [T, null]` or `type: [t, "null"]`.
    if let Some(options) = node["anyOf"].as_array()
        && let Some(inner) = options.iter().find(|o| o["type"] != "null")
    {
        return shape_of(root, inner);
    }
    if let Some(variants) = node["oneOf"].as_array() {
        let values: Vec<String> = variants
            .iter()
            .filter_map(|v| v["const"].as_str().map(String::from))
            .collect();
        if values.len() == variants.len() {
            return Shape::Enum(values);
        }
    }
    if let Some(values) = node["enum"].as_array() {
        return Shape::Enum(
            values
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        );
    }
    let ty = match &node["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => "",
    };
    match ty {
        "string" if node["format"] == "date" => Shape::Date,
        "string" => Shape::Text,
        "number" => Shape::Decimal,
        "integer" => Shape::Integer,
        "boolean" => Shape::Bool,
        "array" => Shape::List(Box::new(shape_of(root, &node["items"]))),
        "object" => {
            let required: Vec<&str> = node["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields = node["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .map(|(name, field)| Field {
                            name: name.clone(),
                            shape: shape_of(root, field),
                            required: required.contains(&name.as_str()),
                            description: field["description"]
                                .as_str()
                                .or_else(|| resolve(root, field)["description"].as_str())
                                .unwrap_or("")
                                .to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Shape::Object(fields)
        }
        _ => Shape::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_types() {
        let po = Shape::of(DocumentType::PurchaseOrder);
        let number = po.field("po_number").expect("po_number");
        assert!(number.required);
        assert_eq!(number.shape, Shape::Text);
        assert!(po.field("source").is_none() && po.field("type").is_none());
        assert_eq!(po.field("po_date").expect("date").shape, Shape::Date);
        assert!(!po.field("po_date").expect("date").required);
        let Shape::Enum(purposes) = &po.field("purpose").expect("purpose").shape else {
            panic!("purpose is an enum");
        };
        assert!(purposes.contains(&"cancel".to_string()));
        let Shape::List(line) = &po.field("lines").expect("lines").shape else {
            panic!("lines is a list");
        };
        assert_eq!(line.field("quantity").expect("qty").shape, Shape::Decimal);
        assert_eq!(
            po.field("ship_to")
                .and_then(|f| f.shape.field("postal_code"))
                .map(|f| &f.shape),
            Some(&Shape::Text)
        );
        let invoice = Shape::of(DocumentType::Invoice);
        let terms = invoice.field("terms").expect("terms");
        assert_eq!(
            terms.shape.field("net_days").map(|f| &f.shape),
            Some(&Shape::Integer)
        );
        // Field order is the model's.
        let Shape::Object(fields) = &po else { panic!() };
        assert_eq!(fields[0].name, "po_number");
        assert_eq!(fields.last().map(|f| f.name.as_str()), Some("total_amount"));
    }
}
