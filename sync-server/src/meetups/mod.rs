//! Meetups over HTTP (PRODUCT.md §6, DESIGN.md "HTTP API"): the list by newest or most liked with a
//! region filter and cursor pages, the detail, edit and delete by the host, likes, comments, "my
//! meetups" and "my comments". `rules` checks what a client sends and derives the region, `views`
//! shapes the answers and the opaque cursors, `routes` holds the thin handlers. Joining, leaving,
//! the notice and the chat history are the chat module's; storage keeps the data consistent.

mod routes;
mod rules;
mod views;

pub use routes::router;
