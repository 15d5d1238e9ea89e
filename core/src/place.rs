//! A place as the geocoder finds it, a meetup stores it and the app shows it (`GET /v1/places`).
//! One definition for the server and the devices, so the two sides cannot drift apart.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    /// "시·도 시·군·구" (`region::region_of`); `None` when the address does not start with a
    /// Korean 시·도.
    pub region: Option<String>,
}
