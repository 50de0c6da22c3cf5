//! Synthetic tables larger than memory: [`write_synth_streamed`] draws and writes a table a block
//! of rows at a time (CSV text, or Parquet row groups through polars' batched writer), so ten or a
//! hundred million customers never sit in memory at once.

use std::io::Write;
use std::path::Path;

use polars::prelude::ParquetWriter;

use super::parquet::parquet_frame;
use super::schema::Roles;
use super::synth::{SynthSpec, csv_text, synth_with_roles_unhashed};
use crate::output::AtomicFile;
use crate::rng;

/// Rows drawn at a time by [`write_synth_streamed`]; a table of at most this many rows is the
/// same as [`super::synth`]'s.
pub const SYNTH_BLOCK_ROWS: usize = 1_000_000;

/// Rows per Parquet row group (the streamed build's default chunk size).
const ROW_GROUP_ROWS: usize = crate::stream::DEFAULT_CHUNK_ROWS;

/// Writes `rows` synthetic customers to `path` (CSV, or Parquet when `parquet`) a block of
/// [`SYNTH_BLOCK_ROWS`] at a time, atomically (an error leaves no partial file).
///
/// Block `b` is [`super::synth_with_roles`] of its size with seed `rng::child_seed(seed, b)` and
/// ids numbered on from the previous block, so duplicates (`spec.duplicate_rate`) copy rows of
/// their own block. A table of at most one block is exactly `synth(rows, seed, spec)`.
pub fn write_synth_streamed(
    rows: usize,
    seed: u64,
    spec: &SynthSpec,
    roles: &Roles,
    path: &Path,
    parquet: bool,
) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    let blocks = rows.div_ceil(SYNTH_BLOCK_ROWS).max(1);
    let block = |b: usize| {
        let offset = b * SYNTH_BLOCK_ROWS;
        let n = SYNTH_BLOCK_ROWS.min(rows - offset);
        let block_seed = if blocks == 1 {
            seed
        } else {
            rng::child_seed(seed, b as u64)
        };
        let mut ds = synth_with_roles_unhashed(n, block_seed, spec, roles);
        ds.ids = (offset + 1..=offset + n).map(|i| i.to_string()).collect();
        ds
    };
    if parquet {
        let mut writer = None;
        for b in 0..blocks {
            let ds = block(b);
            let n = ds.n_rows();
            let frame = parquet_frame(&ds).map_err(std::io::Error::other)?;
            drop(ds);
            if writer.is_none() {
                writer = Some(
                    ParquetWriter::new(&mut file)
                        .batched(frame.schema())
                        .map_err(std::io::Error::other)?,
                );
            }
            if let Some(w) = writer.as_mut() {
                // One row group per slice: a chunked reader decodes only the groups it needs.
                for start in (0..n).step_by(ROW_GROUP_ROWS) {
                    let part = frame.slice(start as i64, ROW_GROUP_ROWS.min(n - start));
                    w.write_batch(&part).map_err(std::io::Error::other)?;
                }
            }
        }
        if let Some(w) = writer {
            w.finish().map_err(std::io::Error::other)?;
        }
    } else {
        for b in 0..blocks {
            let text = csv_text(&block(b));
            let body = if b == 0 {
                text.as_str()
            } else {
                text.split_once('\n').map_or("", |(_, rest)| rest)
            };
            file.write_all(body.as_bytes())?;
        }
    }
    file.commit()
}
