//! The app's window as the X server sees it: whether it is on screen, and the close request a
//! window manager sends when the user presses a window's close button (`WM_DELETE_WINDOW`, which
//! GTK turns into the app's close event). Xvfb runs no window manager, so the app's top-level
//! windows are children of the root window, found by their title.

use anyhow::{Context, Result, bail};
use x11rb::connection::Connection;
use x11rb::errors::ReplyError;
use x11rb::protocol::ErrorKind;
use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask, MapState, Window as XWindow};
use x11rb::rust_connection::RustConnection;

/// A connection to the test's X display (`DISPLAY`).
pub struct Screen {
    conn: RustConnection,
    root: XWindow,
}

impl Screen {
    pub fn connect() -> Result<Screen> {
        let (conn, screen) = x11rb::connect(None).context("connect to the X display")?;
        let root = conn.setup().roots[screen].root;
        Ok(Screen { conn, root })
    }

    fn atom(&self, name: &str) -> Result<u32> {
        Ok(self.conn.intern_atom(false, name.as_bytes())?.reply()?.atom)
    }

    /// The top-level windows titled `title` (`_NET_WM_NAME`, as GTK sets it).
    pub fn titled(&self, title: &str) -> Result<Vec<XWindow>> {
        let (name, utf8) = (self.atom("_NET_WM_NAME")?, self.atom("UTF8_STRING")?);
        let mut found = Vec::new();
        for window in self.conn.query_tree(self.root)?.reply()?.children {
            // A window gone since the listing (a second launch's, say) is not ours.
            let Ok(property) = self.conn.get_property(false, window, name, utf8, 0, 256)?.reply() else { continue };
            if property.value == title.as_bytes() {
                found.push(window);
            }
        }
        Ok(found)
    }

    /// The one top-level window titled `title`.
    pub fn window(&self, title: &str) -> Result<XWindow> {
        match self.titled(title)?.as_slice() {
            [window] => Ok(*window),
            found => bail!("expected one window titled {title:?}, found {}", found.len()),
        }
    }

    /// Whether `window` is on screen (mapped, its parent too); an error once it is destroyed.
    pub fn shown(&self, window: XWindow) -> Result<bool> {
        match self.conn.get_window_attributes(window)?.reply() {
            Ok(attributes) => Ok(attributes.map_state == MapState::VIEWABLE),
            Err(ReplyError::X11Error(e)) if e.error_kind == ErrorKind::Window => {
                bail!("the window {window:#x} is gone: the app destroyed it (or quit)")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Asks `window` to close, as a window manager does for its close button.
    pub fn request_close(&self, window: XWindow) -> Result<()> {
        let (protocols, delete) = (self.atom("WM_PROTOCOLS")?, self.atom("WM_DELETE_WINDOW")?);
        let event = ClientMessageEvent::new(32, window, protocols, [delete, x11rb::CURRENT_TIME, 0, 0, 0]);
        self.conn.send_event(false, window, EventMask::NO_EVENT, event)?;
        self.conn.flush()?;
        Ok(())
    }
}
