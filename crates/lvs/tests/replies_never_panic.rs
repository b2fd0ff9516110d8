//! What a real server sends back is judged without ever panicking: each checker's verdict on a
//! reply is given random bytes, and good replies cut short, grown, and with bytes flipped. A
//! reply is the one input a remote machine controls, so none of it may stop the checker process.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use keepalived_config::model::lvs::{UdpCheck, UrlCheck};
use lvs::{dns, http, ping, smtp, udp};

/// Random inputs per verdict.
const ROUNDS: usize = 4000;

/// Random bytes, mostly short (where a length check would be off by one), sometimes long.
fn random_bytes(rng: &mut fastrand::Rng) -> Vec<u8> {
    let length = if rng.u8(..) < 200 {
        rng.usize(..40)
    } else {
        rng.usize(..3000)
    };
    (0..length).map(|_| rng.u8(..)).collect()
}

/// `good` changed at random: cut, grown, or some of its bytes replaced.
fn damaged(rng: &mut fastrand::Rng, good: &[u8]) -> Vec<u8> {
    let mut bytes = good.to_vec();
    match rng.u8(..3) {
        0 => bytes.truncate(rng.usize(..=good.len())),
        1 => bytes.extend((0..rng.usize(..64)).map(|_| rng.u8(..))),
        _ => {
            for _ in 0..rng.usize(1..4) {
                if !bytes.is_empty() {
                    let at = rng.usize(..bytes.len());
                    bytes[at] = rng.u8(..);
                }
            }
        }
    }
    bytes
}

/// Random inputs and damaged copies of each of `good`.
fn inputs(seed: u64, good: &[&[u8]]) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let good: Vec<Vec<u8>> = good.iter().map(|reply| reply.to_vec()).collect();
    (0..ROUNDS).map(move |round| {
        if round % 2 == 0 || good.is_empty() {
            random_bytes(&mut rng)
        } else {
            let reply = &good[rng.usize(..good.len())];
            damaged(&mut rng, reply)
        }
    })
}

#[test]
fn a_dns_answer_is_good_only_when_it_answers_the_query_without_error() {
    let id = 0x1234;
    let mut query = dns::query(id, "checker.test", dns::type_code("A"));
    query[2] |= 0x80;
    let mut good = 0;
    for reply in inputs(1, &[&query]) {
        let answer = dns::judge(id, &reply);
        if answer == dns::Answer::Good {
            assert_eq!(reply[..2], id.to_be_bytes(), "{reply:?}");
            assert_ne!(reply[2] & 0x80, 0, "{reply:?}");
            assert_eq!(reply[3] & 0x0f, 0, "{reply:?}");
            good += 1;
        }
    }
    assert!(
        good > 0,
        "no input was a good answer: the test judged only failures"
    );
}

#[test]
fn an_http_response_passes_only_with_an_accepted_status() {
    let url = UrlCheck {
        digest: Some(http::md5_hex(b"hello")),
        status_codes: vec![(200, 204)],
        ..UrlCheck::new("/")
    };
    // Offsets that a short body does not reach.
    let regex = http::BodyRegex::compile(&UrlCheck {
        regex: Some("h.l+o".to_string()),
        regex_min_offset: Some(1),
        regex_max_offset: Some(40),
        ..url.clone()
    });
    let good: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.0 204 No Content\n\nhello",
    ];
    let mut passed = 0;
    for response in inputs(2, good) {
        let body = http::body(&response);
        assert!(body.len() <= response.len());
        for verdict in [
            http::judge(&url, None, &response),
            http::judge(&url, regex.body_regex.as_ref(), &response),
        ] {
            if verdict.is_ok() {
                let code = http::status_code(&response);
                assert!(matches!(code, Some(200..=204)), "{code:?} passed");
                assert_eq!(body, b"hello");
                passed += 1;
            }
        }
    }
    assert!(
        passed > 0,
        "no response passed: the test judged only failures"
    );
}

#[test]
fn an_smtp_conversation_ends_or_asks_for_more_on_any_bytes() {
    let good: &[&[u8]] = &[
        b"220 rs1.test ESMTP\r\n",
        b"250 rs1.test\r\n",
        b"221 bye\r\n",
    ];
    let mut rng = fastrand::Rng::with_seed(3);
    let mut replies = inputs(4, good);
    let mut successes = 0;
    for _ in 0..ROUNDS / 8 {
        let mut conversation = smtp::Conversation::new(Some("checker.test"));
        // A conversation is at most three lines; feed it pieces until it ends or they run out.
        for _ in 0..8 {
            let Some(piece) = replies.next() else { break };
            match conversation.received(&piece) {
                smtp::Action::Read | smtp::Action::Send(_) => {}
                smtp::Action::Success => {
                    successes += 1;
                    break;
                }
                smtp::Action::Failure(_) => break,
            }
            if rng.bool() {
                let _ = conversation.closed();
            }
        }
    }
    // Among the damaged good lines, runs of 220, 250 and a last line come up often enough.
    assert!(
        successes > 0,
        "no conversation succeeded: the test judged only failures"
    );
}

#[test]
fn a_udp_reply_is_judged_against_its_mask_whatever_its_length() {
    let check = UdpCheck {
        payload: None,
        require_reply: Some((b"OK\x00\x00".to_vec(), vec![0xff, 0xff, 0x00, 0xff])),
        min_reply_length: 2,
        max_reply_length: 64,
    };
    let mut passed = 0;
    for reply in inputs(5, &[b"OK\x07\x00"]) {
        if udp::reply_ok(&check, &reply) {
            assert!((2..=64).contains(&reply.len()), "{reply:?}");
            passed += 1;
        }
    }
    assert!(passed > 0, "no reply passed: the test judged only failures");
}

#[test]
fn an_icmp_message_is_an_answer_only_from_the_destination_with_the_sequence() {
    let destinations = [
        IpAddr::V4(Ipv4Addr::new(10, 0, 2, 30)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 30)),
    ];
    for (seed, destination) in (6..).zip(destinations) {
        let mut reply = ping::echo_request(destination, 7);
        reply[0] = if destination.is_ipv4() { 0 } else { 129 };
        let mut answers = 0;
        for datagram in inputs(seed, &[&reply]) {
            for source in destinations {
                if ping::judge(destination, 7, source, &datagram) == ping::Reply::Answer {
                    assert_eq!(source, destination);
                    assert_eq!(datagram[6..8], 7u16.to_be_bytes(), "{datagram:?}");
                    answers += 1;
                }
            }
        }
        assert!(answers > 0, "no datagram answered {destination}");
    }
}
