//! A token bucket: the per-connection rate limit of the WebSocket endpoints (`/v1/sync`,
//! `/v1/chat`). Holds only its own arithmetic; what a refused frame means is the caller's.

use std::time::Instant;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    /// A full bucket: `burst` at once, then `per_second` sustained.
    pub fn new(per_second: f64, burst: f64) -> Self {
        Self { per_second, burst, tokens: burst, refilled: Instant::now() }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_bucket_is_empty() {
        let mut bucket = TokenBucket::new(0.001, 3.0);
        assert_eq!((0..5).filter(|_| bucket.take()).count(), 3);
    }
}
