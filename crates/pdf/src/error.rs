//! The crate's error type, [`PdfError`]: every fallible call returns it, so
//! callers never see a panic for bad input (non-finite numbers, unknown pages).

/// Everything that can go wrong while building or saving a document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// One of the fonts compiled into the crate could not be parsed (a build
    /// problem, not an input problem).
    #[error("embedded font {0} could not be parsed")]
    Font(&'static str),
    /// A [`PageId`](crate::PageId) that does not belong to this document.
    #[error("page {index} does not exist (the document has {count} pages)")]
    NoSuchPage {
        /// The index that was asked for.
        index: usize,
        /// How many pages the document has.
        count: usize,
    },
    /// A coordinate, size or width that is NaN, infinite, or (for sizes and
    /// widths) not strictly positive.
    #[error("invalid {what}: {value}")]
    InvalidNumber {
        /// Which argument was wrong.
        what: &'static str,
        /// The value given.
        value: f32,
    },
    /// `save` was called on a document without pages.
    #[error("the document has no pages")]
    NoPages,
    /// printpdf reported an error while writing the file.
    #[error("PDF serialization failed: {0}")]
    Serialize(String),
}
