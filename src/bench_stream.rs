//! `report bench --stream-build FILES`: the streamed build ([`crate::stream`]) timed stage by
//! stage on existing files, each in its own process so each peak memory is its own, printed with
//! the same table and growth check as the whole-table benchmark ([`crate::bench::format_table`]).

use std::path::Path;
use std::time::Instant;

use crate::bench::{SizeResult, peak_mib};
use crate::pipeline::BuildOptions;
use crate::settings::Settings;
use crate::stream;
use crate::tracking::Tracking;

/// Runs a streamed build of `file` in this process (rendered in memory, nothing written) and
/// returns its stage times, total and peak memory.
pub fn measure(file: &Path, settings: &Settings, chunk_rows: usize) -> Result<SizeResult, String> {
    let out = crate::bench::scratch_dir().join("stream-out");
    let opts = BuildOptions {
        data: file.to_path_buf(),
        out_dir: out,
        readme: None,
        tracking: Tracking::Off,
        settings: settings.clone(),
        stream_above_rows: 0,
        stream_chunk_rows: chunk_rows,
        ..BuildOptions::default()
    };
    let mut stages = Vec::new();
    let t = Instant::now();
    let reason = stream::stream_reason(&opts).ok_or("the file cannot be read")?;
    let (findings, outputs) = stream::render_all_timed(&opts, reason, &mut |_| {}, &mut |n, d| {
        stages.push((n.to_string(), d.as_secs_f64()))
    })
    .map_err(|e| e.to_string())?;
    drop(outputs);
    Ok(SizeResult {
        label: format!("{} (streamed)", findings.dataset.rows),
        rows: findings.dataset.rows,
        stages,
        total: t.elapsed().as_secs_f64(),
        peak_mib: peak_mib(),
        runs: 1,
    })
}

/// Measures each file in a child process of `exe` (`exe bench --stream-child FILE`).
pub fn run(
    exe: &Path,
    files: &[std::path::PathBuf],
    extra_args: &[String],
) -> Result<Vec<SizeResult>, String> {
    files
        .iter()
        .map(|f| {
            let what = format!("streamed benchmark of {}", f.display());
            let args = [std::ffi::OsStr::new("--stream-child"), f.as_os_str()];
            crate::bench::child_json(exe, args, extra_args, &what)
        })
        .collect()
}
