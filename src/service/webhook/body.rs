//! Reading a webhook body without trusting it: the signature header is checked before a byte
//! of the body is read, every chunk is hashed as it arrives, and the bytes kept for parsing
//! are reserved from one budget shared by all requests, so a flood of large forged bodies
//! costs at most the budget, never the process.

use super::MAX_BODY_BYTES;
use super::signature::{SignatureError, Verifier};
use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The bytes of webhook bodies this process holds at once, across every request.
#[derive(Debug)]
pub struct BodyBudget {
    permits: Arc<Semaphore>,
    capacity: usize,
    peak: AtomicUsize,
}

impl BodyBudget {
    pub fn new(capacity_bytes: usize) -> BodyBudget {
        let capacity = capacity_bytes.min(Semaphore::MAX_PERMITS);
        BodyBudget {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            peak: AtomicUsize::new(0),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes reserved right now.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    /// The most bytes ever reserved at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Reserves `bytes` more for `held`, or `false` when the budget cannot spare them now.
    fn reserve(&self, held: &mut Option<OwnedSemaphorePermit>, bytes: usize) -> bool {
        if bytes == 0 {
            return true;
        }
        let Ok(n) = u32::try_from(bytes) else {
            return false;
        };
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_many_owned(n) else {
            return false;
        };
        match held {
            Some(h) => h.merge(permit),
            None => *held = Some(permit),
        }
        self.peak.fetch_max(self.in_flight(), Ordering::Relaxed);
        true
    }
}

/// How webhook bodies are read: the shared budget and how long a body may take to arrive.
#[derive(Debug)]
pub struct BodyLimits {
    pub budget: BodyBudget,
    /// From the end of the headers to the last body byte.
    pub read_timeout: Duration,
}

impl BodyLimits {
    pub fn new(budget_bytes: usize, read_timeout: Duration) -> BodyLimits {
        BodyLimits {
            budget: BodyBudget::new(budget_bytes),
            read_timeout,
        }
    }
}

/// A body whose signature matched, with its share of the budget (released on drop).
#[derive(Debug)]
pub struct VerifiedBody {
    pub bytes: Bytes,
    _reserved: Option<OwnedSemaphorePermit>,
}

/// Why a body was not read to a verified end.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the body is over the {MAX_BODY_BYTES}-byte limit of GitHub webhooks")]
    TooLarge { declared: Option<u64> },
    #[error("too many webhook bodies are being received at once; retry later")]
    Busy,
    #[error("the body did not arrive within {0:?}")]
    Timeout(Duration),
    #[error("the body could not be read: {0}")]
    Read(String),
}

/// Reads `body`, hashing each chunk under `secret` against the `signature` header, keeping
/// the bytes within `limits`. `declared` is the request's `Content-Length`: a body declared
/// too large is refused, and the declared size is reserved up front, both before reading.
pub async fn read_verified(
    body: Body,
    secret: &[u8],
    signature: Option<&[u8]>,
    declared: Option<u64>,
    limits: &BodyLimits,
) -> Result<VerifiedBody, BodyError> {
    let mut verifier = Verifier::new(secret, signature)?;
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(BodyError::TooLarge { declared });
    }
    let mut reserved = None;
    // Bounded by the check above.
    let up_front = declared.map_or(0, |n| n as usize);
    if !limits.budget.reserve(&mut reserved, up_front) {
        return Err(BodyError::Busy);
    }
    let mut kept = Vec::with_capacity(up_front);
    let deadline = Instant::now() + limits.read_timeout;
    let mut body = body;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::Timeout(limits.read_timeout)),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(BodyError::Read(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers carry nothing signed
        };
        let total = kept.len() + chunk.len();
        if total > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge { declared });
        }
        let short = total.saturating_sub(reserved.as_ref().map_or(0, |r| r.num_permits()));
        if !limits.budget.reserve(&mut reserved, short) {
            return Err(BodyError::Busy);
        }
        verifier.update(&chunk);
        kept.extend_from_slice(&chunk);
    }
    verifier.finish()?;
    Ok(VerifiedBody {
        bytes: Bytes::from(kept),
        _reserved: reserved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::webhook::signature::sign;

    fn limits(bytes: usize) -> BodyLimits {
        BodyLimits::new(bytes, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_signed_body_comes_back_whole_and_its_reservation_is_released() {
        let l = limits(1024);
        let sig = sign(b"k", b"{\"a\":1}");
        let got = read_verified(
            Body::from("{\"a\":1}"),
            b"k",
            Some(sig.as_bytes()),
            Some(7),
            &l,
        )
        .await
        .unwrap();
        assert_eq!(&got.bytes[..], b"{\"a\":1}");
        assert_eq!(l.budget.in_flight(), 7);
        drop(got);
        assert_eq!(l.budget.in_flight(), 0);
        assert_eq!(l.budget.peak(), 7);
    }

    #[tokio::test]
    async fn refusals_happen_before_reading_and_hold_nothing() {
        let l = limits(100);
        let sig = sign(b"k", b"x");
        let e = read_verified(Body::from("x"), b"k", None, Some(1), &l).await;
        assert!(matches!(
            e,
            Err(BodyError::Signature(SignatureError::Missing))
        ));
        let e = read_verified(Body::from("x"), b"k", Some(sig.as_bytes()), Some(101), &l).await;
        assert!(matches!(e, Err(BodyError::Busy)), "{e:?}");
        let huge = Some(MAX_BODY_BYTES as u64 + 1);
        let e = read_verified(Body::from("x"), b"k", Some(sig.as_bytes()), huge, &l).await;
        assert!(matches!(e, Err(BodyError::TooLarge { .. })), "{e:?}");
        // Without a Content-Length the budget is taken chunk by chunk.
        let e = read_verified(
            Body::from(vec![b' '; 101]),
            b"k",
            Some(sig.as_bytes()),
            None,
            &l,
        )
        .await;
        assert!(matches!(e, Err(BodyError::Busy)), "{e:?}");
        let e = read_verified(Body::from("y"), b"k", Some(sig.as_bytes()), None, &l).await;
        assert!(matches!(
            e,
            Err(BodyError::Signature(SignatureError::Mismatch))
        ));
        assert_eq!(l.budget.in_flight(), 0);
        assert_eq!(l.budget.peak(), 1);
    }
}
