//! `notes-dev dynamodb` owns its DynamoDB Local: java never outlives it, even killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn accepts_connections(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// Waits up to 15 s for the port to stop accepting connections.
fn wait_until_closed(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if !accepts_connections(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The real case this guards: a test binary keeps DynamoDB Local in a `static` and is killed
/// (SIGKILL: no destructor, no signal handler runs). java must not survive it. The owner here is
/// the `notes-dev dynamodb` command, which holds its instance the same way until killed.
#[test]
fn java_dies_with_its_owner_even_when_the_owner_is_killed() -> anyhow::Result<()> {
    let mut owner = Command::new(env!("CARGO_BIN_EXE_notes-dev"))
        .args(["dynamodb", "--in-memory", "--no-tables"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut endpoint = String::new();
    if let Some(stdout) = owner.stdout.take() {
        BufReader::new(stdout).read_line(&mut endpoint)?;
    }
    let port: Option<u16> = endpoint
        .trim()
        .strip_prefix("http://127.0.0.1:")
        .and_then(|port| port.parse().ok());
    let Some(port) = port else {
        let _ = owner.kill();
        let status = owner.wait()?;
        panic!("the owner did not print an endpoint (got {endpoint:?}, {status})");
    };
    assert!(accepts_connections(port), "DynamoDB Local is up on {port}");

    owner.kill()?; // SIGKILL
    owner.wait()?;
    assert!(
        wait_until_closed(port),
        "java still listens on {port} after its owner was killed"
    );
    Ok(())
}
