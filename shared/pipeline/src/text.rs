//! A document's text as stored: pages joined by a page break, within the size a document item can hold, and the
//! entity summary (types and counts, never values).

use std::collections::BTreeMap;
use std::fmt;

use medvault_phi::Transformed;

/// Between two pages: a line break and a form feed, as `pdftotext` separates pages, so a reader can split the
/// text back into pages and PHI detection still sees a line break.
pub const PAGE_BREAK: &str = "\n\u{c}";

/// One page's text (PHI: its `Debug` shows only its size).
#[derive(Clone, PartialEq, Eq)]
pub struct PageText {
    /// 1-based page number.
    pub page: u32,
    pub text: String,
}

impl fmt::Debug for PageText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageText").field("page", &self.page).field("chars", &self.text.chars().count()).finish()
    }
}

/// The pages' text in page order, joined by [`PAGE_BREAK`].
pub fn join_pages(mut pages: Vec<PageText>) -> String {
    pages.sort_by_key(|p| p.page);
    pages.iter().map(|p| p.text.trim_end()).collect::<Vec<_>>().join(PAGE_BREAK)
}

/// The text is larger than a document item can hold next to its de-identified form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the extracted text is {bytes} bytes; a document holds at most {limit}")]
pub struct TooLarge {
    pub bytes: usize,
    pub limit: usize,
}

/// Checks the text against the configured limit (DynamoDB items are at most 400 KB, and the de-identified text
/// and the sealing overhead live in the same item).
pub fn check_size(text: &str, limit: usize) -> Result<(), TooLarge> {
    if text.len() > limit {
        return Err(TooLarge { bytes: text.len(), limit });
    }
    Ok(())
}

/// Entity type -> count: what was found, without a single value.
pub fn entity_summary(items: &[Transformed]) -> BTreeMap<String, u64> {
    let mut summary = BTreeMap::new();
    for item in items {
        *summary.entry(item.entity_type.as_str().to_owned()).or_insert(0) += 1;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_joined_in_page_order_and_split_back_on_the_form_feed() {
        let pages =
            vec![PageText { page: 2, text: "second page\n".into() }, PageText { page: 1, text: "first page".into() }];

        let text = join_pages(pages);

        assert_eq!(text, "first page\n\u{c}second page");
        let split: Vec<&str> = text.split('\u{c}').map(str::trim).collect();
        assert_eq!(split, ["first page", "second page"]);
    }

    #[test]
    fn the_summary_counts_types_and_holds_no_value() {
        let analyzer = medvault_phi::Analyzer::new().unwrap();
        let text = "Patient: Jane Roe, DOB 03/14/1961, seen by Dr. Alan Smith.";
        let output = medvault_phi::deidentify(&analyzer, text, &medvault_phi::AnalyzeOptions::default()).unwrap();

        let summary = entity_summary(&output.items);

        assert_eq!(summary.get("PERSON"), Some(&2));
        assert_eq!(summary.get("DATE"), Some(&1));
        let json = serde_json::to_string(&summary).unwrap();
        assert!(!json.contains("Roe") && !json.contains("1961"), "{json}");
    }

    #[test]
    fn text_over_the_limit_is_refused_with_both_sizes() {
        assert_eq!(check_size("abcd", 3), Err(TooLarge { bytes: 4, limit: 3 }));
        assert!(check_size("abc", 3).is_ok());
    }
}
