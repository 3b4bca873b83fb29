//! The `seula` binary: parse the configuration, start logging, run the subcommand.

use anyhow::Context;
use clap::Parser;
use seula::config::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEULA_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(config) => {
            let state = seula::app_state(&config).await?;
            let listener = tokio::net::TcpListener::bind(config.addr)
                .await
                .with_context(|| format!("binding {}", config.addr))?;
            seula::serve(listener, state, config.retention, shutdown_signal()).await
        }
        Command::Score(config) => seula::score_lines(&config).await,
        Command::Train(config) => seula::train(&config).map(|_| ()),
        Command::Eval(config) => seula::evaluate(&config).await,
        Command::ExportLabels(config) => seula::export_labels(&config).await,
        Command::Policy(command) => seula::policy_command(&command).await,
        Command::ExportAuthor { id, register } => seula::export_author(&register, &id).await,
        Command::EraseAuthor { id, by, register } => seula::erase_author(&register, &id, &by).await,
        Command::Purge {
            retention,
            register,
        } => seula::purge(&register, &retention).await,
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "no SIGTERM handler");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
