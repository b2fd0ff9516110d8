# Our ipvsadm, ipvsadm-save and ipvsadm-restore against Debian's, on the same kernel.
#
# Every case of testdata/ipvsadm/*.cases (and of the generated matrix) runs twice, each time in a
# fresh network namespace, once with the reference tools and once with ours; each step's stdout,
# stderr and exit status must be identical. A case is:
#
#   case NAME
#   STEP          (a bash command line; ipvsadm, ipvsadm-save, ipvsadm-restore are the tools)
#   ...
# vm-timeout: 1500
. "$SUITES/lib.sh"

CASES_DIR=$TESTDATA/ipvsadm
WORK=/tmp/ipvsadm-differential
mkdir -p "$WORK"
modprobe ip_vs
# Names the cases resolve.
cat >>/etc/hosts <<'HOSTS'
10.0.0.1	web.example.test web
10.0.0.2	real1.example.test
10.0.0.3	real2.example.test
192.0.2.10	a-rather-long-host-name-for-the-listing.example.test
2001:db8::1	v6web.example.test
HOSTS

# Each case becomes a script of its steps; each tool runs all of them, every case in a fresh
# network namespace, into one transcript per output stream, and one awk pass compares the
# transcripts case by case. (A process per check would take too long under TCG.)
CASE_LIST=$WORK/cases.list
: >"$CASE_LIST"
mkdir -p "$WORK/cases"

# add_case NAME STEPS...: writes the case's script. Tools are found through PATH, so they see
# the argv[0] a user's shell gives them; busybox sh starts much faster than bash under TCG.
add_case() {
  local name=$1 n=0 step
  shift
  {
    echo 'exec </dev/null'
    case "$*" in *daemon*) echo 'ip link set lo up' ;; esac
    for step in "$@"; do
      n=$((n + 1))
      printf 'echo %q; echo %q >&2\n' "## step $n: $step" "## step $n: $step"
      printf '{ %s\n}; echo "## exit status $?"\n' "$step"
    done
  } >"$WORK/cases/$name.sh"
  printf '%s\n' "$name" >>"$CASE_LIST"
}

# read_cases FILE: the cases of a case file ("case NAME" then its steps).
read_cases() {
  local name= line steps=()
  while IFS= read -r line; do
    case $line in
      '' | '#'*) continue ;;
      'case '*)
        [ -n "$name" ] && add_case "$name" "${steps[@]}"
        name=${line#case }
        steps=()
        ;;
      *) steps+=("$line") ;;
    esac
  done <"$1"
  [ -n "$name" ] && add_case "$name" "${steps[@]}"
}

# run_all TOOLS_DIR PREFIX: every case with these tools, in a scratch folder of their own;
# PREFIX.out and PREFIX.err.
run_all() {
  local name
  mkdir -p "$2.scratch"
  cd "$2.scratch" || return
  while IFS= read -r name; do
    echo "#### case $name"
    echo "#### case $name" >&2
    PATH=$1:$PATH unshare -n /bin/busybox sh "$WORK/cases/$name.sh"
  done <"$CASE_LIST" >"$2.out" 2>"$2.err"
  cd "$WORK" || return
}

for cases in "$CASES_DIR"/*.cases; do
  read_cases "$cases"
done
bash "$CASES_DIR/matrix.sh" >"$WORK/matrix.cases"
read_cases "$WORK/matrix.cases"

run_all /usr/sbin "$WORK/ref"
run_all "$LVS_BIN" "$WORK/our"

# One pass over the four transcripts: PASS for each case whose stdout and stderr agree, and for
# the others their blocks in files for diff.
mkdir -p "$WORK/differs"
awk -v differs="$WORK/differs" -v suite="$SUITE" '
  FNR == 1 { stream = FILENAME; sub(/.*\//, "", stream) }
  /^#### case / { name = substr($0, 11); if (!(name in order)) { order[name] = ++count; names[count] = name }; next }
  { text[stream, name] = text[stream, name] $0 "\n" }
  END {
    for (i = 1; i <= count; i++) {
      n = names[i]
      if (text["ref.out", n] == text["our.out", n] && text["ref.err", n] == text["our.err", n]) {
        print "PASS " suite "/" n
      } else {
        print n > (differs "/list")
        printf "%s", text["ref.out", n] text["ref.err", n] > (differs "/" n ".ref")
        printf "%s", text["our.out", n] text["our.err", n] > (differs "/" n ".our")
      }
    }
  }' "$WORK/ref.out" "$WORK/our.out" "$WORK/ref.err" "$WORK/our.err" >"$RESULTS"

if [ -f "$WORK/differs/list" ]; then
  while IFS= read -r name; do
    fail "$name" "differs from the reference (- reference, + ours; stdout, then stderr)" \
      "$(diff -u "$WORK/differs/$name.ref" "$WORK/differs/$name.our" | tail -n +3 | head -n 60)"
  done <"$WORK/differs/list"
fi
