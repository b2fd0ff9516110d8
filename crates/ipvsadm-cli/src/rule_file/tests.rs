use std::net::IpAddr;

use ipvs::model::ForwardingMethod;

use super::*;

fn checked(text: &str, purpose: Purpose) -> CheckedFile {
    check(text.as_bytes(), "ipvsadm", purpose)
}

fn errors(text: &str, purpose: Purpose) -> Vec<(usize, String)> {
    checked(text, purpose)
        .errors
        .into_iter()
        .map(|error| (error.line, error.message))
        .collect()
}

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn a_saved_table_reads_back_as_its_services_and_destinations() {
    let file = checked(
        "# saved by ipvsadm-save\n\
         -A -t 10.0.0.1:80 -s rr\n\
         -a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3\n\
         -a -t 10.0.0.1:80 -r 10.0.0.3:8080 -m -w 1\n\
         -A -f 7 -s wlc -p 300\n",
        Purpose::Table,
    );
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.commands, 4);
    assert_eq!(file.table.len(), 2);
    let web = &file.table[0];
    assert_eq!(web.service.scheduler, "rr");
    assert_eq!(
        web.destinations
            .iter()
            .map(|d| (d.address, d.port, d.weight, d.forwarding))
            .collect::<Vec<_>>(),
        vec![
            (addr("10.0.0.2"), 8080, 3, ForwardingMethod::Masquerade),
            (addr("10.0.0.3"), 8080, 1, ForwardingMethod::Masquerade),
        ]
    );
    assert!(file.table[1].service.is_persistent());
    assert_eq!(file.table[1].service.timeout, 300);
}

#[test]
fn kernel_refusals_are_named_by_line_in_ipvsadm_words() {
    let text = "-A -t 10.0.0.1:80\n\
                # a comment still counts as a line\n\
                -A -t 10.0.0.1:80\n\
                -a -t 10.0.0.9:80 -r 10.0.0.2\n\
                -a -t 10.0.0.1:80 -r 10.0.0.2\n\
                -a -t 10.0.0.1:80 -r 10.0.0.2\n\
                -e -t 10.0.0.1:80 -r 10.0.0.3\n\
                -d -t 10.0.0.1:80 -r 10.0.0.3\n\
                -E -t 10.0.0.5:80\n\
                -D -t 10.0.0.5:80\n\
                -a -t 10.0.0.1:80 -r 10.0.0.4 -x 5 -y 10\n\
                -Z -t 10.0.0.5:80\n\
                --stop-daemon master\n";
    assert_eq!(
        errors(text, Purpose::Restore),
        vec![
            (3, "Service already exists".to_owned()),
            (4, "Service not defined".to_owned()),
            (6, "Destination already exists".to_owned()),
            (7, "No such destination".to_owned()),
            (8, "No such destination".to_owned()),
            (9, "No such service".to_owned()),
            (10, "No such service".to_owned()),
            (11, "Numerical result out of range".to_owned()),
            (12, "No such service".to_owned()),
            (13, "No daemon is running".to_owned()),
        ]
    );
}

#[test]
fn command_line_errors_are_those_of_ipvsadm() {
    let found = errors(
        "-A -t 10.0.0.1:80 -s rr -x 3\n-A\n-h\n-R\n",
        Purpose::Restore,
    );
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(
        found[0],
        (
            1,
            "Illegal 'u-threshold' option with the 'add-service' command".to_owned()
        )
    );
    assert_eq!(found[1].0, 2);
    assert!(found[1].1.contains("service-address"), "{}", found[1].1);
    assert_eq!(found[2].0, 3);
    assert!(found[2].1.contains("help"));
    assert_eq!(found[3].0, 4);
}

#[test]
fn the_file_is_carried_out_in_order() {
    let file = checked(
        "-A -t 10.0.0.1:80\n\
         -a -t 10.0.0.1:80 -r 10.0.0.2\n\
         -D -t 10.0.0.1:80\n\
         -A -t 10.0.0.1:80 -s sh\n\
         -A -t 10.0.0.2:80\n\
         -C\n\
         -A -t 10.0.0.3:80\n\
         -a -t 10.0.0.3:80 -r 10.0.0.2 -w 1\n\
         -e -t 10.0.0.3:80 -r 10.0.0.2 -w 7\n",
        Purpose::Table,
    );
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.table.len(), 1);
    assert_eq!(file.table[0].destinations[0].weight, 7);
}

#[test]
fn a_table_for_sync_holds_services_and_destinations_only() {
    let found = errors(
        "-A -t 10.0.0.1:80\n-Z\n--set 1 2 3\n-L -n\n--start-daemon master\n",
        Purpose::Table,
    );
    assert_eq!(
        found.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
    assert!(found[0].1.contains("zero"), "{}", found[0].1);
    assert!(errors("-Z\n--set 1 2 3\n-L -n\n", Purpose::Restore).is_empty());
}

#[test]
fn mixed_families_need_a_tunnel_and_no_sync_daemon() {
    let text = "-A -t 10.0.0.1:80\n\
                -a -t 10.0.0.1:80 -r [2001:db8::1]:80 -i\n\
                --start-daemon master\n\
                -a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i\n";
    let found = errors(text, Purpose::Restore);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 4);
    assert!(
        found[0].1.starts_with("Invalid operation."),
        "{}",
        found[0].1
    );
}

#[test]
fn comment_lines_keep_numbering_even_without_a_final_newline() {
    assert_eq!(
        without_comment_lines_kept_numbered(b"#a\n-A -t 1.2.3.4:80\n#b"),
        b"\n-A -t 1.2.3.4:80\n".to_vec()
    );
}
