//! The way from the archive's synchronous callers to the asynchronous S3
//! client: a small runtime the archive owns (two worker threads, made
//! when the archive is opened), on which every request runs.
//!
//! The rule: the archive's methods block until the bucket has answered,
//! so they are called from blocking threads only (the daemon's passes run
//! on `spawn_blocking` threads; the commands on the main thread), never
//! from an async worker. Each call waits on a scoped thread of its own,
//! outside any runtime, so that a caller that is itself on a runtime's
//! thread cannot make `block_on` panic. The runtime is shut down in the
//! background when the archive is dropped, which may happen on an async
//! worker (a gateway replaced on SIGHUP).

use std::future::Future;
use std::io;

/// The archive's runtime.
#[derive(Debug)]
pub struct Bridge {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Bridge {
    /// Starts the runtime.
    pub fn new() -> io::Result<Bridge> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dropgate-archive")
            .enable_all()
            .build()?;
        Ok(Bridge {
            runtime: Some(runtime),
        })
    }

    /// Runs `work` to its end on the runtime, waiting for it.
    pub fn run<F>(&self, work: F) -> io::Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| io::Error::other("the archive's runtime is gone"))?;
        std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(work))
                .join()
                .map_err(|_| io::Error::other("a request to the bucket stopped on a bug"))
        })
    }

    /// Starts `work` on the runtime without waiting for it.
    pub fn spawn<F>(&self, work: F) -> io::Result<tokio::task::JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime
            .as_ref()
            .map(|r| r.spawn(work))
            .ok_or_else(|| io::Error::other("the archive's runtime is gone"))
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_from_a_plain_thread_and_from_a_runtime_thread() -> io::Result<()> {
        let bridge = Bridge::new()?;
        assert_eq!(bridge.run(async { 1 + 1 })?, 2);
        // On another runtime's thread (where `block_on` would panic).
        let outer = tokio::runtime::Builder::new_current_thread().build()?;
        let got = outer.block_on(async { bridge.run(async { 3 }) })?;
        assert_eq!(got, 3);
        let handle = bridge.spawn(async { 4 })?;
        assert_eq!(bridge.run(handle)?.ok(), Some(4));
        // Dropped on an async worker: no panic.
        outer.block_on(async move { drop(bridge) });
        Ok(())
    }
}
