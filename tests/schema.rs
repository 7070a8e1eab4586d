//! The committed JSON Schema of the canonical model matches the Rust types.
//! When the model changes on purpose, regenerate it with
//! `DROPGATE_BLESS=1 cargo test --test schema`.

#[test]
fn the_committed_schema_is_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/canonical.schema.json");
    let fresh = dropgate::model::schema::json_schema_text();
    if std::env::var_os("DROPGATE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, &fresh).expect("write");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "schema/canonical.schema.json is stale: run DROPGATE_BLESS=1 cargo test --test schema"
    );
}
