//! Where the lab's containers live: the Docker endpoint, and the compose project on it.

mod discover;
mod endpoint;

pub use discover::{choose_project, discover, ContainerRef, Discovery, Stack};
pub use endpoint::{api_at_least, connect, describe_endpoint, Engine};
