//! ipvsadm, ipvsadm-save and ipvsadm-restore: argument parsing, listings and rule files, byte-compatible with ipvsadm 1.31.
