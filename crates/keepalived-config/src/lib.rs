//! keepalived.conf: lexer, grammar and typed model, with keepalived 2.2.7's verdicts.
