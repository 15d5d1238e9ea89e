//! A map tile server on 127.0.0.1 for the meetup screens' Leaflet map (the app reads its URL
//! template from `MINGIZUK_TILE_URL`): every `/{z}/{x}/{y}.svg` gets a light tile with a street
//! grid, and every request is remembered, so a test can tell which tiles the map asked for.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// What one tile looks like: a park-green ground, a lighter street grid, and its own address.
fn tile(z: u32, x: u32, y: u32) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
<rect width="256" height="256" fill="#e8f0e0"/>
<path d="M0 64H256M0 192H256M80 0V256M200 0V256" stroke="#ffffff" stroke-width="10"/>
<path d="M0 128H256" stroke="#fde68a" stroke-width="14"/>
<text x="8" y="248" font-family="sans-serif" font-size="10" fill="#94a3b8">{z}/{x}/{y}</text>
</svg>"##
    )
}

/// The tiles asked for, as (zoom, x, y), in order.
type Requests = Arc<Mutex<Vec<(u32, u32, u32)>>>;

/// A running tile server. Stops when dropped.
pub struct TileServer {
    /// The URL template to give the app (`MINGIZUK_TILE_URL`).
    pub template: String,
    requests: Requests,
    task: tokio::task::JoinHandle<()>,
}

impl TileServer {
    pub async fn start() -> anyhow::Result<TileServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let template = format!("http://{}/{{z}}/{{x}}/{{y}}.svg", listener.local_addr()?);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new().route("/{z}/{x}/{file}", get(serve)).with_state(Arc::clone(&requests));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TileServer { template, requests, task })
    }

    /// The tiles asked for so far, as (zoom, x, y).
    pub fn requests(&self) -> Vec<(u32, u32, u32)> {
        self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

impl Drop for TileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(State(requests): State<Requests>, Path((z, x, file)): Path<(u32, u32, String)>) -> impl IntoResponse {
    let Some(y) = file.strip_suffix(".svg").and_then(|y| y.parse::<u32>().ok()) else {
        return (axum::http::StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain")], String::new());
    };
    requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push((z, x, y));
    (axum::http::StatusCode::OK, [(header::CONTENT_TYPE, "image/svg+xml")], tile(z, x, y))
}

/// The tile (x, y) at `zoom` that holds a place (the Web Mercator "slippy map" numbering).
pub fn tile_of(lat: f64, lng: f64, zoom: u32) -> (u32, u32) {
    let n = f64::from(1u32 << zoom);
    let x = ((lng + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    // Both are within 0..n for any place on the map.
    (x as u32, y as u32)
}

#[cfg(test)]
mod tests {
    use super::tile_of;

    #[test]
    fn a_place_falls_in_the_quarter_of_the_world_it_is_in() {
        assert_eq!(tile_of(37.5663, 126.9779, 0), (0, 0), "one tile holds the world at zoom 0");
        assert_eq!(tile_of(37.5663, 126.9779, 1), (1, 0), "Seoul: north-east");
        assert_eq!(tile_of(-33.8688, 151.2093, 1), (1, 1), "Sydney: south-east");
        assert_eq!(tile_of(40.7128, -74.0060, 1), (0, 0), "New York: north-west");
        // Each zoom level halves the tile: the tile at zoom 16 lies within the one at zoom 15.
        let (x, y) = tile_of(37.5284, 126.9327, 16);
        assert_eq!(tile_of(37.5284, 126.9327, 15), (x / 2, y / 2));
    }
}
