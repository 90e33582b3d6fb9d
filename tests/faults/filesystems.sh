#!/usr/bin/env bash
# Faults of the file system, real processes on 2 ranks over real (tmpfs) file systems:
# 1. Disk full, for each stage: the workdir a stage starts from (reference.sh) on a small
#    tmpfs filled up to a little less than the stage's outputs need. The job ends with one
#    error line naming the file it could not write, leaves no output a later stage accepts,
#    leaves the completed inputs untouched, never crashes (HDF5 once segfaulted in
#    MPI_Finalize here), and completes once space is freed.
# 2. A read-only workdir: one error line naming the file, nothing else.
# Mounting needs root (CAP_SYS_ADMIN): without it the script skips itself (exit 77).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../skip.sh"
rm -rf "$scratch" && mkdir -p "$scratch"
mounts=()
cleanup() { local m; for m in "${mounts[@]}"; do umount "$m" 2> /dev/null || true; done; }
trap cleanup EXIT
mount_tmpfs() {  # dir, size, [ro]
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2${3:+,$3}" tmpfs "$1" 2> /dev/null || return 1
  mounts+=("$1")
}
if ! mount_tmpfs "$scratch/probe-mount" 1m; then
  skip_test "$build" "cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): disk-full and read-only workdirs untested"
fi
umount "$scratch/probe-mount" && mounts=()

free_kib() { df -k --output=avail "$1" | tail -1 | tr -d ' '; }
# Bytes a stage adds to its workdir (its outputs, from the reference).
output_kib() {  # stage
  local a b
  a=$(du -sk "$(before "$1")" | cut -f1)
  b=$(du -sk "$reference/after-$1" | cut -f1)
  echo $(( b - a ))
}

for stage in "${stages[@]}"; do
  dir=$scratch/$stage
  need=$(output_kib "$stage")
  inputs=$(du -sk "$(before "$stage")" | cut -f1)
  # Room for the stage's scratch too (the similarity stage keeps its reduced sums, ~70 MiB here).
  mount_tmpfs "$dir" "$(( inputs + need + 256 * 1024 ))k" || fail "mount for $stage"
  prepare "$dir" "$stage"
  # Leave a quarter of what the stage writes (at least the lock file's page, at most 256 KiB).
  leave=$(( need / 4 )); (( leave < 8 )) && leave=8; (( leave > 256 )) && leave=256
  fallocate -l "$(( ($(free_kib "$dir") - leave) * 1024 ))" "$dir/filler"
  sums=$(inputs_checksum "$dir/work")
  rc=0
  start=$(date +%s%N)
  timeout 120 mpirun --oversubscribe --bind-to none -np 2 "$cfma" "$stage" "$dir/config.toml" > "$dir/full.log" 2>&1 || rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [[ $rc -ne 0 ]] || { cat "$dir/full.log"; fail "$stage on a full disk exited 0 (it needs ${need} KiB, ${leave} KiB were free)"; }
  [[ $rc -ne 124 ]] || { cat "$dir/full.log"; fail "$stage on a full disk hung"; }
  if grep -q "Segmentation fault\|Process received signal" "$dir/full.log"; then cat "$dir/full.log"; fail "$stage crashed on a full disk"; fi
  [[ $(grep -c '^cfma: error:' "$dir/full.log") -eq 1 ]] || { cat "$dir/full.log"; fail "$stage: not exactly one error line"; }
  grep '^cfma: error:' "$dir/full.log" | grep -q "$dir/work" \
    || { cat "$dir/full.log"; fail "$stage: the error does not name a file of the workdir"; }
  [[ ! -e $dir/work/$(done_marker "$stage") ]] || fail "$stage on a full disk left $(done_marker "$stage")"
  inputs_untouched "$dir/work" "$sums"
  echo "$stage, disk full: $(grep '^cfma: error:' "$dir/full.log") (after $ms ms)"
  rm "$dir/filler"
  rerun_and_compare "$dir" "$stage" "$dir/rerun.log"
  umount "$dir" && unset 'mounts[-1]'
done

# A read-only workdir (the finished study: nothing to do, but a job must still take the lock).
dir=$scratch/read-only
mkdir -p "$dir"
write_config "$dir/config.toml" "$dir/work"
mount_tmpfs "$dir/work" 64m || fail "mount for read-only"
cp -a "$reference/after-train/." "$dir/work/"
mount -o remount,ro "$dir/work"
rc=0
mpi "$cfma" run "$dir/config.toml" > "$dir/ro.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || { cat "$dir/ro.log"; fail "run on a read-only workdir exited 0"; }
[[ $(grep -c '^cfma: error:' "$dir/ro.log") -eq 1 ]] || { cat "$dir/ro.log"; fail "read-only: not exactly one error line"; }
grep -q "^cfma: error: .*$dir/work.*Read-only file system" "$dir/ro.log" || { cat "$dir/ro.log"; fail "read-only: the error does not name the file and the cause"; }
echo "read-only workdir: $(grep '^cfma: error:' "$dir/ro.log")"
