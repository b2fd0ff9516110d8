# shellcheck shell=bash
# The benchmark, inside the VM: Debian's ipvsadm 1.31 and ours on the same kernel, the same rule file,
# the same table. Run by the VM's /init (plan line "bench FILE"), output on the results port:
#   bench: ...                          progress
#   RESULT OPERATION REF_US OURS_US     median wall-clock times in microseconds (for the library,
#                                       ours is timed inside the program, REF is the reference's
#                                       ipvsadm-restore or ipvsadm -Sn)
#   SAMPLES OPERATION TOOL US...        every repetition
#   BASELINE OPERATION BASE_US OURS_US  with a baseline build: its median and ours
#   SAME WHAT | DIFFERS WHAT            byte comparisons, a DIFFERS followed by "    | " detail lines
#   STRACE TOOL OPERATION               then "    | " lines of `strace -c -f` (with --strace only)
# Exits non-zero when a command fails or an output differs.
#
# Settings come from $BENCH_DIR/settings: REPS, STRACE, BASELINE (an earlier build's tools in
# /opt/lvs/baseline, timed too), RESTORES_ONLY (0 or 1 each).
set -uo pipefail

BENCH_DIR=/opt/lvs/bench
RULES=$BENCH_DIR/rules
# shellcheck source=/dev/null
. "$BENCH_DIR/settings"

REF=/usr/sbin
OURS=$LVS_BIN
BASE=/opt/lvs/baseline
TOOLS=(ref ours)
[ "${BASELINE:-0}" = 1 ] && TOOLS+=(base)
WORK=/tmp/bench
mkdir -p "$WORK"
FAILED=0

say() { printf 'bench: %s\n' "$*"; }

# Where any failed step leaves the reason.
broken() {
  printf 'BROKEN %s\n' "$1"
  [ -s "$WORK/stderr" ] && sed 's/^/    | /' "$WORK/stderr" | head -n 20
  FAILED=1
}

flush() { "$REF/ipvsadm" -C || broken "ipvsadm -C failed"; }

# Restores run in a new network namespace each: an empty table, and an empty list of deleted
# destinations. The kernel keeps deleted destinations for two minutes and searches that list
# linearly on every add, so a restore right after a flush of the same size costs the kernel
# time quadratic in the table, the same for both tools, hiding what the tools cost.
NAMESPACE=bench-table
IN_NAMESPACE=(ip netns exec "$NAMESPACE")
fresh_namespace() {
  if [ -e "/run/netns/$NAMESPACE" ]; then
    ip netns del "$NAMESPACE" || broken "ip netns del failed"
    # Let the kernel's clean-up of the old table finish before anything is timed.
    sleep 2
  fi
  ip netns add "$NAMESPACE" || broken "ip netns add failed"
  # The kernel checks destination addresses against the local routes, which come with lo.
  ip -n "$NAMESPACE" link set lo up || broken "ip link set lo up failed"
}

# timed INPUT OUTPUT COMMAND...: runs COMMAND once; sets US to its wall-clock time in microseconds.
# The command must succeed.
US=0
timed() {
  local input=$1 output=$2 start end status
  shift 2
  start=$EPOCHREALTIME
  "$@" <"$input" >"$output" 2>"$WORK/stderr"
  status=$?
  end=$EPOCHREALTIME
  US=$((${end/./} - ${start/./}))
  if [ "$status" -ne 0 ] || [ -s "$WORK/stderr" ]; then
    broken "\`$*\` exited with status $status"
    return 1
  fi
}

# timed_in_namespace INPUT OUTPUT COMMAND...: `timed` for a command run in the bench's namespace, with
# the clock read in there, right around the command: neither tool is charged with `ip netns exec`.
timed_in_namespace() {
  local input=$1 output=$2 times status start end
  shift 2
  # shellcheck disable=SC2016 # expanded by the inner shell
  times=$("${IN_NAMESPACE[@]}" bash -c 'start=$EPOCHREALTIME; "${@:4}" <"$1" >"$2" 2>"$3"; status=$?
    end=$EPOCHREALTIME; echo "$status ${start/./} ${end/./}"' _ "$input" "$output" "$WORK/stderr" "$@")
  read -r status start end <<<"$times"
  US=$((${end:-0} - ${start:-0}))
  if [ "${status:-1}" -ne 0 ] || [ -s "$WORK/stderr" ]; then
    broken "\`$*\` exited with status ${status:-unknown}"
    return 1
  fi
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The reference's median time of each operation measured, for the library's comparisons.
declare -A REFERENCE_MEDIANS=()

# measure OPERATION PREPARE INPUT ARGS...: REPS runs of "$REF/ARGS" and of "$OURS/ARGS", alternating
# so that both see the same conditions; PREPARE runs before each (untimed). With PREPARE
# fresh_namespace, the runs are in that namespace, timed inside it (timed_in_namespace).
measure() {
  local operation=$1 prepare=$2 input=$3 rep tool
  local timer=timed
  [ "$prepare" = fresh_namespace ] && timer=timed_in_namespace
  shift 3
  local -a ref_us=() ours_us=() base_us=()
  for ((rep = 1; rep <= REPS; rep++)); do
    for tool in "${TOOLS[@]}"; do
      $prepare
      local dir=$REF
      [ "$tool" = ours ] && dir=$OURS
      [ "$tool" = base ] && dir=$BASE
      $timer "$input" /dev/null "$dir/$1" "${@:2}" || return 1
      case $tool in
        ref) ref_us+=("$US") ;;
        ours) ours_us+=("$US") ;;
        base) base_us+=("$US") ;;
      esac
    done
    say "$operation: repetition $rep: reference $((ref_us[-1] / 1000)) ms, ours $((ours_us[-1] / 1000)) ms${base_us[*]:+, baseline $((base_us[-1] / 1000)) ms}"
  done
  echo "SAMPLES $operation ref ${ref_us[*]}"
  echo "SAMPLES $operation ours ${ours_us[*]}"
  REFERENCE_MEDIANS[$operation]=$(median "${ref_us[@]}")
  echo "RESULT $operation ${REFERENCE_MEDIANS[$operation]} $(median "${ours_us[@]}")"
  if [ "${#base_us[@]}" -gt 0 ]; then
    echo "SAMPLES $operation base ${base_us[*]}"
    echo "BASELINE $operation $(median "${base_us[@]}") $(median "${ours_us[@]}")"
  fi
}

# compare WHAT EXPECTED_FILE ACTUAL_FILE
compare() {
  if cmp -s "$2" "$3"; then
    echo "SAME $1"
  else
    echo "DIFFERS $1"
    diff "$2" "$3" | head -n 20 | sed 's/^/    | /'
    FAILED=1
  fi
}

# restored_by TOOL COMMAND...: restore the rules with COMMAND into an empty table, then check with the
# reference's save that the kernel holds exactly the rule file.
restored_by() {
  local tool=$1
  shift
  flush
  timed "$RULES" /dev/null "$@" || return 1
  timed /dev/null "$WORK/saved" "$REF/ipvsadm" -Sn || return 1
  compare "table restored by $tool -R equals the rule file" "$RULES" "$WORK/saved"
}

# profile OPERATION PREPARE INPUT ARGS...: one run of each tool under `strace -c -f`.
profile() {
  local operation=$1 prepare=$2 input=$3 tool dir
  shift 3
  for tool in ref ours; do
    dir=$REF
    [ "$tool" = ours ] && dir=$OURS
    $prepare
    strace -c -f -o "$WORK/strace" "$dir/$1" "${@:2}" <"$input" >/dev/null 2>"$WORK/stderr" ||
      broken "strace of $tool $operation failed"
    echo "STRACE $tool $operation"
    sed 's/^/    | /' "$WORK/strace"
  done
}

services=$(grep -c '^-A' "$RULES")
say "kernel $(uname -r), $(grep -c . "$RULES") rules ($services services), $REPS repetitions"
modprobe ip_vs || { broken "modprobe ip_vs failed"; exit 1; }

# The rule file is what ipvsadm-save -n prints: restoring it with either tool must reproduce it.
restored_by reference "$REF/ipvsadm" -R
restored_by ours "$OURS/ipvsadm" -R
[ "$FAILED" -eq 0 ] || exit 1

# Identical output of every listing on the big table.
timed /dev/null "$WORK/ref-Ln" "$REF/ipvsadm" -Ln
timed /dev/null "$WORK/ours-Ln" "$OURS/ipvsadm" -Ln
compare "ipvsadm -Ln" "$WORK/ref-Ln" "$WORK/ours-Ln"
timed /dev/null "$WORK/ref-Sn" "$REF/ipvsadm" -Sn
timed /dev/null "$WORK/ours-Sn" "$OURS/ipvsadm" -Sn
compare "ipvsadm -Sn" "$WORK/ref-Sn" "$WORK/ours-Sn"
timed /dev/null "$WORK/ref-save" "$REF/ipvsadm-save" -n
timed /dev/null "$WORK/ours-save" "$OURS/ipvsadm-save" -n
compare "ipvsadm-save -n" "$WORK/ref-save" "$WORK/ours-save"
[ "$FAILED" -eq 0 ] || exit 1

if [ "$STRACE" = 1 ]; then
  profile "ipvsadm -Ln" : /dev/null ipvsadm -Ln
  profile "ipvsadm -R" flush "$RULES" ipvsadm -R
  exit "$FAILED"
fi

if [ "${RESTORES_ONLY:-0}" != 1 ]; then
  measure "ipvsadm -Ln" : /dev/null ipvsadm -Ln || exit 1
  measure "ipvsadm -Sn" : /dev/null ipvsadm -Sn || exit 1
  measure "ipvsadm-save -n" : /dev/null ipvsadm-save -n || exit 1
fi
# IPVS hashes the services of every namespace into one table (256 buckets in 6.1): the listings'
# 10,000 services, left in the root namespace, would lengthen every service lookup of the restores.
flush
measure "ipvsadm -R" fresh_namespace "$RULES" ipvsadm -R || exit 1
measure "ipvsadm-restore" fresh_namespace "$RULES" ipvsadm-restore || exit 1

# The library: the same table programmed in batches and read back whole, timed inside the
# program (without its start-up), against the reference's ipvsadm-restore and ipvsadm -Sn.
library_us() { awk -v step="$1" '$1 == step { print $2 * 1000 }' "$WORK/library"; }
program_us=() read_us=()
for ((rep = 1; rep <= REPS; rep++)); do
  fresh_namespace
  if ! "${IN_NAMESPACE[@]}" "$BENCH_DIR/program_table" "$services" >"$WORK/library" 2>"$WORK/stderr"; then
    broken "the library example failed"
    exit 1
  fi
  program_us+=("$(library_us program)")
  read_us+=("$(library_us read)")
  say "library: repetition $rep: program $((program_us[-1] / 1000)) ms, read $((read_us[-1] / 1000)) ms"
done
echo "SAMPLES library program ours ${program_us[*]}"
echo "SAMPLES library read ours ${read_us[*]}"
echo "RESULT library program $(median "${REFERENCE_MEDIANS[ipvsadm-restore]}") $(median "${program_us[@]}")"
[ "${RESTORES_ONLY:-0}" = 1 ] ||
  echo "RESULT library read $(median "${REFERENCE_MEDIANS[ipvsadm -Sn]}") $(median "${read_us[@]}")"
exit "$FAILED"
