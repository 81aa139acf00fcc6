/// Resolves on SIGINT or SIGTERM; the server then stops accepting, lets
/// in-flight requests finish and closes the database.
pub async fn signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
