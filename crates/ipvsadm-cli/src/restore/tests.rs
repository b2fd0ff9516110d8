use super::*;

fn lines(input: &str) -> Vec<Vec<String>> {
    let mut reader = RuleReader::new(input.as_bytes());
    let mut lines = Vec::new();
    while let Some(line) = reader.next_line().unwrap() {
        lines.push(line.words.iter().map(|word| (*word).to_owned()).collect());
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

/// ipvsadm's `config_stream_read`, one byte at a time, as the reference for the reader.
fn reference_lines(input: &[u8]) -> Vec<Vec<String>> {
    let mut lines = Vec::new();
    let mut at = 0;
    loop {
        let mut words: Vec<String> = Vec::new();
        let line = loop {
            let Some(&first) = input.get(at) else {
                break (!words.is_empty()).then_some(words);
            };
            if is_separator(first) {
                let mut ended = None;
                loop {
                    match input.get(at) {
                        None => {
                            ended = Some(None);
                            break;
                        }
                        Some(b'\n') => {
                            at += 1;
                            ended = Some(Some(std::mem::take(&mut words)));
                            break;
                        }
                        Some(b' ' | b'\t' | b'\r') => at += 1,
                        Some(_) => break,
                    }
                }
                match ended {
                    Some(line) => break line,
                    None => continue,
                }
            }
            let start = at;
            while at - start < MAX_WORD && input.get(at).is_some_and(|&b| !is_separator(b)) {
                at += 1;
            }
            let word = String::from_utf8_lossy(&input[start..at]).into_owned();
            if word != "ipvsadm" {
                words.push(word);
            }
            if let Some(&separator) = input.get(at).filter(|&&b| is_separator(b)) {
                at += 1;
                if separator == b'\n' {
                    break Some(words);
                }
            }
        };
        match line {
            Some(words) => lines.push(words),
            None => return lines,
        }
    }
}

fn lines_through(input: &[u8], capacity: usize) -> Vec<Vec<String>> {
    let mut reader = RuleReader::new(io::BufReader::with_capacity(capacity, input));
    let mut lines = Vec::new();
    while let Some(line) = reader.next_line().unwrap() {
        lines.push(line.words.iter().map(|word| (*word).to_owned()).collect());
    }
    lines
}

/// Random input of separators, words, `ipvsadm`, long words and broken UTF-8, read through
/// buffers of many sizes, gives the reference's lines.
#[test]
fn the_reader_reads_as_ipvsadm_reads_whatever_the_buffer() {
    let pieces: &[&[u8]] = &[
        b" ",
        b"\t",
        b"\r",
        b"\n",
        b"\r\n",
        b"-A",
        b"-t",
        b"10.0.0.1:80",
        b"ipvsadm",
        b"ipvsad",
        b"\xc3\xa9",
        b"\xc3",
        b"\xa9",
        b"\xff",
        b"x",
    ];
    let long_word = vec![b'w'; MAX_WORD - 2];
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..1000 {
        let mut input = Vec::new();
        for _ in 0..rng.usize(0..40) {
            if rng.usize(0..50) == 0 {
                input.extend_from_slice(&long_word);
            } else {
                input.extend_from_slice(pieces[rng.usize(0..pieces.len())]);
            }
        }
        let expected = reference_lines(&input);
        for capacity in [1, 2, 3, 7, 64, 1 << 16] {
            assert_eq!(
                lines_through(&input, capacity),
                expected,
                "round {round}, buffer of {capacity}: {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn words_longer_than_ipvsadm_reads_at_once_are_split() {
    let mut input = vec![b'a'; MAX_WORD + 5];
    input.extend_from_slice(b" b\n");
    let lines = lines_through(&input, 100);
    assert_eq!(lines.len(), 1);
    let lengths: Vec<usize> = lines[0].iter().map(String::len).collect();
    assert_eq!(lengths, vec![MAX_WORD, 5, 1]);
}

#[test]
fn line_numbers_count_every_line() {
    let mut reader = RuleReader::new(&b"-C\n\n  \n-Z\n"[..]);
    let mut numbers = Vec::new();
    while let Some(line) = reader.next_line().unwrap() {
        if !line.words.is_empty() {
            numbers.push(line.number);
        }
    }
    assert_eq!(numbers, vec![1, 4]);
}
