//! Fresh reads on a store that caches while other processes write the same
//! database (PostgreSQL nodes): before its first cached read, each API
//! request makes the store catch up with every write committed anywhere
//! before the request began (the store's fence), and later reads of the
//! request reuse that. The transports open one [`request`] scope per
//! request; a read outside any scope (background work) fences itself.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::StoreError;

tokio::task_local! {
    /// Whether the current request's fence has been taken.
    static FENCED: Arc<OnceCell<()>>;
}

/// Runs `fut`, one request, as one scope of fresh reads.
pub async fn request<T>(fut: impl Future<Output = T>) -> T {
    FENCED.scope(Arc::default(), fut).await
}

/// Runs `fence` once in the current request (again after a failure), or on
/// every call outside a request.
pub async fn once_per_request<F, Fut>(fence: F) -> Result<(), StoreError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    match FENCED.try_with(Arc::clone) {
        Ok(fenced) => fenced.get_or_try_init(fence).await.map(|_| ()),
        Err(_) => fence().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_request_fences_once_and_reads_outside_a_request_every_time() {
        let count = AtomicUsize::new(0);
        let fence = || async {
            count.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        request(async {
            for _ in 0..3 {
                once_per_request(fence).await.unwrap();
            }
        })
        .await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
        request(async { once_per_request(fence).await.unwrap() }).await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
        once_per_request(fence).await.unwrap();
        once_per_request(fence).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failed_fence_is_taken_again_by_the_next_read() {
        let count = AtomicUsize::new(0);
        request(async {
            let failing = || async {
                count.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Unavailable("down".into()))
            };
            assert!(once_per_request(failing).await.is_err());
            let working = || async {
                count.fetch_add(1, Ordering::SeqCst);
                Ok(())
            };
            once_per_request(working).await.unwrap();
            once_per_request(working).await.unwrap();
        })
        .await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }
}
