//! Ctrl-C: a command interrupted leaves nothing half-done behind (an export's `.partial` file, the
//! progress line on the terminal) and exits 130, as shells expect of a program ended by SIGINT.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::ProgressBar;

/// Files to remove and the progress bar to clear if the command is interrupted.
static LEFT_BEHIND: Mutex<(Vec<PathBuf>, Option<ProgressBar>)> = Mutex::new((Vec::new(), None));

fn with<T>(f: impl FnOnce(&mut (Vec<PathBuf>, Option<ProgressBar>)) -> T) -> T {
    let mut guard = LEFT_BEHIND.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

/// `path` is removed if the command is interrupted before [`forget`].
pub fn remove_on_interrupt(path: &Path) {
    with(|(paths, _)| paths.push(path.to_owned()));
}

/// `path` is the command's own again (renamed into place, or removed by the command).
pub fn forget(path: &Path) {
    with(|(paths, _)| paths.retain(|p| p != path));
}

/// `bar` is cleared from the terminal if the command is interrupted.
pub fn clear_on_interrupt(bar: &ProgressBar) {
    with(|(_, slot)| *slot = Some(bar.clone()));
}

/// Cleans up after an interrupt.
pub fn clean_up() {
    with(|(paths, bar)| {
        for path in paths.drain(..) {
            let _ = std::fs::remove_file(path);
        }
        if let Some(bar) = bar.take() {
            bar.finish_and_clear();
        }
    });
}
