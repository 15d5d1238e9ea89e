//! Whether the system tray can be made, asked before the first tray icon: on Linux the tray loads
//! libayatana-appindicator3 (or the older libappindicator3) with `dlopen` the first time an icon
//! is made, and when neither loads it panics on the main thread — the app crashes, its window
//! already hidden. The `.deb` depends on the library; an app run from source, another bundle, or
//! a library removed since, may lack it.
//!
//! Loading a library to find out would need `unsafe` (forbidden here), so this looks where the
//! dynamic linker looks for a bare name: `LD_LIBRARY_PATH`, its cache (`/etc/ld.so.cache`, whose
//! string table holds every library's path), then the system folders; a file found must be an
//! ELF of this process's class and machine (a multiarch system may hold only another
//! architecture's). A library found that then fails to load (a dependency of its own missing)
//! still crashes; that the `.deb`'s dependencies cover.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The names the tray's loader tries, in its order (the unversioned ones for older systems).
const NAMES: [&str; 4] =
    ["libayatana-appindicator3.so.1", "libappindicator3.so.1", "libayatana-appindicator3.so", "libappindicator3.so"];

/// Whether this system can show a tray icon (asked once per process). Always true but on Linux.
pub fn available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        if !cfg!(target_os = "linux") {
            return true;
        }
        let cache = std::fs::read("/etc/ld.so.cache").unwrap_or_default();
        let found = find(&NAMES, std::env::var_os("LD_LIBRARY_PATH").as_deref(), &cache, &system_dirs());
        match &found {
            Some(path) => tracing::debug!(path = %path.display(), "the tray's library"),
            None => tracing::warn!(
                "no tray library (libayatana-appindicator3): closing the window quits, and reminders come \
                 only while the app is open"
            ),
        }
        found.is_some()
    })
}

/// Where glibc looks after its cache, and the multiarch folders the cache normally lists.
fn system_dirs() -> Vec<PathBuf> {
    let triplet = format!("{}-linux-gnu", std::env::consts::ARCH);
    ["/lib", "/usr/lib", "/lib64", "/usr/lib64"]
        .into_iter()
        .map(PathBuf::from)
        .chain([Path::new("/lib").join(&triplet), Path::new("/usr/lib").join(&triplet)])
        .collect()
}

/// The first of `names` found as `dlopen` would look: in the folders of `ld_library_path`, among
/// the paths of the linker's `cache`, then in `system_dirs`; only a library of this process's
/// architecture counts.
pub fn find(names: &[&str], ld_library_path: Option<&OsStr>, cache: &[u8], system_dirs: &[PathBuf]) -> Option<PathBuf> {
    names.iter().find_map(|name| {
        let listed = ld_library_path.into_iter().flat_map(std::env::split_paths).map(|dir| dir.join(name));
        let cached = cached_paths(cache, name);
        let system = system_dirs.iter().map(|dir| dir.join(name));
        listed.chain(cached).chain(system).find(|path| is_ours(path))
    })
}

/// The paths in the linker's cache that end in `/name`: its string table holds them as
/// NUL-terminated strings (in the old and the new format alike).
fn cached_paths(cache: &[u8], name: &str) -> Vec<PathBuf> {
    let ending = [b"/", name.as_bytes(), b"\0"].concat();
    let mut paths = Vec::new();
    let mut from = 0;
    while let Some(at) = cache[from..].windows(ending.len()).position(|w| w == ending.as_slice()) {
        let end = from + at + ending.len() - 1;
        let start = cache[..end].iter().rposition(|&b| b == 0).map_or(0, |nul| nul + 1);
        if let Ok(path) = std::str::from_utf8(&cache[start..end]) {
            paths.push(PathBuf::from(path));
        }
        from = end + 1;
    }
    paths
}

/// Whether `path` is an ELF file of this process's class (32 or 64 bits), byte order and machine.
fn is_ours(path: &Path) -> bool {
    let mut header = [0u8; 20];
    let read = std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut header));
    if read.is_err() || header[..4] != *b"\x7fELF" {
        return false;
    }
    let class = if cfg!(target_pointer_width = "64") { 2 } else { 1 };
    let little = cfg!(target_endian = "little");
    let order = if little { 1 } else { 2 };
    let machine = if little {
        u16::from_le_bytes([header[18], header[19]])
    } else {
        u16::from_be_bytes([header[18], header[19]])
    };
    header[4] == class && header[5] == order && machine_of(std::env::consts::ARCH).is_none_or(|ours| ours == machine)
}

/// The ELF `e_machine` of an architecture (None: not checked).
fn machine_of(arch: &str) -> Option<u16> {
    Some(match arch {
        "x86" => 3,
        "x86_64" => 62,
        "arm" => 40,
        "aarch64" => 183,
        "powerpc64" => 21,
        "s390x" => 22,
        "riscv64" => 243,
        "loongarch64" => 258,
        _ => return None,
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// An ELF header of this process's architecture, or of another machine.
    fn elf(ours: bool) -> Vec<u8> {
        let mut header = vec![0x7f, b'E', b'L', b'F', if cfg!(target_pointer_width = "64") { 2 } else { 1 }];
        header.push(if cfg!(target_endian = "little") { 1 } else { 2 });
        header.resize(18, 0);
        let machine = if ours { machine_of(std::env::consts::ARCH).unwrap_or(62) } else { 0xbeef };
        header.extend(if cfg!(target_endian = "little") { machine.to_le_bytes() } else { machine.to_be_bytes() });
        header.resize(64, 0);
        header
    }

    const NAME: &str = "libayatana-appindicator3.so.1";

    #[test]
    fn a_library_in_ld_library_path_or_a_system_folder_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let (listed, system) = (dir.path().join("listed"), dir.path().join("system"));
        std::fs::create_dir_all(&listed).unwrap();
        std::fs::create_dir_all(&system).unwrap();
        std::fs::write(listed.join(NAME), elf(true)).unwrap();
        let path = std::env::join_paths([dir.path().join("empty"), listed.clone()]).unwrap();
        assert_eq!(find(&[NAME], Some(&path), &[], &[]), Some(listed.join(NAME)));

        std::fs::write(system.join("libappindicator3.so.1"), elf(true)).unwrap();
        let found = find(&["libnothing.so.1", "libappindicator3.so.1"], None, &[], std::slice::from_ref(&system));
        assert_eq!(found, Some(system.join("libappindicator3.so.1")), "the second name, as the loader tries it");
    }

    #[test]
    fn a_library_listed_in_the_linker_cache_is_found_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join(NAME);
        std::fs::write(&library, elf(true)).unwrap();
        let mut cache = b"glibc-ld.so.cache1.1\0\0\0\0libc.so.6\0/nowhere/at/all/libc.so.6\0".to_vec();
        cache.extend([NAME.as_bytes(), b"\0", library.to_str().unwrap().as_bytes(), b"\0"].concat());
        assert_eq!(find(&[NAME], None, &cache, &[]), Some(library));
        assert_eq!(find(&["libc.so.6"], None, &cache, &[]), None, "a path listed but not there");
    }

    #[test]
    fn no_library_or_only_another_architecture_s_or_a_file_that_is_no_library_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = [dir.path().to_path_buf()];
        assert_eq!(find(&NAMES, None, &[], &dirs), None);
        std::fs::write(dir.path().join(NAME), elf(false)).unwrap();
        assert_eq!(find(&NAMES, None, &[], &dirs), None, "another machine's");
        std::fs::write(dir.path().join(NAME), b"not an ELF file at all").unwrap();
        assert_eq!(find(&NAMES, None, &[], &dirs), None);
        std::fs::write(dir.path().join(NAME), elf(true)).unwrap();
        assert_eq!(find(&NAMES, None, &[], &dirs), Some(dir.path().join(NAME)));
    }

    #[test]
    fn this_system_s_linker_cache_lists_its_libraries() {
        // libc is in every glibc system's cache (musl and some containers have none).
        let Ok(cache) = std::fs::read("/etc/ld.so.cache") else { return };
        assert!(find(&["libc.so.6"], None, &cache, &[]).is_some());
    }
}
