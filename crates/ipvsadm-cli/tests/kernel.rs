//! Our extensions of the ipvsadm tools against the real kernel, run by
//! `scripts/vm-test ipvsadm-cli-kernel` inside the test VM: `ipvsadm -L --json`,
//! `ipvsadm-restore --test` and `ipvsadm-restore --sync [--dry-run]`. Our binaries are in
//! `$LVS_BIN`; the reference ipvsadm sets up tables and reads them back.
//!
//! Each test works in a network namespace of its own, so it starts from an empty table.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const REFERENCE: &str = "/usr/sbin/ipvsadm";

/// A table with a bit of everything the save format holds.
const RULES: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3
-a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 1
-A -u 10.0.0.1:53 -s wlc -p 300 -M 255.255.255.0
-a -u 10.0.0.1:53 -r 10.0.1.3:53 -g -w 2
-A -f 7 -s sh -b sh-port
-a -f 7 -r 10.0.1.4:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -t [2001:db8::1]:443 -s wrr
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 5
";

fn in_new_namespace<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        // SAFETY: unshare takes no pointer; it moves only this thread to a new namespace.
        let status = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(status, 0, "unshare: {}", std::io::Error::last_os_error());
        run(Command::new("ip").args(["link", "set", "lo", "up"]), "");
        test()
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn ours(tool: &str) -> Command {
    let dir = std::env::var("LVS_BIN").expect("LVS_BIN names the folder of our binaries");
    Command::new(format!("{dir}/{tool}"))
}

fn run(command: &mut Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("input written");
    child.wait_with_output().expect("the program ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The reference's `-Sn`.
fn saved() -> String {
    text(&run(Command::new(REFERENCE).arg("-Sn"), "").stdout)
}

fn reference_restore(rules: &str) {
    let output = run(Command::new(REFERENCE).arg("-R"), rules);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
#[ignore = "needs the IPVS kernel: scripts/vm-test ipvsadm-cli-kernel"]
fn json_lists_every_service_and_destination_as_the_kernel_holds_them() {
    in_new_namespace(|| {
        reference_restore(RULES);
        let output = run(ours("ipvsadm").args(["-L", "--json"]), "");
        assert!(output.status.success(), "{}", text(&output.stderr));
        let document: Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
        let services = document["services"].as_array().expect("a service list");
        assert_eq!(services.len(), 4);

        let find = |predicate: &dyn Fn(&Value) -> bool| {
            services
                .iter()
                .find(|s| predicate(s))
                .cloned()
                .expect("the service is listed")
        };
        let web = find(&|s| s["protocol"] == "tcp" && s["address"] == "10.0.0.1");
        assert_eq!(web["port"], 80);
        assert_eq!(web["scheduler"], "rr");
        assert_eq!(web["persistence"], Value::Null);
        let weights: Vec<(String, i64)> = web["destinations"]
            .as_array()
            .expect("destinations")
            .iter()
            .map(|d| {
                (
                    d["address"].as_str().unwrap_or_default().to_owned(),
                    d["weight"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        // ipvsadm's listing order, as -Ln prints them.
        assert_eq!(
            weights,
            vec![("10.0.1.1".to_owned(), 3), ("10.0.1.2".to_owned(), 1)]
        );
        assert_eq!(web["destinations"][0]["forwarding"], "masq");

        let dns = find(&|s| s["protocol"] == "udp");
        assert_eq!(dns["persistence"]["timeout"], 300);
        assert_eq!(dns["persistence"]["netmask"], "255.255.255.0");
        assert_eq!(dns["destinations"][0]["forwarding"], "route");

        let marked = find(&|s| s["fwmark"] == 7);
        assert_eq!(marked["family"], "ipv4");
        assert_eq!(marked["flags"], serde_json::json!(["sh-port"]));
        let tunnel = &marked["destinations"][0]["tunnel"];
        assert_eq!(tunnel["type"], "gue");
        assert_eq!(tunnel["port"], 6080);
        assert_eq!(tunnel["checksum"], "checksum");

        let v6 = find(&|s| s["family"] == "ipv6");
        assert_eq!(v6["address"], "2001:db8::1");
        assert_eq!(v6["destinations"][0]["weight"], 5);

        let one = run(
            ours("ipvsadm").args(["-L", "-u", "10.0.0.1:53", "--json"]),
            "",
        );
        let one: Value = serde_json::from_slice(&one.stdout).expect("valid JSON");
        assert_eq!(one["services"].as_array().map(Vec::len), Some(1));
        assert_eq!(one["services"][0]["scheduler"], "wlc");

        let timeouts = run(ours("ipvsadm").args(["-L", "--timeout", "--json"]), "");
        let timeouts: Value = serde_json::from_slice(&timeouts.stdout).expect("valid JSON");
        assert_eq!(timeouts["timeouts"]["tcp"], 900);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: scripts/vm-test ipvsadm-cli-kernel"]
fn json_of_a_missing_service_is_ipvsadms_error() {
    in_new_namespace(|| {
        let output = run(
            ours("ipvsadm").args(["-L", "-t", "10.9.9.9:80", "--json"]),
            "",
        );
        assert_eq!(output.status.code(), Some(1));
        assert!(output.stdout.is_empty());
        assert_eq!(text(&output.stderr), "No such service\n");
    });
}

#[test]
#[ignore = "needs the IPVS kernel: scripts/vm-test ipvsadm-cli-kernel"]
fn test_mode_checks_every_line_and_changes_nothing() {
    in_new_namespace(|| {
        reference_restore(RULES);
        let before = saved();

        let good = run(ours("ipvsadm-restore").arg("--test"), RULES);
        assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
        assert_eq!(saved(), before, "--test applied something");

        let bad = "-A -t 10.0.0.9:80 -s rr\n\
                   # comment\n\
                   -a -t 10.0.0.8:80 -r 10.0.1.1\n\
                   -A -t 10.0.0.9:80\n\
                   -A -t 10.0.0.7:80 -s nosuch\n";
        let output = run(ours("ipvsadm-restore").arg("--test"), bad);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(
            text(&output.stderr),
            "ipvsadm-restore: line 3: Service not defined\n\
             ipvsadm-restore: line 4: Service already exists\n\
             ipvsadm-restore: line 5: Scheduler or persistence engine not found\n\
             ipvsadm-restore: 3 of 4 commands would fail\n"
        );
        assert_eq!(saved(), before, "--test applied something");

        // The same file restored for real fails on the same lines, in the same words.
        let real = run(&mut Command::new("/usr/sbin/ipvsadm-restore"), bad);
        let reference_messages: Vec<String> =
            text(&real.stderr).lines().map(str::to_owned).collect();
        assert_eq!(
            reference_messages,
            vec![
                "Service not defined",
                "Service already exists",
                "Scheduler or persistence engine not found"
            ]
        );
    });
}

#[test]
#[ignore = "needs the IPVS kernel: scripts/vm-test ipvsadm-cli-kernel"]
fn sync_of_the_same_table_changes_nothing() {
    in_new_namespace(|| {
        reference_restore(RULES);
        let dry = run(ours("ipvsadm-restore").args(["--sync", "--dry-run"]), RULES);
        assert!(dry.status.success(), "{}", text(&dry.stderr));
        assert_eq!(
            text(&dry.stdout),
            "",
            "the kernel's table reads back as the file's"
        );
        let saved_file = saved();
        let again = run(
            ours("ipvsadm-restore").args(["--sync", "--dry-run"]),
            &saved_file,
        );
        assert_eq!(
            text(&again.stdout),
            "",
            "ipvsadm-save's output is the same table"
        );
    });
}

#[test]
#[ignore = "needs the IPVS kernel: scripts/vm-test ipvsadm-cli-kernel"]
fn sync_makes_exactly_the_changes_between_the_tables() {
    in_new_namespace(|| {
        reference_restore(RULES);
        let wanted = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3
-a -t 10.0.0.1:80 -r 10.0.1.5:8080 -m -w 1
-A -u 10.0.0.1:53 -s wlc -p 600 -M 255.255.255.0
-a -u 10.0.0.1:53 -r 10.0.1.3:53 -g -w 2
-A -t [2001:db8::1]:443 -s wrr
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 9 -x 100 -y 50
-A -t 10.0.0.2:80 -s lc
";
        let dry = run(
            ours("ipvsadm-restore").args(["--sync", "--dry-run"]),
            wanted,
        );
        assert!(dry.status.success(), "{}", text(&dry.stderr));
        assert_eq!(
            text(&dry.stdout),
            "-D -f 7\n\
             -d -t 10.0.0.1:80 -r 10.0.1.2:8080\n\
             -a -t 10.0.0.1:80 -r 10.0.1.5:8080 -m -w 1\n\
             -E -u 10.0.0.1:53 -s wlc -p 600 -M 255.255.255.0\n\
             -e -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 9 -x 100 -y 50\n\
             -A -t 10.0.0.2:80 -s lc\n"
        );

        let applied = run(ours("ipvsadm-restore").arg("--sync"), wanted);
        assert!(applied.status.success(), "{}", text(&applied.stderr));
        let after_sync = saved();

        // The reference, flushing and restoring the same file, ends with the same table.
        let reference = text(
            &run(
                Command::new("unshare").args(["-n", "sh", "-c"]).arg(format!(
                    "ip link set lo up; printf '%s' '{wanted}' | {REFERENCE} -R && {REFERENCE} -Sn"
                )),
                "",
            )
            .stdout,
        );
        assert_eq!(after_sync, reference);
        // -S leaves thresholds out; the listing shows they were set.
        let listing: Value = serde_json::from_slice(
            &run(
                ours("ipvsadm").args(["-L", "-t", "[2001:db8::1]:443", "--json"]),
                "",
            )
            .stdout,
        )
        .expect("valid JSON");
        let real = &listing["services"][0]["destinations"][0];
        assert_eq!(
            (
                &real["weight"],
                &real["upper_threshold"],
                &real["lower_threshold"]
            ),
            (&Value::from(9), &Value::from(100), &Value::from(50))
        );
    });
}

#[test]
#[ignore = "needs the IPVS kernel: scripts/vm-test ipvsadm-cli-kernel"]
fn sync_refuses_a_wrong_file_whole() {
    in_new_namespace(|| {
        reference_restore(RULES);
        let before = saved();
        let wrong = "-A -t 10.0.0.5:80\n-Z\n-a -t 10.0.0.6:80 -r 10.0.1.1\n";
        let output = run(ours("ipvsadm-restore").arg("--sync"), wrong);
        assert_eq!(output.status.code(), Some(1));
        let stderr = text(&output.stderr);
        assert!(stderr.contains("line 2: "), "{stderr}");
        assert!(stderr.contains("line 3: Service not defined"), "{stderr}");
        assert!(stderr.ends_with("nothing was changed\n"), "{stderr}");
        assert_eq!(saved(), before);
    });
}
