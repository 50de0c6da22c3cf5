//! Files the build produces, held in memory first: `report build` writes them atomically
//! (temporary file, then rename) and `report check` compares them with what is on disk.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A set of output files, path → bytes, in a stable order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outputs {
    /// The files, keyed by path.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl Outputs {
    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    /// Writes every file atomically, creating parent folders. Unchanged files are not rewritten.
    pub fn write(&self) -> std::io::Result<()> {
        for (path, bytes) in &self.files {
            if std::fs::read(path).ok().as_deref() == Some(bytes.as_slice()) {
                continue;
            }
            write_atomic(path, bytes)?;
        }
        Ok(())
    }

    /// Removes the temporary files (`.NAME.tmp-PID`, see [`AtomicFile`]) that an interrupted
    /// writer (killed before it could clean up) left beside any file of this set. Call it while
    /// holding the folder's [`OutputLock`], when no other build can be writing them.
    pub fn remove_stale_temporaries(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        let mut dirs: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        for path in self.files.keys() {
            if let Some(name) = path.file_name() {
                dirs.entry(parent_dir(path))
                    .or_default()
                    .push(format!(".{}.tmp-", name.to_string_lossy()));
            }
        }
        for (dir, prefixes) in dirs {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let stale = prefixes.iter().any(|p| {
                    name.strip_prefix(p.as_str()).is_some_and(|pid| {
                        !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
                    })
                });
                if stale {
                    match std::fs::remove_file(entry.path()) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(removed)
    }

    /// The files whose content on disk differs from (or is missing compared with) this set.
    pub fn stale(&self) -> Vec<PathBuf> {
        self.files
            .iter()
            .filter(|(p, b)| std::fs::read(p).ok().as_deref() != Some(b.as_slice()))
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// The folder a path's file lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An exclusive lock on an output folder (an advisory `flock` on the folder itself), held by a
/// build while it writes there: two builds into one folder take turns, so the folder never
/// holds files of both. Released when dropped (or when the process dies).
#[derive(Debug)]
pub struct OutputLock {
    _dir: std::fs::File,
}

impl OutputLock {
    /// Locks `dir` (creating it), calling `waiting` once if another process holds the lock and
    /// then waiting for it.
    pub fn acquire(dir: &Path, waiting: &mut dyn FnMut(&str)) -> std::io::Result<OutputLock> {
        std::fs::create_dir_all(dir)?;
        let file = std::fs::File::open(dir)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting("waiting for another build writing to the same output folder");
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        Ok(OutputLock { _dir: file })
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a reader
/// (or a crash) never sees a half-written file and an existing file survives a failed write.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// A file written in pieces (streaming) that replaces `path` only when committed: it is written
/// to a temporary file in the same folder, renamed onto `path` by [`AtomicFile::commit`], and
/// removed if dropped uncommitted (an error midway leaves the old file untouched).
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<std::io::BufWriter<std::fs::File>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file (and the parent folders of `path`).
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = std::fs::File::create(&tmp)?;
        Ok(AtomicFile {
            file: Some(std::io::BufWriter::with_capacity(1 << 16, file)),
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Flushes, syncs and renames the temporary file onto the target path.
    pub fn commit(mut self) -> std::io::Result<()> {
        let file = self.file.take().expect("not yet committed");
        let result = (|| {
            let f = file.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.as_mut().expect("not yet committed").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().expect("not yet committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_stale_then_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Outputs::default();
        let a = dir.path().join("sub/a.txt");
        out.insert(a.clone(), "one");
        assert_eq!(out.stale(), vec![a.clone()]);
        out.write().unwrap();
        assert!(out.stale().is_empty());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "one");
        std::fs::write(&a, "changed").unwrap();
        assert_eq!(out.stale(), vec![a]);
    }

    #[test]
    fn failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.txt");
        std::fs::write(&target, "old").unwrap();
        // Renaming a file onto a non-empty directory fails: the old content must survive
        // and no temporary file may remain.
        let blocker = dir.path().join("d");
        std::fs::create_dir(&blocker).unwrap();
        std::fs::write(blocker.join("x"), "x").unwrap();
        assert!(write_atomic(&blocker, b"new").is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
