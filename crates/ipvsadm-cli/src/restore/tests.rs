use super::*;

fn lines(input: &str) -> Vec<Vec<String>> {
    let mut reader = RuleReader::new(input.as_bytes());
    let mut lines = Vec::new();
    while let Some(words) = reader.next_line().unwrap() {
        lines.push(words);
    }
    lines
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn words_and_lines() {
    assert_eq!(
        lines("-A -t 1.2.3.4:80\n-a\t-t 1.2.3.4:80  -r 5.6.7.8\n"),
        vec![
            words("-A -t 1.2.3.4:80"),
            words("-a -t 1.2.3.4:80 -r 5.6.7.8")
        ]
    );
}

#[test]
fn blank_lines_crlf_and_a_missing_final_newline() {
    assert_eq!(
        lines("\n  \n-C\r\n-Z"),
        vec![vec![], vec![], words("-C"), words("-Z")]
    );
}

#[test]
fn the_word_ipvsadm_is_dropped_anywhere() {
    assert_eq!(
        lines("ipvsadm -A ipvsadm -t 1.2.3.4:80\nipvsadm\n"),
        vec![words("-A -t 1.2.3.4:80"), vec![]]
    );
}

#[test]
fn trailing_blanks_at_the_end_of_input_lose_the_last_line() {
    assert_eq!(lines("-C\n-Z  "), vec![words("-C")]);
}

#[test]
fn comments_are_words() {
    assert_eq!(lines("# x\n"), vec![words("# x")]);
}
