#!/usr/bin/env bash
# Fault injection into configs: every key of configs/paper.toml and configs/demo.toml (and the
# README-documented keys those files lack, listed below) gets a value of the wrong type and, where
# a range means something, an out-of-range value; every section gets an unknown key, and unknown
# sections are added. Each case is one real run of `cfma config check` on a temporary copy of a
# shipped config, edited in place (a few also through --set), and must fail with exit status
# non-zero and exactly one line starting with `cfma: error:`, which names the file (with the
# key's line, or "(--set)") and the key as section.key (list elements as section.key[i]).
#   bash tests/faults/config_fuzz.sh BUILD_DIR SHARED_DIR [SOURCE_DIR]
# SHARED_DIR is not used (the faults scripts' common signature); SOURCE_DIR defaults to the
# checkout holding this script.
set -euo pipefail
build=$(realpath "$1")
source_dir=$(realpath "${3:-$(dirname "${BASH_SOURCE[0]}")/../..}")
cfma=$build/cfma
scratch=$build/test-scratch/faults-config_fuzz
rm -rf "$scratch" && mkdir -p "$scratch"
start=$SECONDS
[[ -x $cfma ]] || { echo "FAILED: no cfma binary at $cfma"; exit 1; }

# `config check` is a single process: an isolated MPI singleton (no orted, no network transports)
# starts in about half the time (~0.5 s of CPU per run, most of it libtorch's and the dynamic
# loader's start-up), which keeps the ~120 runs below at ~30 s on 2 idle cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_btl=self OMPI_MCA_pml=ob1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
jobs=$(nproc 2>/dev/null || echo 2)
(( jobs < 2 )) && jobs=2
(( jobs > 8 )) && jobs=8

declare -A base_file=(
  [demo]=$source_dir/configs/demo.toml
  [paper]=$source_dir/configs/paper.toml
  [minimal]=$scratch/minimal.toml  # for keys that a shipped config's other keys interfere with
)
printf '[run]\nname = "fuzz"\n' > "${base_file[minimal]}"

# --- TOML lines -> "section<TAB>key<TAB>first line<TAB>last line<TAB>value"; a [section]
# header gives key and value "[". Comments (outside strings) and blank lines are dropped; a value
# (an array) may span lines. Any other line is an error: the enumeration must not miss keys.
read -r -d '' parse_awk <<'AWK' || true
function strip(s,   out, i, c, q) {
  out = ""; q = 0
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\"" && substr(s, i - 1, 1) != "\\") q = !q
    if (c == "#" && !q) break
    out = out c
  }
  sub(/^[ \t]+/, "", out); sub(/[ \t]+$/, "", out)
  return out
}
function depth(s,   i, c, q, d) {
  d = 0; q = 0
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\"") q = !q
    else if (!q && c == "[") d++
    else if (!q && c == "]") d--
  }
  return d
}
{
  line = strip($0)
  if (open) {
    value = value " " line
    if (depth(value) <= 0) { open = 0; print section "\t" key "\t" first "\t" NR "\t" value }
    next
  }
  if (line == "") next
  if (line ~ /^\[[^\[\]]+\]$/) {
    section = substr(line, 2, length(line) - 2); gsub(/[ \t]/, "", section)
    print section "\t[\t" NR "\t" NR "\t["; next
  }
  if (match(line, /^[A-Za-z0-9_-]+[ \t]*=/)) {
    key = substr(line, 1, RLENGTH - 1); sub(/[ \t]+$/, "", key)
    value = substr(line, RLENGTH + 1); sub(/^[ \t]+/, "", value)
    first = NR
    if (depth(value) > 0) { open = 1; next }
    print section "\t" key "\t" first "\t" NR "\t" value
    next
  }
  printf "unparsed line %d: %s\n", NR, $0 > "/dev/stderr"; exit 2
}
AWK

# Writes OUT = BASE with KEY (section.leaf) = VALUE: the key's line(s) replaced where BASE has
# it, else a line inserted under its [section] header, else the section appended. Prints the
# line the key is on in OUT.
edit_config() {  # base-file key value out
  local base=$1 key=$2 value=$3 out=$4
  awk -F'\t' -v section="${key%.*}" -v leaf="${key##*.}" -v value="$value" -v out="$out" '
    FNR == NR { if ($1 == section && $2 == leaf) { first = $3; last = $4 }
                if ($1 == section && $2 == "[") header = $3
                next }
    { lines[FNR] = $0; n = FNR }
    END {
      m = 0
      for (i = 1; i <= n; i++) {
        if (first && i >= first && i <= last) {
          if (i == first) { print leaf " = " value > out; at = ++m }
          continue
        }
        print lines[i] > out; m++
        if (!first && header && i == header) { print leaf " = " value > out; at = ++m }
      }
      if (!first && !header) {
        print "" > out; print "[" section "]" > out; print leaf " = " value > out; at = m + 3
      }
      print at
    }' <(awk -f <(printf '%s\n' "$parse_awk") "$base") "$base"
}

# --- 1. Enumerate the keys of the shipped configs.
declare -A value_of=() in_demo=() in_paper=() section_in=()
keys=() sections=()
for name in demo paper; do
  awk -f <(printf '%s\n' "$parse_awk") "${base_file[$name]}" > "$scratch/$name.keys.tsv" ||
    { echo "FAILED: cannot enumerate the keys of ${base_file[$name]}"; exit 1; }
  while IFS=$'\t' read -r section key _ _ value; do
    if [[ $key == "[" ]]; then
      [[ -v section_in[$section] ]] || sections+=("$section")
      section_in[$section]+=" $name"
      continue
    fi
    full=$section.$key
    [[ -v value_of[$full] ]] || keys+=("$full")
    value_of[$full]=$value
    if [[ $name == demo ]]; then in_demo[$full]=1; else in_paper[$full]=1; fi
  done < "$scratch/$name.keys.tsv"
done
(( ${#keys[@]} >= 40 )) || { echo "FAILED: only ${#keys[@]} keys enumerated"; exit 1; }

# The shipped config a key is tested in: the one that has it, alternating between the two for
# keys both have, so that line numbers of both files are checked.
turn=0
pick_base() {  # key -> sets $base to demo|paper
  if [[ -v in_demo[$1] && -v in_paper[$1] ]]; then
    turn=$((1 - turn)); if (( turn )); then base=demo; else base=paper; fi
  elif [[ -v in_paper[$1] ]]; then base=paper
  else base=demo
  fi
}

kind_of() {  # TOML value -> string|bool|int|float|strings|ints|floats|empty
  case $1 in
    \"\"\"* | \'* | \{*) echo unsupported ;;  # multi-line and literal strings, inline tables
    \"*) echo string ;;
    true | false) echo bool ;;
    \[*) local e=${1:1}; e=${e#"${e%%[![:space:]]*}"}
         case $e in \"*) echo strings ;; \]*) echo empty ;; *[.eE]*) echo floats ;; *) echo ints ;; esac ;;
    *[.eEn]*) echo float ;;  # 0.3, 1e-3, inf, nan
    *) echo int ;;
  esac
}

cases=$scratch/cases.tsv  # category<TAB>base<TAB>mode<TAB>key<TAB>value
: > "$cases"
add() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$cases"; }

# Lines marked `+` in the lists below run only with CFMA_CONFIG_FUZZ_ALL=1 (about 60 more
# cases, 1.5x the runtime): the default set must stay under 60 s on 2 cores.
all=${CFMA_CONFIG_FUZZ_ALL:-0}
add_listed() {  # category default-base mode < "[+]key[@base] value" lines
  local category=$1 default=$2 mode=$3 spec value key base
  while read -r spec value; do
    [[ -z $spec ]] && continue
    if [[ $spec == +* ]]; then [[ $all == 1 ]] || continue; spec=${spec#+}; fi
    key=${spec%@*}; base=${spec#*@}
    if [[ $base == "$spec" ]]; then
      base=$default; [[ -v in_paper[$key] && ! -v in_demo[$key] ]] && base=paper
    fi
    add "$category" "$base" "$mode" "$key" "$value"
    listed[$category:$key]=1
  done
}
declare -A listed=()

# --- 2. Wrong types. Per kind: a number where a string or an array is expected, a string where
# a number, a boolean or an array of numbers is expected; some lists also get a wrong element.
declare -A numeric=()  # numeric keys of the configs: each needs a case in must_reject
element_cases=" train.seeds data.sources probe.targets run.stages "
for key in "${keys[@]}"; do
  pick_base "$key"
  kind=$(kind_of "${value_of[$key]}")
  case $kind in
    string) add type "$base" file "$key" 42 ;;
    bool) add type "$base" file "$key" '"yes"' ;;
    int | float) add type "$base" file "$key" '"7"'; numeric[$key]=1 ;;
    strings) add type "$base" file "$key" 3 ;;
    ints | floats) add type "$base" file "$key" '"x"'; numeric[$key]=1 ;;
    *) echo "FAILED: $key = ${value_of[$key]}: cannot tell its type; extend kind_of"; exit 1 ;;
  esac
  [[ $all == 1 || $element_cases == *" $key "* ]] || continue
  case $kind in
    # data.sources and data.exclude_families legitimately take names OR integer codes
    # (["acoustic"] or [0]), so an integer element is valid there; a boolean is wrong either way.
    strings) case $key in
               data.sources | data.exclude_families) add type "$base" file "$key" '[true]' ;;
               *) add type "$base" file "$key" '[1]' ;;
             esac ;;
    ints | floats) add type "$base" file "$key" '["a"]' ;;
  esac
done
# The same errors given on the command line name "(--set)"; then README-documented keys that
# neither shipped config sets (numeric ones get their out-of-range case below, which also shows
# that the key is recognised).
add_listed type demo set <<'SET'
train.shuffle@paper "yes"
data.test_fraction [0.3]
extract.reduce.conv1@paper 3
+probe.targets 3
+render.out 42
SET
add_listed type demo file <<'EXTRA'
render.soundfont 42
train.verify_replicas 1
+probe.concat_layer 3
+probe.row_space 1
+probe.layers "conv3"
+probe.sets 3
similarity.sets "all"
+extract.reduce.conv2 42
+extract.reduce.pool2@paper 42
+extract.reduce.conv3 42
+extract.reduce.fc1 42
+slurm.partition 3
+slurm.account 3
+slurm.time 3
+slurm.mem 3
+slurm.extra "x"
+slurm.log_dir 3
slurm.train.extra 3
+slurm.analysis.time 3
EXTRA

# --- 3. Out of range: (key, value) pairs that MUST be rejected with one message naming the key
# (`key@base` picks the base config: default demo, or paper for keys only paper has). First the
# numeric keys of the shipped configs, then README-documented ones.
add_listed range demo file <<'RANGE'
run.threads -1
+run.threads 1025
data.subsample -1
data.subsample_seed -1
+data.subsample_seed 4294967296
data.test_fraction -0.1
data.test_fraction 1.5
+data.test_fraction nan
+data.split_seed -1
data.split_seed 4294967296
data.sources [3]
+data.exclude_families [11]
features.spectral_sr 0
+features.spectral_sr 1000000000
train.seeds [-1]
train.seeds [1, 1]
train.tasks ["family", "family"]
train.architectures ["regular", "regular"]
train.epochs -3
train.epochs 0
data.test_fraction 0.0
data.test_fraction 1.0
train.learning_rate inf
probe.ridge inf
probe.C inf
run.stages []
data.sources []
features.hop_length 100000
features.wavelet_widths []
probe.targets ["family", "family"]
similarity.measures ["linear_cka", "linear_cka"]
+train.epochs 1000000000
train.batch_size 0
+train.batch_size 2000000
train.micro_batch -1
+train.micro_batch 2000000
train.learning_rate 0
+train.learning_rate -0.1
+train.learning_rate nan
train.momentum -0.1
train.momentum 1.5
train.checkpoint_every 0
extract.chunk_rows 0
+extract.chunk_rows 1000000
probe.C 0
+probe.C -1.0
probe.ridge -1.0
probe.logistic_solver "bogus"
+probe.distribute "columns"
+probe.line_search "wolfe"
+probe.sgd_momentum 1.5
+probe.sgd_epochs 0
+probe.control_seed -1
+probe.targets ["timbre"]
data.split "bogus"
+probe.concat_top_k -1
probe.concat_top_k 101
similarity.max_feature_space_dim 0
similarity.minibatch_size 3
similarity.noise_seed -1
report.spectrograms -1
+report.spectrograms 65
+render.programs [128]
+render.pitch_step 0
+render.velocities [0]
+render.velocities_per_pitch 0
+render.gain 0
+render.sample_rate 1000
+render.note_seconds 0
render.note_on_seconds 10.0
+render.silence_threshold 2
+data.n_samples 0
+data.sample_rate 0
+features.sample_rate 0
+features.n_samples 0
features.n_fft 1
+features.hop_length 0
+features.n_mels 0
+features.fmin -1
features.fmax 1e9
+features.top_db -1
+features.amin 0
+features.roll_percent 1.5
+features.wavelet_widths [0]
+features.stats_width 0
+train.threads -1
probe.l2@minimal 0
+probe.tol 0
probe.max_iter 0
+probe.lbfgs_memory 0
+probe.cholesky_max_dim -1
+probe.cg_tol 0
+probe.cg_max_iter 0
+probe.chunk_rows 0
+probe.memory_mb -1
+probe.noise_seed -1
+similarity.chunk_rows 0
+similarity.bootstrap -1
+similarity.permutations -1
+similarity.seed -1
similarity.rank_tolerance 2
+similarity.svcca_keep 1.5
+similarity.svcca_keep 0
+similarity.max_accumulator_gib 0
+slurm.nodes 0
+slurm.ntasks 0
+slurm.cpus_per_task 0
+slurm.array_throttle -1
+slurm.preprocess.ntasks 0
slurm.analysis.cpus_per_task 0
+report.max_annotated_cells -1
report.max_heatmap_cells 0
RANGE
add_listed range demo set <<'SET'
similarity.noise_seed -1
train.batch_size@paper 0
SET
# Not asserted: values that `config check` accepts although they make no sense.
# KNOWN GAP: an empty unknown section (a bare `[bogus_section]` header, no keys) is accepted.
# KNOWN GAP: slurm.time = "forever" and slurm.mem = "lots" are accepted (the strings go to
#            sbatch unchecked).
# Borderline, not asserted: train.momentum = 1.0 is accepted.

# Numeric keys with no bound beyond their natural domain (the domain edge is asserted above):
read -r -d '' no_range <<'NORANGE' || true
data.subsample 0 = all notes; any larger count is legal (the data set is not known at check time)
data.subsample_seed a legacy-numpy seed: any uint32
data.split_seed a legacy-numpy seed: any uint32
train.seeds seeds: any non-negative integer
similarity.noise_seed a seed: any non-negative integer
probe.ridge any non-negative L2 strength (0 = OLS)
similarity.max_feature_space_dim any positive width; wider sets switch to minibatch CKA
NORANGE

while read -r key reason; do
  [[ -n $key ]] || continue
  [[ -v numeric[$key] ]] || { echo "FAILED: no_range lists '$key', which is no numeric key of the configs"; exit 1; }
  [[ -n $reason ]] || { echo "FAILED: no_range lists '$key' without a reason"; exit 1; }
  listed[range:$key]=1
done <<< "$no_range"
for key in "${!numeric[@]}"; do
  [[ -v listed[range:$key] ]] || { echo "FAILED: numeric key $key has no out-of-range case and is not in no_range"; exit 1; }
done

# --- 4. An unknown key in every section (and the documented sections the configs lack), an
# unknown section and an unknown nested table.
for section in "${sections[@]}" slurm slurm.preprocess slurm.train slurm.analysis; do
  if [[ ${section_in[$section]:-} == *demo* && ${section_in[$section]} == *paper* ]]; then
    turn=$((1 - turn)); if (( turn )); then base=demo; else base=paper; fi
  elif [[ ${section_in[$section]:-} == *paper* ]]; then base=paper
  else base=demo
  fi
  add unknown-key "$base" file "$section.bogus_key" 1
done
add unknown-key demo set train.bogus_key 1
add unknown-section demo file bogus_section.bogus_key 1
add unknown-section paper file train.bogus_table.bogus_key '"x"'
add unknown-section paper set bogus_section.bogus_key 1

# --- Run the cases, $jobs at a time. The unmodified copies must pass first: otherwise every case
# would fail for a reason that is not the injected fault.
check() {  # out-log args... -> exit status
  local log=$1; shift
  local status=0
  timeout -k 5 30 "$cfma" config check "$@" > "$log" 2>&1 || status=$?
  return $status
}
for name in demo paper minimal; do
  cp "${base_file[$name]}" "$scratch/baseline-$name.toml"
  if ! check "$scratch/baseline-$name.log" "$scratch/baseline-$name.toml"; then
    echo "FAILED: the unmodified $name config does not pass config check:"; cat "$scratch/baseline-$name.log"; exit 1
  fi
done

run_case() {  # index category base mode key value; returns 1 with $scratch/fail-<index> written
  local i=$1 category=$2 base=$3 mode=$4 key=$5 value=$6
  local file=$scratch/case-$i.toml log=$scratch/case-$i.log line where status=0
  if [[ $mode == file ]]; then
    line=$(edit_config "${base_file[$base]}" "$key" "$value" "$file")
    where="$file:$line"
    check "$log" "$file" || status=$?
  else
    cp "${base_file[$base]}" "$file"
    where="$file (--set)"
    check "$log" "$file" --set "$key=$value" || status=$?
  fi
  local errors problem=""
  errors=$(grep -c '^cfma: error:' "$log" || true)
  local message; message=$(grep -m1 '^cfma: error:' "$log" || true)
  local prefix="cfma: error: $where: " rest keyre=${key//./\\.}
  rest=${message#"$prefix"}
  if (( status == 0 )); then problem="exit status 0"
  elif (( status == 124 )); then problem="timed out (30 s)"
  elif (( status >= 126 )); then problem="exit status $status (crash or signal)"
  elif (( errors != 1 )); then problem="$errors lines starting with 'cfma: error:', expected exactly 1"
  elif [[ $rest == "$message" ]]; then problem="the error does not start with '$prefix' (file and line)"
  else
    case $category in
      type) [[ $rest =~ ^$keyre(\[[0-9]+\])?:\ expected\  ]] || problem="expected '$key: expected <type>...'" ;;
      range) [[ $rest =~ ^$keyre(\[[0-9]+\])?:\  ]] || problem="expected '$key: <problem>'" ;;
      unknown-key | unknown-section)
        [[ $rest == "unknown key '$key'" || $rest =~ ^$keyre:\ unknown\  ]] ||
          problem="expected \"unknown key '$key'\"" ;;
    esac
  fi
  if [[ -n $problem ]]; then
    {
      echo "FAILED: [$category] $key = $value (${base}.toml, $mode): $problem"
      if [[ $mode == file ]]; then echo "  config: $file (line $line: $(sed -n "${line}p" "$file"))"
      else echo "  command: cfma config check $file --set '$key=$value'"; fi
      echo "  exit status $status, output:"; sed 's/^/    /' "$log"
    } > "$scratch/fail-$i"
    touch "$scratch/failed"  # stops the other workers
    return 1
  fi
}

total=$(wc -l < "$cases")
shard() {  # k: runs cases k, k+jobs, ...; stops at its first failure
  local k=$1 i=0 n=0 category base mode key value
  while IFS=$'\t' read -r category base mode key value; do
    if (( i % jobs == k )); then
      [[ -e $scratch/failed ]] && return 1
      run_case "$i" "$category" "$base" "$mode" "$key" "$value" || return 1
      n=$((n + 1))
    fi
    i=$((i + 1))
  done < "$cases"
  echo "$n" > "$scratch/passed-$k"
}
pids=()
for ((k = 0; k < jobs; k++)); do shard "$k" & pids+=($!); done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if (( failed )); then
  cat "$scratch"/fail-* 2>/dev/null || echo "FAILED: a worker stopped without a report"
  exit 1
fi
passed=$(cat "$scratch"/passed-* | awk '{ s += $1 } END { print s + 0 }')
(( passed == total )) || { echo "FAILED: $passed of $total cases ran"; exit 1; }

count() { awk -F'\t' -v c="$1" -v m="${2:-}" '$1 == c && (m == "" || $3 == m) { n++ } END { print n + 0 }' "$cases"; }
echo "config_fuzz: ok: ${#keys[@]} keys in ${#sections[@]} sections of demo.toml and paper.toml;" \
  "baseline 3, wrong type $(count type) ($(count type set) via --set)," \
  "out of range $(count range) ($(count range set) via --set), unknown key $(count unknown-key)," \
  "unknown section $(count unknown-section); $((SECONDS - start)) s on $jobs workers"
