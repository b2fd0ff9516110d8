//! `openssl s_server -www` (OpenSSL's own TLS server, which answers a GET with a page naming the
//! protocol and cipher) on a loopback port, with a fresh RSA certificate: the real peer of the
//! legacy TLS client's tests; and the fixed certificates of `testdata/tls`.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A file of `testdata/tls`: the fixed certificates and keys the tests give servers and clients.
pub fn testdata(name: &str) -> String {
    format!("{}/../../testdata/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A directory with an RSA key and a self-signed certificate, made once.
pub fn credentials() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("legacy-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=legacy.test",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
            ])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl (the openssl package) to make a test certificate");
        assert!(status.success(), "openssl req failed");
        // An OpenSSL configuration whose server declines the extended master secret.
        std::fs::write(
            dir.join("no-ems.cnf"),
            "openssl_conf = conf\n[conf]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n\
             [sd]\nOptions = -ExtendedMasterSecret\n",
        )
        .expect("writing no-ems.cnf");
        dir
    })
}

/// `openssl s_server -www` on a loopback port with `options`, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    pub fn start(options: &[&str], config: Option<&str>) -> Server {
        let dir = credentials();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new("openssl");
        command
            .args([
                "s_server", "-www", "-quiet", "-cert", "cert.pem", "-key", "key.pem",
            ])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .args(options)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command.env(
            "OPENSSL_CONF",
            config.map_or_else(|| "/dev/null".into(), |name| dir.join(name)),
        );
        let child = command.spawn().expect("openssl s_server");
        let server = Server { child, port };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "s_server did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
