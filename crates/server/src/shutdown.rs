use std::future::Future;

use tokio::signal::unix::{SignalKind, signal as unix_signal};

/// Resolves on SIGINT or SIGTERM; the server then stops accepting, lets
/// in-flight requests finish and closes the database. The handlers are
/// installed when this is called (not when first polled), so a signal that
/// arrives right after start-up is not lost to the default action.
pub fn signal() -> std::io::Result<impl Future<Output = ()>> {
    let mut term = unix_signal(SignalKind::terminate())?;
    let mut interrupt = unix_signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutting down");
    })
}
