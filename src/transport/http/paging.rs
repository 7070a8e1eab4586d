//! The pages of one fetch joined into one JSON file, and where the next
//! page is: a mapping reads the joined file as it would read one page
//! holding every page's items. Pages that are lists join into one list;
//! pages that are objects with their items at `items` (`data`) give the
//! first page's object with that list holding the items of all pages.
//! One page is held in memory at a time; the joined file is written as
//! it goes, under the channel's byte limit.

use serde_json::Value;

use super::fetch::Sink;

/// What stands for the list of items while the first page is written.
const MARKER: &str = "\u{0}dropgate-items\u{0}";

/// A page that cannot be read or joined.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not JSON.
    #[error(
        "page {url}: not JSON (paging reads JSON pages): line {line}, column {column}: {message}"
    )]
    NotJson {
        /// The page's URL.
        url: String,
        /// Where.
        line: usize,
        /// Where on the line.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// No list where the items are said to be.
    #[error("page {url}: {what}")]
    Shape {
        /// The page's URL.
        url: String,
        /// What is wrong.
        what: String,
    },
    /// The joined file is over the limit.
    #[error("the pages joined are larger than max_bytes ({limit} bytes): refused")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Writing the joined file failed.
    #[error("keeping the joined pages: {0}")]
    Io(#[from] std::io::Error),
}

/// The value at a dotted `path` (`meta.next_cursor`, `data.0.id`): object
/// members by name, list items by number.
pub fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn at_mut<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(m) => m.get_mut(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

/// A value as text for a query parameter or a URL: a string or a number;
/// `None` for null, empty or missing (no next page).
pub fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a page's bytes as JSON.
pub fn parse(url: &str, bytes: &[u8]) -> Result<Value, PageError> {
    serde_json::from_slice(bytes).map_err(|e| PageError::NotJson {
        url: url.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// The joined file being written.
#[derive(Debug)]
pub struct Joiner<'a> {
    items: Option<&'a str>,
    limit: u64,
    written: u64,
    /// What closes the file, once the first page is in.
    suffix: Option<Vec<u8>>,
    any_item: bool,
}

impl<'a> Joiner<'a> {
    /// A joiner of pages whose items are at `items` (the page itself when
    /// `None`), writing at most `limit` bytes.
    pub fn new(items: Option<&'a str>, limit: u64) -> Joiner<'a> {
        Joiner {
            items,
            limit,
            written: 0,
            suffix: None,
            any_item: false,
        }
    }

    async fn put(&mut self, sink: &mut Sink, bytes: &[u8]) -> Result<(), PageError> {
        self.written += bytes.len() as u64;
        if self.written > self.limit {
            return Err(PageError::TooLarge { limit: self.limit });
        }
        sink.write(bytes).await?;
        Ok(())
    }

    /// Adds page `page` (from `url`); returns how many items it had.
    pub async fn page(
        &mut self,
        url: &str,
        mut page: Value,
        sink: &mut Sink,
    ) -> Result<usize, PageError> {
        let shape = |what: String| PageError::Shape {
            url: url.to_string(),
            what,
        };
        let list = match self.items {
            None => &mut page,
            Some(path) => at_mut(&mut page, path)
                .ok_or_else(|| shape(format!("no {path:?} (paging items) in it")))?,
        };
        let Value::Array(items) = std::mem::replace(list, Value::String(MARKER.into())) else {
            return Err(shape(match self.items {
                None => "not a list of items: say where its items are with paging items = \"PATH\""
                    .into(),
                Some(path) => format!("{path:?} (paging items) is not a list"),
            }));
        };
        if self.suffix.is_none() {
            let whole = serde_json::to_vec(&page).map_err(std::io::Error::other)?;
            let marker =
                serde_json::to_vec(&Value::String(MARKER.into())).map_err(std::io::Error::other)?;
            let at = whole
                .windows(marker.len())
                .position(|w| w == marker.as_slice())
                .ok_or_else(|| shape("its items could not be placed".into()))?;
            let mut prefix = whole[..at].to_vec();
            prefix.push(b'[');
            let mut suffix = vec![b']'];
            suffix.extend_from_slice(&whole[at + marker.len()..]);
            self.put(sink, &prefix).await?;
            self.suffix = Some(suffix);
        }
        let count = items.len();
        for item in items {
            let bytes = serde_json::to_vec(&item).map_err(std::io::Error::other)?;
            if self.any_item {
                self.put(sink, b",").await?;
            }
            self.put(sink, &bytes).await?;
            self.any_item = true;
        }
        Ok(count)
    }

    /// Closes the file; returns its size.
    pub async fn finish(mut self, sink: &mut Sink) -> Result<u64, PageError> {
        let suffix = self.suffix.take().unwrap_or_else(|| b"[]".to_vec());
        self.put(sink, &suffix).await?;
        sink.write(b"\n").await?;
        Ok(self.written + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn join(items: Option<&str>, pages: &[&str], limit: u64) -> Result<String, PageError> {
        let mut sink = Sink::Memory(Vec::new());
        let mut j = Joiner::new(items, limit);
        for p in pages {
            j.page("u", parse("u", p.as_bytes())?, &mut sink).await?;
        }
        j.finish(&mut sink).await?;
        let Sink::Memory(bytes) = sink else {
            unreachable!("a memory sink stays one")
        };
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn pages_join_into_one_list_in_the_first_pages_shape() -> Result<(), PageError> {
        assert_eq!(join(None, &["[1,2]", "[3]", "[]"], 100).await?, "[1,2,3]\n");
        assert_eq!(
            join(
                Some("data.items"),
                &[
                    r#"{"as_of":"2024-03-14","data":{"items":[{"sku":"A"}],"next":"x"}}"#,
                    r#"{"as_of":"2024-03-15","data":{"items":[{"sku":"B","qty":1.50}]}}"#
                ],
                1000
            )
            .await?,
            r#"{"as_of":"2024-03-14","data":{"items":[{"sku":"A"},{"sku":"B","qty":1.50}],"next":"x"}}"#
                .to_string()
                + "\n"
        );
        assert!(matches!(
            join(None, &["{\"a\":1}"], 100).await,
            Err(PageError::Shape { .. })
        ));
        assert!(matches!(
            join(None, &["[1,2]", "[3]"], 4).await,
            Err(PageError::TooLarge { limit: 4 })
        ));
        assert!(matches!(
            join(None, &["[1,"], 100).await,
            Err(PageError::NotJson { line: 1, .. })
        ));
        Ok(())
    }

    #[test]
    fn paths_and_cursors() {
        let v: Value =
            serde_json::from_str(r#"{"meta":{"next":"c2","n":7,"e":""},"l":[{"id":3}]}"#)
                .expect("json");
        assert_eq!(text(at(&v, "meta.next")), Some("c2".into()));
        assert_eq!(text(at(&v, "meta.n")), Some("7".into()));
        assert_eq!(text(at(&v, "meta.e")), None);
        assert_eq!(text(at(&v, "l.0.id")), Some("3".into()));
        assert_eq!(text(at(&v, "meta.none")), None);
    }
}
