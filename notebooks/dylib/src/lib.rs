//! customer-intel for the notebooks, compiled as one Rust `dylib`.
//!
//! evcxr compiles every notebook cell into a small shared object. Linked against the library's
//! static archives, each cell made the linker read about 300 of them, 1 GB (polars, linfa, smartcore,
//! plotters …): about 3.5 s of CPU per cell. Linked against this one shared object, the same cell
//! compiles and links in 0.8 s of CPU. The crate adds nothing: it re-exports every public item of
//! `customer_intel`, and the notebooks load it under that name, so cells read exactly like code
//! written against the library itself.
pub use customer_intel::*;
