//! Password hashes run on a few threads of their own, two per core, and
//! wait their turn there. Each hash takes 19 MiB; on the general blocking
//! pool a burst of logins spread them over dozens of threads whose
//! allocators each kept the memory (1.2 GB after 64 concurrent logins).
//! The state holds one `Hasher`; its threads end when it is dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};

use super::password;
use crate::error::ApiError;

/// Password hashes that may wait or run at once, per core (each takes tens
/// of milliseconds of one core).
const MAX_HASHES_WAITING_PER_CORE: usize = 8;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords on its own threads, with a bounded queue.
pub struct Hasher {
    queue: Mutex<Sender<Job>>,
    /// Jobs waiting or running.
    admitted: Arc<AtomicUsize>,
    /// Past this many jobs, a request is refused at once (503,
    /// `Retry-After`) instead of joining a queue that one client could make
    /// minutes long for everyone signing in.
    most: usize,
}

impl Hasher {
    /// Starts the hashing threads.
    pub fn start() -> Self {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        for i in 0..cores * 2 {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || {
                    loop {
                        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "no password-hashing thread");
            }
        }
        Self {
            queue: Mutex::new(sender),
            admitted: Arc::default(),
            most: cores * MAX_HASHES_WAITING_PER_CORE,
        }
    }

    /// Hashes a password: argon2 is slow on purpose.
    pub async fn hash(&self, plain: String) -> Result<String, ApiError> {
        self.run(move || password::hash(&plain))
            .await?
            .map_err(|e| ApiError::Internal(e.into()))
    }

    /// Verifies a password; without a stored hash it spends the same time
    /// and fails, so unknown accounts cannot be told apart.
    pub async fn verify(&self, plain: String, stored: Option<String>) -> Result<bool, ApiError> {
        self.run(move || match stored {
            Some(stored) => password::verify(&plain, &stored),
            None => {
                password::verify_nothing(&plain);
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let leave = Admitted::enter(&self.admitted, self.most).ok_or(ApiError::Overloaded)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Box::new(move || {
                let _ = reply.send(work());
                drop(leave);
            }))
            .map_err(|_| ApiError::Internal("the password-hashing threads are gone".into()))?;
        answer
            .await
            .map_err(|e| ApiError::Internal(format!("password hashing stopped: {e}").into()))
    }
}

/// One admitted job; dropping it makes room for another.
struct Admitted(Arc<AtomicUsize>);

impl Admitted {
    /// Admits a job unless `most` are already in.
    fn enter(count: &Arc<AtomicUsize>, most: usize) -> Option<Self> {
        if count.fetch_add(1, Ordering::SeqCst) >= most {
            count.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Self(count.clone()))
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_admits_nobody_until_a_job_leaves() {
        let count = Arc::new(AtomicUsize::new(0));
        let first = Admitted::enter(&count, 2).expect("room");
        let second = Admitted::enter(&count, 2).expect("room");
        assert!(Admitted::enter(&count, 2).is_none(), "full");
        assert!(
            Admitted::enter(&count, 2).is_none(),
            "still full, and refusals take no room"
        );
        drop(first);
        let third = Admitted::enter(&count, 2).expect("room again");
        drop((second, third));
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }
}
