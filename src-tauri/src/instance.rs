//! One app per data folder. Two processes on one folder would each hold the device's documents in
//! memory and write the same SQLite files behind each other's back; and since the app keeps running
//! without its window while a reminder is set (`background.rs`), launching it again is the usual
//! way back to it. So the first process locks `app.lock` in the data folder for as long as it
//! runs and listens on a loopback port written in `app.instance` with a random token; a second
//! launch finds the lock taken, hands the token to the first (which shows its window) and exits.
//!
//! The lock is the operating system's (`File::try_lock`): it goes with the process, so a crash
//! never leaves a stale lock behind. Keyed by the data folder, not the app's identifier, so that
//! two folders (a second profile, each end-to-end test) run side by side.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a second launch tries to reach the first (it may be starting, or quitting).
const FIND_THE_FIRST_WITHIN: Duration = Duration::from_secs(5);
/// How long either side waits for the other's bytes.
const READ_WITHIN: Duration = Duration::from_secs(2);
/// The holder's answer to the right token.
const HEARD: &[u8] = b"ok";

/// What [`claim`] found.
pub enum Claim {
    /// This process is the folder's app: keep the guard for as long as it runs.
    First(Guard),
    /// Another process is; it was asked to show its window (when asked to ask).
    Other,
}

/// Holds the folder's lock (released when the process ends).
pub struct Guard {
    _lock: Option<File>,
}

fn lock_path(dir: &Path) -> PathBuf {
    dir.join("app.lock")
}

fn address_path(dir: &Path) -> PathBuf {
    dir.join("app.instance")
}

/// Claims `dir` for this process, or hands over to the process that holds it. `show` runs on a
/// thread of its own each time a later launch asks for the window, and answers whether it could
/// (not while the app quits: the later launch then waits for the lock instead of giving way). A
/// holder that cannot be reached (starting, or quitting) is tried again, and so is the lock, until
/// [`FIND_THE_FIRST_WITHIN`]: an app that just quit leaves the folder to this one. Its error names
/// which failed: the folder could not be opened, or its holder does not answer. Without `ask`,
/// a folder held is left to its holder at once (an app started at login asks for no window).
pub fn claim(dir: &Path, ask: bool, show: impl Fn() -> bool + Send + 'static) -> std::io::Result<Claim> {
    let file = std::fs::create_dir_all(dir)
        .and_then(|()| OpenOptions::new().create(true).truncate(false).write(true).open(lock_path(dir)))
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot open the data folder {}: {e}", dir.display())))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => {
                if let Err(e) = listen(dir, show) {
                    // The app runs all the same; a later launch then fails to reach it (an error).
                    tracing::warn!(error = %e, "cannot listen for later launches");
                }
                return Ok(Claim::First(Guard { _lock: Some(file) }));
            }
            Err(TryLockError::WouldBlock) if !ask => return Ok(Claim::Other),
            Err(TryLockError::WouldBlock) => match hand_over(dir) {
                Ok(()) => return Ok(Claim::Other),
                Err(e) if started.elapsed() >= FIND_THE_FIRST_WITHIN => {
                    let said = format!("another Mingizuk holds the data folder but does not answer: {e}");
                    return Err(std::io::Error::new(e.kind(), said));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            },
            // A file system without locks (some network shares): run all the same, as before.
            Err(TryLockError::Error(e)) => {
                tracing::warn!(error = %e, "cannot lock the data folder; another launch may open it too");
                return Ok(Claim::First(Guard { _lock: None }));
            }
        }
    }
}

/// Listens for later launches, for as long as the process runs.
fn listen(dir: &Path, show: impl Fn() -> bool + Send + 'static) -> std::io::Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let port = listener.local_addr()?.port();
    crate::files::write_json(&address_path(dir), &(port, &token)).map_err(|e| std::io::Error::other(e.message))?;
    std::thread::Builder::new().name("mingizuk-instance".into()).spawn(move || {
        for stream in listener.incoming() {
            match stream.and_then(|mut s| Ok((read_token(&mut s, token.len())?, s))) {
                Ok((given, mut caller)) if given == token => {
                    // The caller exits only once heard: a stale address, or an app on its way
                    // out, must not send it away.
                    if show() {
                        let _ = caller.write_all(HEARD);
                    }
                }
                Ok(_) => tracing::warn!("a launch gave a wrong token; ignored"),
                Err(e) => tracing::debug!(error = %e, "a launch's call failed"),
            }
        }
    })?;
    Ok(())
}

fn read_token(stream: &mut TcpStream, len: usize) -> std::io::Result<String> {
    stream.set_read_timeout(Some(READ_WITHIN))?;
    let mut bytes = vec![0; len];
    stream.read_exact(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Gives the holder its token.
fn hand_over(dir: &Path) -> std::io::Result<()> {
    let (port, token) = read_address(dir)?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, READ_WITHIN)?;
    stream.set_read_timeout(Some(READ_WITHIN))?;
    stream.write_all(token.as_bytes())?;
    let mut answer = [0; HEARD.len()];
    stream.read_exact(&mut answer)?;
    if answer == HEARD { Ok(()) } else { Err(std::io::Error::other("not the app's answer")) }
}

fn read_address(dir: &Path) -> std::io::Result<(u16, String)> {
    let bytes = std::fs::read(address_path(dir))?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// The first claim of `dir`, counting how often its window is shown.
    fn claim_counting(dir: &Path) -> (Arc<AtomicUsize>, Claim) {
        let shown = Arc::new(AtomicUsize::new(0));
        let counter = shown.clone();
        let claim = claim(dir, true, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            true
        });
        (shown, claim.unwrap())
    }

    /// Two claims in one process behave as two processes would: `File::try_lock` locks per open
    /// file, not per process.
    #[test]
    fn a_second_launch_on_the_same_folder_shows_the_first_window_and_gives_way() {
        let dir = tempfile::tempdir().unwrap();
        let (shown, first) = claim_counting(dir.path());
        assert!(matches!(first, Claim::First(_)));
        for _ in 0..2 {
            assert!(matches!(claim(dir.path(), true, || true).unwrap(), Claim::Other));
        }
        let started = Instant::now();
        while shown.load(Ordering::SeqCst) < 2 && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(shown.load(Ordering::SeqCst), 2, "each later launch shows the window once");
        drop(first);
        // The first app quit: the next launch is the folder's app.
        assert!(matches!(claim(dir.path(), true, || true).unwrap(), Claim::First(_)));
    }

    #[test]
    fn a_launch_while_the_app_quits_waits_for_it_and_then_takes_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let quitting = claim(dir.path(), true, || false).unwrap();
        let path = dir.path().to_owned();
        let later = std::thread::spawn(move || claim(&path, true, || true).unwrap());
        std::thread::sleep(Duration::from_millis(300));
        drop(quitting);
        assert!(matches!(later.join().unwrap(), Claim::First(_)), "not sent away by an app on its way out");
    }

    #[test]
    fn a_launch_says_whether_the_folder_cannot_be_opened_or_its_holder_does_not_answer() {
        let dir = tempfile::tempdir().unwrap();
        let _silent = claim(dir.path(), true, || false).unwrap();
        let refused = claim(dir.path(), true, || true).err().unwrap();
        assert!(refused.to_string().contains("does not answer"), "{refused}");

        let file = dir.path().join("a file, not a folder");
        std::fs::write(&file, b"").unwrap();
        let refused = claim(&file.join("data"), true, || true).err().unwrap();
        assert!(refused.to_string().starts_with("cannot open the data folder"), "{refused}");
    }

    #[test]
    fn a_launch_that_asks_for_no_window_leaves_a_held_folder_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let (shown, _first) = claim_counting(dir.path());
        assert!(matches!(claim(dir.path(), false, || true).unwrap(), Claim::Other));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(shown.load(Ordering::SeqCst), 0, "the running app's window is not shown");
    }

    #[test]
    fn another_folder_runs_its_own_app() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let _first = claim(one.path(), true, || true).unwrap();
        assert!(matches!(claim(two.path(), true, || true).unwrap(), Claim::First(_)));
    }

    #[test]
    fn a_wrong_token_shows_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (shown, _first) = claim_counting(dir.path());
        let (port, token) = read_address(dir.path()).unwrap();
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        stream.write_all(&vec![b'x'; token.len()]).unwrap();
        drop(stream);
        // The right token after it is still heard: the wrong one was read and dropped first.
        assert!(matches!(claim(dir.path(), true, || true).unwrap(), Claim::Other));
        let started = Instant::now();
        while shown.load(Ordering::SeqCst) < 1 && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(shown.load(Ordering::SeqCst), 1);
    }
}
