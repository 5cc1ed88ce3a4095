//! Where the lab's containers live: the Docker endpoint, and the compose project on it.
//!
//! - [`endpoint`]: an engine's address as the docker CLI writes it, parsed.
//! - [`context`]: which engine the command line means (flags, DOCKER_HOST, contexts).
//! - [`mod@connect`]: connecting and checking it answers, through an ssh tunnel if need be.
//! - [`discover`]: the lab's compose project and every container of each service.
//! - [`labels`]: the Compose labels discovery goes by.
//! - [`matching`]: which of the learner's services plays each lab service, when names differ.

pub mod connect;
pub mod context;
pub mod discover;
pub mod endpoint;
pub mod labels;
pub mod matching;

pub use connect::{connect, connect_cli, connect_to, ConnectError, Connected, Engine};
pub use context::Asked;
pub use discover::{choose_project, list_services, ContainerRef, Stack};
pub use endpoint::{api_at_least, Endpoint, TlsFiles};
